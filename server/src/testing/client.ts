/**
 * A bare protocol client for server tests: each call is one HTTP request,
 * its answer checked with the protocol.ts schema when it succeeds and
 * returned with its status either way, so a test can look at errors too.
 */
import { randomUUID } from 'node:crypto';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import {
  checkAnswer,
  enrolAnswer,
  PROTOCOL_VERSION,
  errorBody,
  pullAnswer,
  pushAnswer,
  snapshotLine,
  tokenAnswer,
  type Change,
  type ErrorBody,
  type PullAnswer,
  type PushAnswer,
  type SnapshotLine,
} from '#core/protocol.js';
import { KeyRing } from './keys.js';

export type Answer<T> = { status: number; ok: true; body: T } | { status: number; ok: false; body: ErrorBody };

export async function call<T>(
  url: string,
  method: string,
  path: string,
  schema: { parse(v: unknown): T },
  options: { body?: unknown; token?: string; raw?: string } = {},
): Promise<Answer<T>> {
  const res = await fetch(new URL(path, url), {
    method,
    headers: {
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined || options.raw !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    ...(options.raw !== undefined
      ? { body: options.raw }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
  });
  const json: unknown = await res.json();
  return res.ok
    ? { status: res.status, ok: true, body: schema.parse(json) }
    : { status: res.status, ok: false, body: errorBody.parse(json) };
}

/** The body of a successful answer; throws with the error body otherwise. */
export function ok<T>(a: Answer<T>): T {
  if (!a.ok) throw new Error(`${a.status} ${a.body.error}: ${a.body.message ?? ''}`);
  return a.body;
}

export interface EnrolledDevice {
  deviceId: string;
  secret: string;
  providerId: string;
  token: string;
  /** The keys of the users logged in online at it (TestClient.login): its pushes carry their MACs. */
  keys: KeyRing;
}

export class TestClient {
  constructor(readonly url: string) {}

  /** Enrols a new device into `providerId` with an administrator's login (the system administrator by default). */
  async enrol(providerId: string, login = 'admin.demo', password = DEMO_PASSWORD): Promise<EnrolledDevice> {
    const deviceId = randomUUID();
    const e = ok(
      await call(this.url, 'POST', '/v1/devices/enrol', enrolAnswer, {
        body: {
          deviceId,
          name: `test ${deviceId.slice(0, 8)}`,
          providerId,
          login,
          password,
          protocolVersion: PROTOCOL_VERSION,
        },
      }),
    );
    const t = ok(await this.token(deviceId, e.deviceSecret));
    return { deviceId, secret: e.deviceSecret, providerId, token: t.accessToken, keys: new KeyRing(deviceId) };
  }

  /** Logs users in online at `device` (password logins), keeping their keys on it for its pushes. */
  async login(device: EnrolledDevice, logins: readonly string[], password = DEMO_PASSWORD): Promise<void> {
    for (const login of logins) {
      const answer = ok(
        await call(this.url, 'POST', '/v1/auth/check', checkAnswer, {
          token: device.token,
          body: { kind: 'password', login, password },
        }),
      );
      if (!answer.ok || !answer.key) throw new Error(`login ${login}: ${answer.ok ? 'no key' : answer.reason}`);
      device.keys.add(answer.user.id, answer.key);
    }
  }

  token(deviceId: string, deviceSecret: string) {
    return call(this.url, 'POST', '/v1/devices/token', tokenAnswer, { body: { deviceId, deviceSecret } });
  }

  /** Pushes `changes`, each MACed with its author's key when the device holds one and it carries no proof yet. */
  push(
    device: Pick<EnrolledDevice, 'deviceId' | 'token'> & { keys?: KeyRing },
    changes: Change[],
    protocolVersion = PROTOCOL_VERSION,
  ): Promise<Answer<PushAnswer>> {
    const keys = device.keys;
    return call(this.url, 'POST', '/v1/push', pushAnswer, {
      token: device.token,
      body: {
        deviceId: device.deviceId,
        protocolVersion,
        changes: keys ? changes.map((c) => (c.auth ? c : keys.authorize(c))) : changes,
      },
    });
  }

  pull(token: string, partition: string, cursor?: string, limit?: number): Promise<Answer<PullAnswer>> {
    const q = new URLSearchParams({ partition });
    if (cursor) q.set('cursor', cursor);
    if (limit) q.set('limit', String(limit));
    return call(this.url, 'GET', `/v1/pull?${q}`, pullAnswer, { token });
  }

  /** Every page from `cursor` on; the rows in order and the final cursor. */
  async pullAll(
    token: string,
    partition: string,
    cursor?: string,
    limit = 1000,
  ): Promise<{ rows: PullAnswer['rows']; cursor: string; version: number; pages: PullAnswer[] }> {
    const pages: PullAnswer[] = [];
    let at = cursor;
    for (;;) {
      const page = ok(await this.pull(token, partition, at, limit));
      pages.push(page);
      at = page.cursor;
      if (!page.hasMore)
        return { rows: pages.flatMap((p) => p.rows), cursor: page.cursor, version: page.version, pages };
    }
  }

  /** The whole snapshot, each line checked. */
  async snapshot(token: string, partition: string): Promise<SnapshotLine[]> {
    const res = await fetch(new URL(`/v1/snapshot?partition=${encodeURIComponent(partition)}`, this.url), {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (!res.ok) throw new Error(`snapshot ${res.status}: ${await res.text()}`);
    const text = await res.text();
    return text
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => snapshotLine.parse(JSON.parse(l)));
  }
}
