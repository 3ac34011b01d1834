/**
 * Dispatching one contract call: ask the gate (session and role), validate
 * the input, ask the gate about the data the input names (provider/region),
 * run the service's handler, validate its output. The Electron IPC
 * registration (main/shell) and the loopback bridge (main/bridge) both call
 * `dispatch`, so a call behaves the same over either transport.
 *
 * The gate travels with the handlers: the composition root hands out
 * `guard(handlers, gate)`, and every transport that dispatches those
 * handlers gets the checks without knowing about them. Handlers without a
 * gate (unit tests of the transports) are dispatched as they are.
 */
import { type z } from 'zod';
import {
  contract,
  type CallError,
  type CallResult,
  type CallInput,
  type CallOutput,
  type Channel,
} from '#preload/api.js';

export interface CallContext {
  transport: 'ipc' | 'bridge';
  /** Who the gate let in (null: a call that needs no session, made without one). Set by `dispatch`. */
  principal?: Principal | null;
}

/** The user a call runs for, as the gate admitted them. */
export interface Principal {
  userId: string;
  roles: readonly { role: string; providerId: string }[];
}

/**
 * Who may call what, asked by `dispatch` before every handler. Both methods
 * throw a ServiceError to refuse (its code and message key reach the caller).
 */
export interface Gate {
  /** Before the input is read: may the session (or no session) call this channel now? */
  admit(channel: Channel, ctx: CallContext): Principal | null;
  /** After the input is validated: is the data it names (applications…) within the principal's reach? */
  inScope?<C extends Channel>(channel: C, input: HandlerInput<C>, principal: Principal | null): void;
}

/** A call's input as its handler receives it: validated, defaults applied. */
export type HandlerInput<C extends Channel> = z.output<(typeof contract)[C]['input']>;

/** A handler receives the parsed input (defaults applied) and returns the output. */
export type Handler<C extends Channel> = (
  input: HandlerInput<C>,
  ctx: CallContext,
) => CallOutput<C> | Promise<CallOutput<C>>;

export type Handlers = { [C in Channel]: Handler<C> };

const GATE: unique symbol = Symbol('qyzmet.gate');
type Guarded = Handlers & { [GATE]?: Gate };

/** The handlers with `gate` attached: `dispatch` asks it before each call (copies made with spread keep it). */
export function guard(handlers: Handlers, gate: Gate): Handlers {
  return { ...handlers, [GATE]: gate } as Guarded;
}

/** The gate `guard` attached, if any. */
export function gateOf(handlers: Handlers): Gate | null {
  return (handlers as Guarded)[GATE] ?? null;
}

/** An error a service raises on purpose: its code and i18n key reach the user. */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
    readonly messageKey: string,
    readonly details?: Record<string, string>,
  ) {
    super(code);
    this.name = 'ServiceError';
  }
}

export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && Object.hasOwn(contract, name);
}

export interface DispatchLog {
  error(message: string, fields: Record<string, unknown>): void;
}

const consoleLog: DispatchLog = {
  error: (message, fields) => console.error(message, fields),
};

function refusal(err: unknown): { ok: false; error: CallError } | null {
  if (!(err instanceof ServiceError)) return null;
  return {
    ok: false,
    error: { code: err.code, messageKey: err.messageKey, ...(err.details ? { details: err.details } : {}) },
  };
}

function issuePaths(error: z.ZodError): Record<string, string> {
  const details: Record<string, string> = {};
  for (const issue of error.issues.slice(0, 10)) {
    details[issue.path.join('.') || '(root)'] = issue.code;
  }
  return details;
}

export async function dispatch<C extends Channel>(
  handlers: Handlers,
  channel: C,
  rawInput: unknown,
  ctx: CallContext,
  log: DispatchLog = consoleLog,
): Promise<CallResult<C>> {
  const spec = contract[channel];
  const gate = gateOf(handlers);
  let principal: Principal | null = null;
  if (gate) {
    try {
      principal = gate.admit(channel, ctx);
    } catch (err) {
      const refused = refusal(err);
      if (refused) return refused;
      log.error('gate failed', { channel, error: err instanceof Error ? err.message : String(err) });
      return { ok: false, error: { code: 'internal', messageKey: 'errors.internal' } };
    }
  }
  const parsed = spec.input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    return {
      ok: false,
      error: { code: 'invalid_input', messageKey: 'errors.invalidInput', details: issuePaths(parsed.error) },
    };
  }
  let value: unknown;
  try {
    const input = parsed.data as HandlerInput<C>;
    gate?.inScope?.(channel, input, principal);
    const handler = handlers[channel] as Handler<C>;
    value = await handler(input, gate ? { ...ctx, principal } : ctx);
  } catch (err) {
    const refused = refusal(err);
    if (refused) return refused;
    // Never pass internals (stack, SQL, paths) to the renderer; log them here.
    log.error('call failed', { channel, error: err instanceof Error ? err.message : String(err) });
    return { ok: false, error: { code: 'internal', messageKey: 'errors.internal' } };
  }
  const checked = spec.output.safeParse(value);
  if (!checked.success) {
    log.error('handler output does not fit the contract', { channel, details: issuePaths(checked.error) });
    return { ok: false, error: { code: 'internal', messageKey: 'errors.internal' } };
  }
  return { ok: true, value: checked.data as CallOutput<C> };
}

export type { CallInput, CallOutput, CallResult, Channel };
