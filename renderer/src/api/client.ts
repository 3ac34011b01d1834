/**
 * The renderer's way to main: `call(channel, input)`. In Electron the preload
 * exposes `window.qyzmet`; in the browser harness the same calls go to the
 * loopback bridge with the per-run secret that arrived in the URL fragment.
 */
import {
  API_GLOBAL,
  type CallError,
  type CallInput,
  type CallOutput,
  type CallResult,
  type Channel,
  type RawApi,
} from '#preload/api.js';

/** A call that main answered with an error; `messageKey` names its text in the i18n catalogues. */
export class CallFailure extends Error {
  constructor(readonly error: CallError) {
    super(error.code);
    this.name = 'CallFailure';
  }
}

const SECRET_KEY = 'qyzmet.bridge.secret';

/** Takes the secret out of `#bridge=…` (and out of the address bar) into this tab's session storage. */
export function bridgeSecret(): string | null {
  const match = /(?:^#|&)bridge=([0-9a-f]{16,128})/.exec(window.location.hash);
  if (match?.[1]) {
    sessionStorage.setItem(SECRET_KEY, match[1]);
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }
  return sessionStorage.getItem(SECRET_KEY);
}

function bridgeTransport(secret: string): RawApi {
  return new Proxy({} as RawApi, {
    get: (_t, channel: string) => async (input: unknown) => {
      const res = await fetch(`/rpc/${encodeURIComponent(channel)}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${secret}` },
        body: JSON.stringify(input ?? {}),
      });
      if (res.status === 401 || res.status === 403) {
        return { ok: false, error: { code: 'bridge_refused', messageKey: 'errors.bridgeRefused' } };
      }
      return (await res.json()) as unknown;
    },
  });
}

function transport(): RawApi | null {
  const exposed = (window as unknown as Record<string, unknown>)[API_GLOBAL];
  if (exposed) return exposed as RawApi;
  const secret = bridgeSecret();
  return secret ? bridgeTransport(secret) : null;
}

let cached: RawApi | null | undefined;

export function isConnected(): boolean {
  if (cached === undefined) cached = transport();
  return cached !== null;
}

export async function call<C extends Channel>(channel: C, input: CallInput<C>): Promise<CallOutput<C>> {
  if (cached === undefined) cached = transport();
  if (!cached) throw new CallFailure({ code: 'no_transport', messageKey: 'errors.noTransport' });
  let result: CallResult<C>;
  try {
    result = (await cached[channel](input)) as CallResult<C>;
  } catch {
    throw new CallFailure({ code: 'unreachable', messageKey: 'errors.unreachable' });
  }
  if (!result.ok) throw new CallFailure(result.error);
  return result.value;
}
