/**
 * Login through the central server over HTTP: the `OnlineAuth` of
 * online.ts on the endpoints /v1/auth/challenge and /v1/auth/check
 * (server/src/routes/auth.ts), with the device's access token.
 *
 * Whatever keeps the server from answering is `OnlineUnreachable` (the
 * caller falls back to the offline rules), never a crash: no token (not
 * enrolled), a network error, a timeout, a 5xx or any other non-2xx status,
 * an answer that does not fit its zod schema. A 401 gets a fresh token once
 * and the call is made again. Any answer that fits is a verdict.
 *
 * The password goes into the request body and nowhere else: nothing here
 * logs a request.
 */
import type { ZodType } from 'zod';
import { challengeAnswer, checkAnswer, type CheckRequest } from '#core/protocol.js';
import { serverTransport, serverUrlProblem, tlsFailureOf, type ServerTransport } from '../net/transport.js';
import {
  OnlineUnreachable,
  OnlineWait,
  type OnlineAuth,
  type OnlineChallenge,
  type OnlineCheck,
  type OnlineVerdict,
} from './online.js';

export interface HttpOnlineAuthOptions {
  /** The central server, e.g. https://qyzmet.example.kz (no trailing path). */
  baseUrl: string;
  /** The device's current access token; null when the device is not enrolled. */
  accessToken(): Promise<string | null>;
  /** A new access token after a 401 (from the device secret); null when none can be had. */
  refreshToken(): Promise<string | null>;
  /** Default: the HTTPS transport over the system roots (main/app.ts gives the sync client's, with its pinned CA). */
  fetch?: typeof fetch;
  /** For one whole exchange, answer read included (default 15 s: past the server's longest failure delay). */
  timeoutMs?: number;
}

export const DEFAULT_ONLINE_TIMEOUT_MS = 15_000;

let defaultTransport: ServerTransport | null = null;

const base64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** The wire request for a check. */
export function checkRequestOf(request: OnlineCheck): CheckRequest {
  switch (request.kind) {
    case 'password':
      return {
        kind: 'password',
        login: request.login,
        password: Buffer.from(
          request.password.buffer,
          request.password.byteOffset,
          request.password.byteLength,
        ).toString('utf8'),
      };
    case 'eds':
      return {
        kind: 'eds',
        nonce: request.challenge.nonce,
        issuedAt: request.challenge.issuedAt,
        expiresAt: request.challenge.expiresAt,
        signed: base64(request.signed),
        signature: base64(request.signature),
        certificate: base64(request.certificate),
      };
    case 'recheck':
      return { kind: 'recheck', userId: request.userId };
  }
}

export class HttpOnlineAuth implements OnlineAuth {
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly baseUrl: string;

  constructor(private readonly options: HttpOnlineAuthOptions) {
    this.fetch = options.fetch ?? (defaultTransport ??= serverTransport()).fetch;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_ONLINE_TIMEOUT_MS;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  async challenge(_deviceId: string): Promise<OnlineChallenge> {
    // The server binds the challenge to the device of the access token.
    const answer = await this.call('/v1/auth/challenge', {}, challengeAnswer);
    return { nonce: answer.nonce, issuedAt: answer.issuedAt, expiresAt: answer.expiresAt };
  }

  async check(request: OnlineCheck): Promise<OnlineVerdict> {
    const answer = await this.call('/v1/auth/check', checkRequestOf(request), checkAnswer);
    if (answer.ok)
      return answer.key ? { ok: true, user: answer.user, key: answer.key } : { ok: true, user: answer.user };
    return answer.detail === undefined
      ? { ok: false, reason: answer.reason }
      : { ok: false, reason: answer.reason, detail: answer.detail };
  }

  private async token(get: () => Promise<string | null>, missing: string): Promise<string> {
    let token: string | null;
    try {
      token = await get();
    } catch (err) {
      throw new OnlineUnreachable(`no access token (${err instanceof Error ? err.message : String(err)})`);
    }
    if (!token) throw new OnlineUnreachable(missing);
    return token;
  }

  /** POSTs `body` with the access token (a fresh one once after a 401); the answer as `schema` reads it. */
  private async call<T>(path: string, body: unknown, schema: ZodType<T>): Promise<T> {
    const text = JSON.stringify(body);
    let token = await this.token(() => this.options.accessToken(), 'not enrolled');
    let answer = await this.exchange(path, text, token);
    if (answer.status === 401) {
      token = await this.token(() => this.options.refreshToken(), 'unauthorized');
      answer = await this.exchange(path, text, token);
      if (answer.status === 401) throw new OnlineUnreachable('unauthorized');
    }
    if (answer.status === 429 && answer.code === 'too_many_attempts') {
      // The server counts failed passwords: the user waits, no offline try in the meantime.
      const wait = (answer.json as { retryAfterMs?: unknown }).retryAfterMs;
      throw new OnlineWait(typeof wait === 'number' && wait > 0 ? wait : 1000);
    }
    if (answer.status < 200 || answer.status > 299) {
      throw new OnlineUnreachable(`HTTP ${answer.status}${answer.code ? ` ${answer.code}` : ''}`);
    }
    const parsed = schema.safeParse(answer.json);
    if (!parsed.success) throw new OnlineUnreachable('malformed answer');
    return parsed.data;
  }

  /** One request and its whole answer, within the timeout. */
  private async exchange(
    path: string,
    body: string,
    token: string,
  ): Promise<{ status: number; json: unknown; code: string | null }> {
    // A plain http:// address to another machine: the password is not sent (offline rules apply).
    if (serverUrlProblem(this.baseUrl)) throw new OnlineUnreachable('insecure-url');
    const signal = AbortSignal.timeout(this.timeoutMs);
    let status: number;
    let text: string;
    try {
      const res = await this.fetch(this.baseUrl + path, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
          Authorization: `Bearer ${token}`,
        },
        body,
        signal,
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const timedOut = signal.aborted || (err instanceof Error && err.name === 'TimeoutError');
      // A certificate that fails its check says which (the sync status shows the same in words).
      throw new OnlineUnreachable(timedOut ? 'timeout' : (tlsFailureOf(err) ?? 'network error'));
    }
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON: a verdict it is not (the status or the schema says so).
    }
    const code = (json as { error?: unknown } | null)?.error;
    return { status, json, code: typeof code === 'string' ? code : null };
  }
}

export function httpOnlineAuth(options: HttpOnlineAuthOptions): OnlineAuth {
  return new HttpOnlineAuth(options);
}
