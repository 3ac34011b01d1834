/**
 * A bare protocol client for server tests: each call is one HTTP request,
 * its answer checked with the protocol.ts schema when it succeeds and
 * returned with its status either way, so a test can look at errors too.
 */
import { randomUUID } from 'node:crypto';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import {
  enrolAnswer,
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
}

export class TestClient {
  constructor(readonly url: string) {}

  /** Enrols a new device into `providerId` with an administrator's login (the system administrator by default). */
  async enrol(providerId: string, login = 'admin.demo', password = DEMO_PASSWORD): Promise<EnrolledDevice> {
    const deviceId = randomUUID();
    const e = ok(
      await call(this.url, 'POST', '/v1/devices/enrol', enrolAnswer, {
        body: { deviceId, name: `test ${deviceId.slice(0, 8)}`, providerId, login, password, protocolVersion: 1 },
      }),
    );
    const t = ok(await this.token(deviceId, e.deviceSecret));
    return { deviceId, secret: e.deviceSecret, providerId, token: t.accessToken };
  }

  token(deviceId: string, deviceSecret: string) {
    return call(this.url, 'POST', '/v1/devices/token', tokenAnswer, { body: { deviceId, deviceSecret } });
  }

  push(
    device: Pick<EnrolledDevice, 'deviceId' | 'token'>,
    changes: Change[],
    protocolVersion = 1,
  ): Promise<Answer<PushAnswer>> {
    return call(this.url, 'POST', '/v1/push', pushAnswer, {
      token: device.token,
      body: { deviceId: device.deviceId, protocolVersion, changes },
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
