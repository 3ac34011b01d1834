/**
 * The workstation's side of the sync protocol (core/protocol.ts) over
 * HTTP: one method per endpoint, a time limit on every request, and every
 * answer validated with the protocol's zod schemas. Whatever goes wrong comes
 * back as a `SyncError` with a kind the engine acts on (back off, refresh the
 * token, stop as revoked, resend from the server's seq), never as a crash:
 * a cut or non-JSON body is 'malformed', a body that does not fit too.
 *
 * A request that fails before any answer is sent once more at once (a
 * kept-alive connection the server closed meanwhile); then it is 'network'.
 *
 * The address must be https:// (http:// only to this machine) and the
 * default transport checks the server's certificate (main/net/transport.ts):
 * a refused address is 'insecure-url', a certificate that fails its check
 * 'tls-untrusted', 'tls-expired' or 'tls-hostname', each sent at once, never
 * sent again (no connection will fix it).
 *
 * Every answer's `serverTime` gives the clock offset (local midpoint of the
 * request minus the server's time); the engine shows a clock more than five
 * minutes off and never orders anything by the local clock.
 */
import type { z } from 'zod';
import {
  enrolAnswer,
  errorBody,
  healthAnswer,
  pullAnswer,
  pushAnswer,
  snapshotLine,
  tokenAnswer,
  type ErrorBody,
  type PullAnswer,
  type PushAnswer,
  type PushRequest,
  type SnapshotLine,
} from '#core/protocol.js';
import {
  insecureUrlMessage,
  serverTransport,
  serverUrlProblem,
  tlsFailureOf,
  TLS_FAILURE_MESSAGES,
  type ServerTransport,
} from '../net/transport.js';

export type SyncErrorKind =
  | 'network'
  | 'timeout'
  | 'server'
  | 'unauthorized'
  | 'revoked'
  | 'gap'
  | 'protocol'
  | 'malformed'
  | 'rejected-request'
  /** The address is plain http:// to another machine: nothing is sent. */
  | 'insecure-url'
  /** The server's certificate: not from the trusted (pinned) CA, out of its validity, for another host name. */
  | 'tls-untrusted'
  | 'tls-expired'
  | 'tls-hostname';

/** Kinds worth another try later (with backoff): the server or the way to it failed, not the request. */
export const TRANSIENT_KINDS: ReadonlySet<SyncErrorKind> = new Set(['network', 'timeout', 'server', 'malformed']);

export class SyncError extends Error {
  constructor(
    readonly kind: SyncErrorKind,
    message: string,
    readonly details: {
      status?: number;
      /** The server's stable error code (protocol.ts errorBody.error). */
      code?: string;
      /** With 'gap': the seq the server expects next. */
      expectedSeq?: number;
    } = {},
  ) {
    super(message);
    this.name = 'SyncError';
  }

  get transient(): boolean {
    return TRANSIENT_KINDS.has(this.kind);
  }
}

/** The engine is stopping: a run gives up where it is (nothing half-taken; not a failure). */
export class SyncStopped extends Error {
  constructor() {
    super('sync stopped');
    this.name = 'SyncStopped';
  }
}

export type EnrolAnswer = z.infer<typeof enrolAnswer>;
export type TokenAnswer = z.infer<typeof tokenAnswer>;
export type HealthAnswer = z.infer<typeof healthAnswer>;

export interface ClientOptions {
  serverUrl: string;
  /** Default: the HTTPS transport over the system roots (main/app.ts gives one with the pinned CA). */
  fetch?: typeof fetch;
  now?: () => number;
  /** Limit of one request (a snapshot: of the wait for each next chunk). Default 30 s. */
  timeoutMs?: number;
  /** Each answer's clock offset: local midpoint of the request minus serverTime (ms, + = ahead). */
  onClock?: (offsetMs: number) => void;
  /** Whether the last request reached the server (any HTTP answer) or not (network, timeout). */
  onReach?: (reached: boolean) => void;
}

/** The transport of a client given no fetch: one for the process (its kept-alive connections shared). */
let defaultTransport: ServerTransport | null = null;

/** The longest NDJSON line a snapshot may send (a signature row carries its document). */
const MAX_LINE_CHARS = 96 * 1024 * 1024;

interface Call {
  method: 'GET' | 'POST';
  path: string;
  token?: string;
  body?: unknown;
  beforeSend?: () => void;
}

export class SyncClient {
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  /** A refused address: every call fails before sending. */
  private readonly insecure: boolean;

  constructor(private readonly o: ClientOptions) {
    this.fetch = o.fetch ?? (defaultTransport ??= serverTransport()).fetch;
    this.now = o.now ?? Date.now;
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.insecure = serverUrlProblem(o.serverUrl) !== null;
  }

  get serverUrl(): string {
    return this.o.serverUrl;
  }

  health(): Promise<HealthAnswer> {
    return this.json({ method: 'GET', path: '/health' }, healthAnswer);
  }

  enrol(body: {
    deviceId: string;
    name: string;
    providerId: string;
    login: string;
    password: string;
    protocolVersion: number;
  }): Promise<EnrolAnswer> {
    return this.json({ method: 'POST', path: '/v1/devices/enrol', body }, enrolAnswer);
  }

  token(deviceId: string, deviceSecret: string): Promise<TokenAnswer> {
    return this.json({ method: 'POST', path: '/v1/devices/token', body: { deviceId, deviceSecret } }, tokenAnswer);
  }

  /** `beforeSend` runs before each sending of the request (the one sent once more at once included). */
  push(token: string, body: PushRequest, beforeSend?: () => void): Promise<PushAnswer> {
    return this.json({ method: 'POST', path: '/v1/push', token, body, beforeSend }, pushAnswer);
  }

  pull(token: string, partition: string, cursor: string | null, limit: number): Promise<PullAnswer> {
    const q = new URLSearchParams({ partition, limit: String(limit) });
    if (cursor !== null) q.set('cursor', cursor);
    return this.json({ method: 'GET', path: `/v1/pull?${q.toString()}`, token }, pullAnswer);
  }

  /**
   * GET /v1/snapshot as NDJSON: each line validated and handed to `onLine`
   * in order, read as it arrives (memory stays bounded by one chunk and one
   * line). `onLine` may return a promise: reading waits for it. A stream cut
   * before its trailer, a line that is not JSON or does not fit: 'malformed'.
   */
  async snapshot(
    token: string,
    partition: string,
    onLine: (line: SnapshotLine) => void | Promise<void>,
  ): Promise<void> {
    const q = new URLSearchParams({ partition });
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(new DOMException('idle', 'TimeoutError')), this.timeoutMs);
    };
    arm();
    const started = this.now();
    try {
      const res = await this.send({ method: 'GET', path: `/v1/snapshot?${q.toString()}`, token }, abort.signal);
      const headersAt = this.now();
      if (!res.ok) {
        const text = await this.readText(res);
        throw this.failure(res.status, text, started);
      }
      if (!res.body) throw new SyncError('malformed', 'snapshot without a body');
      let ended = false;
      const handle = async (text: string) => {
        if (text.trim() === '') return;
        if (ended) throw new SyncError('malformed', 'snapshot: lines after its trailer');
        const line = parseWith(snapshotLine, text, 'snapshot line');
        if (line.kind === 'header') this.clock(started, headersAt, line.serverTime);
        if (line.kind === 'end') ended = true;
        await onLine(line);
      };
      const reader = res.body.getReader();
      const decoder = new TextDecoder('utf-8', { fatal: true });
      let buffered = '';
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
          buffered += chunk.done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
        } catch (e) {
          throw this.bodyFailure(e);
        }
        if (chunk.done) break;
        arm();
        let nl = buffered.indexOf('\n');
        while (nl >= 0) {
          const text = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          await handle(text);
          arm();
          nl = buffered.indexOf('\n');
        }
        if (buffered.length > MAX_LINE_CHARS) throw new SyncError('malformed', 'snapshot: a line over the limit');
      }
      await handle(buffered);
      if (!ended) throw new SyncError('malformed', 'snapshot cut before its trailer');
    } finally {
      clearTimeout(timer);
      // Closes the connection when the reader stopped early (a failed apply, a bad line).
      abort.abort();
    }
  }

  /** GET a binary resource (a CRL's DER). */
  async bytes(token: string, path: string): Promise<Buffer> {
    const started = this.now();
    const res = await this.send({ method: 'GET', path, token }, AbortSignal.timeout(this.timeoutMs));
    let body: Buffer;
    try {
      body = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      throw this.bodyFailure(e);
    }
    if (!res.ok) throw this.failure(res.status, body.toString('utf8'), started);
    return body;
  }

  private async json<T>(call: Call, schema: z.ZodType<T>): Promise<T> {
    const started = this.now();
    const res = await this.send(call, AbortSignal.timeout(this.timeoutMs));
    const text = await this.readText(res);
    const ended = this.now();
    if (!res.ok) throw this.failure(res.status, text, started, ended);
    const answer = parseWith(schema, text, `answer of ${call.method} ${call.path.replace(/\?.*/, '')}`);
    const serverTime = (answer as { serverTime?: unknown }).serverTime;
    if (typeof serverTime === 'number') this.clock(started, ended, serverTime);
    return answer;
  }

  private async send(call: Call, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (call.token) headers.Authorization = `Bearer ${call.token}`;
    if (call.body !== undefined) headers['Content-Type'] = 'application/json';
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    // Before anything is sent: a password or a device secret never goes out in clear.
    if (this.insecure) throw new SyncError('insecure-url', insecureUrlMessage(this.o.serverUrl));
    for (let attempt = 1; ; attempt++) {
      try {
        call.beforeSend?.();
        const res = await this.fetch(new URL(call.path, this.o.serverUrl), {
          method: call.method,
          headers,
          body,
          signal,
        });
        this.o.onReach?.(true);
        return res;
      } catch (e) {
        const tls = tlsFailureOf(e);
        if (tls) {
          this.o.onReach?.(false);
          throw new SyncError(tls, TLS_FAILURE_MESSAGES[tls]);
        }
        if (isInsecureUrl(e)) throw new SyncError('insecure-url', insecureUrlMessage(this.o.serverUrl));
        // Failed before any answer: most often a kept-alive connection the server had closed
        // while this process was busy. Once more on a new one (every call here may be repeated:
        // a push is taken once by its seqs).
        if (attempt < 2 && !isTimeout(e) && !signal.aborted) continue;
        this.o.onReach?.(false);
        if (isTimeout(e)) throw new SyncError('timeout', `no answer from the server within ${this.timeoutMs} ms`);
        throw new SyncError('network', `cannot reach the server: ${reason(e)}`);
      }
    }
  }

  private async readText(res: Response): Promise<string> {
    try {
      return await res.text();
    } catch (e) {
      throw this.bodyFailure(e);
    }
  }

  /** The body stopped before its end (connection dropped, cut answer) or came too late. */
  private bodyFailure(e: unknown): SyncError {
    if (e instanceof SyncError) return e;
    if (isTimeout(e)) return new SyncError('timeout', `the server's answer stalled for ${this.timeoutMs} ms`);
    return new SyncError('malformed', `the server's answer was cut: ${reason(e)}`);
  }

  private failure(status: number, text: string, started: number, ended = this.now()): SyncError {
    let body: ErrorBody | null = null;
    try {
      const parsed = errorBody.safeParse(JSON.parse(text));
      if (parsed.success) body = parsed.data;
    } catch {
      // Not JSON: a proxy's page, a cut answer. Judged by the status alone.
    }
    if (body?.serverTime !== undefined) this.clock(started, ended, body.serverTime);
    const code = body?.error;
    const detail = body?.message ? `: ${body.message}` : '';
    const what = `${status}${code ? ` ${code}` : ''}${detail}`;
    if (status === 401) {
      return code === 'device_revoked'
        ? new SyncError('revoked', `this workstation was revoked by the server (${what})`, { status, code })
        : new SyncError('unauthorized', `not authorised (${what})`, { status, code });
    }
    if (status === 409 && code === 'gap') {
      if (body?.expectedSeq === undefined || body.expectedSeq < 1) {
        return new SyncError('malformed', `a gap answer without the seq expected (${what})`, { status, code });
      }
      return new SyncError('gap', `the server expects seq ${body.expectedSeq} (${what})`, {
        status,
        code,
        expectedSeq: body.expectedSeq,
      });
    }
    if (status === 426 || code === 'protocol_unsupported') {
      return new SyncError('protocol', `the server does not speak this protocol version (${what})`, { status, code });
    }
    if (status >= 500) return new SyncError('server', `server error (${what})`, { status, code });
    return new SyncError('rejected-request', `the server refused the request (${what})`, { status, code });
  }

  private clock(started: number, ended: number, serverTime: number): void {
    this.o.onClock?.(Math.round((started + ended) / 2) - serverTime);
  }
}

/** `text` as JSON that fits `schema`, else SyncError('malformed'). */
export function parseWith<T>(schema: z.ZodType<T>, text: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SyncError('malformed', `${what} is not JSON (${text.length} characters)`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SyncError(
      'malformed',
      `${what} does not fit the protocol (${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''})`,
    );
  }
  return parsed.data;
}

function isTimeout(e: unknown): boolean {
  return e instanceof Error && e.name === 'TimeoutError';
}

function isInsecureUrl(e: unknown): boolean {
  const cause = (e as { cause?: { code?: unknown } } | null)?.cause;
  return cause?.code === 'ERR_QYZMET_INSECURE_URL';
}

function reason(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
}
