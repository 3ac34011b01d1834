/**
 * Dispatching one contract call: validate the input, run the service's
 * handler, validate its output. The Electron IPC registration (main/shell)
 * and the loopback bridge (main/bridge) both call `dispatch`, so a call
 * behaves the same over either transport.
 */
import { type z } from 'zod';
import { contract, type CallResult, type CallInput, type CallOutput, type Channel } from '../preload/api.js';

export interface CallContext {
  transport: 'ipc' | 'bridge';
}

/** A handler receives the parsed input (defaults applied) and returns the output. */
export type Handler<C extends Channel> = (
  input: z.output<(typeof contract)[C]['input']>,
  ctx: CallContext,
) => CallOutput<C> | Promise<CallOutput<C>>;

export type Handlers = { [C in Channel]: Handler<C> };

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
  const parsed = spec.input.safeParse(rawInput ?? {});
  if (!parsed.success) {
    return {
      ok: false,
      error: { code: 'invalid_input', messageKey: 'errors.invalidInput', details: issuePaths(parsed.error) },
    };
  }
  let value: unknown;
  try {
    const handler = handlers[channel] as Handler<C>;
    value = await handler(parsed.data as z.output<(typeof contract)[C]['input']>, ctx);
  } catch (err) {
    if (err instanceof ServiceError) {
      return {
        ok: false,
        error: { code: err.code, messageKey: err.messageKey, ...(err.details ? { details: err.details } : {}) },
      };
    }
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
