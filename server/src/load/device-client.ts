/**
 * A workstation reduced to its wire protocol: enrolment, access tokens, push
 * and pull over HTTP, every answer validated with protocol.ts. The load run
 * drives hundreds of these at once (no SQLite behind them), and the fault
 * suite uses one as "another device" writing to the same office.
 *
 * Push retries what a real workstation retries (network errors, 5xx, 401
 * after a fresh token), resending the same changes from the seq the server
 * expects, so a lost answer becomes a duplicate the server skips.
 */
import { randomUUID } from 'node:crypto';
import type { ZodType } from 'zod';
import {
  checkAnswer,
  enrolAnswer,
  errorBody,
  PROTOCOL_VERSION,
  pullAnswer,
  pushAnswer,
  tokenAnswer,
  type Change,
  type PullAnswer,
  type PushAnswer,
  type PushResult,
} from '#core/protocol.js';
import { KeyRing } from '../testing/keys.js';

/** A call that failed: `status` 0 for a network error, a timeout or an answer that does not fit. */
export class DeviceCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: Record<string, unknown> | null = null,
  ) {
    super(message);
    this.name = 'DeviceCallError';
  }
}

export interface DeviceClientOptions {
  serverUrl: string;
  fetch?: typeof fetch;
  /** Per request. Default 30 s; 0: none here (the given `fetch` sets its own). */
  timeoutMs?: number;
  protocolVersion?: number;
}

export interface EnrolInput {
  providerId: string;
  login: string;
  password: string;
  name?: string;
  deviceId?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class DeviceClient {
  deviceId = '';
  providerId = '';
  partitions: string[] = [];
  private secret = '';
  /** The keys of the users logged in online here: each change goes with its author's MAC. */
  keys = new KeyRing('');
  private token: { value: string; expiresAt: number } | null = null;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  readonly protocolVersion: number;

  constructor(private readonly o: DeviceClientOptions) {
    this.fetch = o.fetch ?? fetch;
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.protocolVersion = o.protocolVersion ?? PROTOCOL_VERSION;
  }

  /**
   * One request: its answer validated by `schema`; anything else a
   * DeviceCallError. A 429 or 503 that says when to come back (the server's
   * guard of password tries: one try of a login at a time, a cap on hashes)
   * is waited out and sent again, a bounded number of times.
   */
  private async call<T>(method: string, path: string, schema: ZodType<T>, body?: unknown, auth = true): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.callOnce(method, path, schema, body, auth);
      } catch (e) {
        const wait = e instanceof DeviceCallError ? e.body?.retryAfterMs : undefined;
        if (typeof wait !== 'number' || attempt >= 50 || !(e as DeviceCallError).status.toString().match(/^(429|503)$/))
          throw e;
        await sleep(Math.min(wait, 2_000));
      }
    }
  }

  private async callOnce<T>(method: string, path: string, schema: ZodType<T>, body?: unknown, auth = true): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (auth) headers.authorization = `Bearer ${await this.accessToken()}`;
    let res: Response;
    let text: string;
    try {
      res = await this.fetch(new URL(path, this.o.serverUrl), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        ...(this.timeoutMs > 0 ? { signal: AbortSignal.timeout(this.timeoutMs) } : {}),
      });
      text = await res.text();
    } catch (e) {
      const cause = (e as Error).cause as Error | undefined;
      throw new DeviceCallError(
        0,
        'network',
        `${method} ${path}: ${(e as Error).message}${cause ? ` (${cause.message})` : ''}`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new DeviceCallError(res.ok ? 0 : res.status, 'malformed', `${method} ${path}: answer is not JSON`);
    }
    if (!res.ok) {
      const err = errorBody.safeParse(json);
      const code = err.success ? err.data.error : 'malformed';
      throw new DeviceCallError(
        res.status,
        code,
        `${method} ${path}: ${res.status} ${code}`,
        err.success ? err.data : null,
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new DeviceCallError(0, 'malformed', `${method} ${path}: answer does not fit`);
    return parsed.data;
  }

  async enrol(input: EnrolInput): Promise<void> {
    const deviceId = input.deviceId ?? randomUUID();
    const answer = await this.call(
      'POST',
      '/v1/devices/enrol',
      enrolAnswer,
      {
        deviceId,
        name: input.name ?? `load ${deviceId.slice(0, 8)}`,
        providerId: input.providerId,
        login: input.login,
        password: input.password,
        protocolVersion: this.protocolVersion,
      },
      false,
    );
    this.deviceId = answer.deviceId;
    this.providerId = answer.providerId;
    this.partitions = answer.partitions;
    this.secret = answer.deviceSecret;
    this.token = null;
    this.keys = new KeyRing(answer.deviceId);
  }

  /** Logs a user in online at this device (a password login), keeping their user key; their id. */
  async login(login: string, password: string): Promise<string> {
    const answer = await this.call('POST', '/v1/auth/check', checkAnswer, { kind: 'password', login, password });
    if (!answer.ok) throw new DeviceCallError(0, answer.reason, `login ${login}: ${answer.reason}`);
    if (!answer.key) throw new DeviceCallError(0, 'malformed', `login ${login}: no user key in the answer`);
    this.keys.add(answer.user.id, answer.key);
    return answer.user.id;
  }

  /** A valid access token, fetched again a minute before it expires. */
  async accessToken(): Promise<string> {
    if (this.token && this.token.expiresAt - 60_000 > Date.now()) return this.token.value;
    const answer = await this.call(
      'POST',
      '/v1/devices/token',
      tokenAnswer,
      { deviceId: this.deviceId, deviceSecret: this.secret },
      false,
    );
    this.token = { value: answer.accessToken, expiresAt: answer.expiresAt };
    return answer.accessToken;
  }

  /** One push request (no retry), each change with its author's MAC when a key for them is held. */
  push(changes: Change[]): Promise<PushAnswer> {
    return this.call('POST', '/v1/push', pushAnswer, {
      deviceId: this.deviceId,
      protocolVersion: this.protocolVersion,
      changes: changes.map((c) => (c.auth ? c : this.keys.authorize(c))),
    });
  }

  pull(partition: string, cursor: string | null, limit?: number): Promise<PullAnswer> {
    const q = new URLSearchParams({ partition });
    if (cursor) q.set('cursor', cursor);
    if (limit) q.set('limit', String(limit));
    return this.call('GET', `/v1/pull?${q.toString()}`, pullAnswer);
  }

  /**
   * Pushes `queue` (seq 1…n, in order) in batches until the server's last seq
   * is n: network errors, timeouts, 5xx and deferred changes are retried
   * after `retryMs` (up to `maxRetries` in a row), a 401 gets a fresh token, a
   * gap resends from the seq the server expects. Calls `onBatch` with each answered request's
   * latency. Returns every result the server gave, in order of answer.
   */
  async pushAll(
    queue: readonly Change[],
    options: {
      /** Where in `queue` to start (the changes before it were sent already). */
      from?: number;
      batch?: number;
      retryMs?: number;
      maxRetries?: number;
      /** Stops the loop (between requests) with the signal's reason. */
      signal?: AbortSignal;
      onBatch?: (ms: number, results: PushResult[]) => void;
      onRetry?: (error: DeviceCallError) => void;
    } = {},
  ): Promise<PushResult[]> {
    const batch = options.batch ?? 100;
    const results: PushResult[] = [];
    let next = options.from ?? 0;
    let failures = 0;
    while (next < queue.length) {
      options.signal?.throwIfAborted();
      const slice = queue.slice(next, next + batch);
      const t = performance.now();
      try {
        const answer = await this.push(slice);
        options.onBatch?.(performance.now() - t, answer.results);
        results.push(...answer.results);
        next = answer.lastSeq;
        if (answer.results.some((r) => r.outcome === 'deferred')) {
          // Not judged yet (a signer's revocation unknown): sent again later, from the server's last seq.
          if (++failures > (options.maxRetries ?? 20))
            throw new DeviceCallError(0, 'deferred', 'changes stay deferred');
          await sleep(options.retryMs ?? 200);
          continue;
        }
        failures = 0;
      } catch (e) {
        if (!(e instanceof DeviceCallError)) throw e;
        if (e.code === 'gap' && typeof e.body?.expectedSeq === 'number') {
          next = e.body.expectedSeq - 1;
          continue;
        }
        if (e.status === 401 && e.code === 'unauthorized') this.token = null;
        else if (e.status !== 0 && e.status < 500) throw e;
        if (++failures > (options.maxRetries ?? 20)) throw e;
        options.onRetry?.(e);
        await sleep(options.retryMs ?? 200);
      }
    }
    return results;
  }
}
