/**
 * The workstation's attachment transfers (main/sync/attachments.ts) against
 * the central server (PGlite): a new upload in chunks, one resumed after a
 * break, content another office holds proved by sending it whole, a
 * download by a holder, a rate limit waited out, and content not held.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEVICE_A,
  DEVICE_B,
  deviceToken,
  OTHER_PROVIDER_ID,
  seedDirectory,
  startTestServer,
  TEST_ADMIN,
  testDatabases,
} from '#server/src/auth/testing.js';
import type { RunningServer } from '#server/src/server.js';
import { enrolAnswer, MAX_CHUNK_BYTES, PROTOCOL_VERSION, tokenAnswer } from '#core/protocol.js';
import { AttachmentTransfer, bytesSource } from '#main/sync/attachments.js';
import { SyncError } from '#main/sync/client.js';

const DEVICE_X = '0b0c1d6e-5d7a-4c53-9a43-6b1de0b6c0b1';
const db = testDatabases().find((d) => d.name === 'pglite')!;

async function otherOfficeToken(url: string): Promise<string> {
  const post = async (path: string, body: object) =>
    (await (
      await fetch(url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    ).json()) as unknown;
  const enrolled = enrolAnswer.parse(
    await post('/v1/devices/enrol', {
      deviceId: DEVICE_X,
      name: 'Desk X',
      providerId: OTHER_PROVIDER_ID,
      login: TEST_ADMIN.login,
      password: TEST_ADMIN.password,
      protocolVersion: PROTOCOL_VERSION,
    }),
  );
  return tokenAnswer.parse(await post('/v1/devices/token', { deviceId: DEVICE_X, deviceSecret: enrolled.deviceSecret }))
    .accessToken;
}

/** fetch that counts the calls by method and path. */
function counting(calls: string[]): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    calls.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
    return fetch(input, init);
  };
}

describe('attachment transfers between a workstation and the server', () => {
  let server: RunningServer;
  let tokenA: string;
  let tokenB: string;
  let tokenX: string;

  beforeAll(async () => {
    const sql = await db.open();
    await seedDirectory(sql, [TEST_ADMIN]);
    server = await startTestServer(sql);
    tokenA = await deviceToken(server.url, DEVICE_A);
    tokenB = await deviceToken(server.url, DEVICE_B);
    tokenX = await otherOfficeToken(server.url);
  });

  afterAll(async () => {
    await server?.close();
    await db.close();
  });

  it('uploads new content in chunks, resumes one cut after its first chunk, and a holder downloads it', async () => {
    const content = randomBytes(2 * MAX_CHUNK_BYTES + 4321);
    const source = bytesSource(content, 'application/pdf');
    // A first try that stopped after one chunk.
    const auth = { authorization: `Bearer ${tokenA}` };
    const at = `${server.url}/v1/attachments/${source.sha256}`;
    await fetch(at, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ size: content.length, mime: 'application/pdf' }),
    });
    await fetch(`${at}?offset=0`, { method: 'PUT', headers: auth, body: content.subarray(0, MAX_CHUNK_BYTES) });

    const calls: string[] = [];
    const transfer = new AttachmentTransfer({ serverUrl: server.url, fetch: counting(calls) });
    const done = await transfer.upload(tokenA, source);
    expect(done).toMatchObject({ complete: true, received: content.length, sha256: source.sha256 });
    // Resumed where the server was: the two chunks left, nothing sent twice.
    expect(calls.filter((c) => c.startsWith('PUT'))).toEqual([
      `PUT /v1/attachments/${source.sha256}?offset=${MAX_CHUNK_BYTES}`,
      `PUT /v1/attachments/${source.sha256}?offset=${2 * MAX_CHUNK_BYTES}`,
    ]);
    expect((await transfer.download(tokenA, source.sha256)).equals(content)).toBe(true);

    // A device of the same office: nothing to send, and it reads it.
    calls.length = 0;
    expect((await transfer.upload(tokenB, source)).complete).toBe(true);
    expect(calls.filter((c) => c.startsWith('PUT'))).toEqual([]);
    expect((await transfer.download(tokenB, source.sha256)).equals(content)).toBe(true);
  });

  it('a device of another office that has the file proves it by sending it whole, then reads it', async () => {
    const content = randomBytes(MAX_CHUNK_BYTES + 99);
    const source = bytesSource(content, 'image/png');
    const transfer = new AttachmentTransfer({ serverUrl: server.url });
    expect((await transfer.upload(tokenA, source)).complete).toBe(true);

    const refused = await transfer.download(tokenX, source.sha256).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SyncError);
    expect(refused).toMatchObject({ kind: 'rejected-request', details: { status: 404, code: 'not_found' } });

    const calls: string[] = [];
    const proving = new AttachmentTransfer({ serverUrl: server.url, fetch: counting(calls) });
    expect((await proving.upload(tokenX, source)).complete).toBe(true);
    expect(calls.filter((c) => c.startsWith('PUT'))).toHaveLength(2);
    expect((await proving.download(tokenX, source.sha256)).equals(content)).toBe(true);
  });

  it('waits out a rate limit as Retry-After says, and gives up as a transient failure when it stays', async () => {
    const source = bytesSource(randomBytes(1000), 'application/pdf');
    const limited = (times: number): typeof fetch => {
      let left = times;
      return (input, init) => {
        if (init?.method === 'PUT' && left-- > 0) {
          const body = JSON.stringify({ error: 'rate_limited', retryAfterMs: 2500, serverTime: Date.now() });
          return Promise.resolve(new Response(body, { status: 429, headers: { 'retry-after': '3' } }));
        }
        return fetch(input, init);
      };
    };
    const slept: number[] = [];
    const sleep = (ms: number) => {
      slept.push(ms);
      return Promise.resolve();
    };
    const patient = new AttachmentTransfer({ serverUrl: server.url, fetch: limited(2), sleep });
    expect((await patient.upload(tokenA, source)).complete).toBe(true);
    expect(slept).toEqual([3000, 3000]);

    const other = bytesSource(randomBytes(1000), 'application/pdf');
    const stuck = new AttachmentTransfer({ serverUrl: server.url, fetch: limited(100), sleep, maxWaits: 3 });
    const failed = await stuck.upload(tokenA, other).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(SyncError);
    expect(failed).toMatchObject({ kind: 'server', transient: true, details: { status: 429, code: 'rate_limited' } });
  });

  it('checks downloaded content against its address', async () => {
    const source = bytesSource(randomBytes(500), 'application/pdf');
    const transfer = new AttachmentTransfer({ serverUrl: server.url });
    await transfer.upload(tokenA, source);
    const spoilt = new AttachmentTransfer({
      serverUrl: server.url,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        const bytes = Buffer.from(await res.arrayBuffer());
        bytes[0] = bytes[0]! ^ 0xff;
        return new Response(bytes, { status: res.status, headers: res.headers });
      },
    });
    await expect(spoilt.download(tokenA, source.sha256)).rejects.toMatchObject({ kind: 'malformed' });
    expect(
      createHash('sha256')
        .update(await transfer.download(tokenA, source.sha256))
        .digest('hex'),
    ).toBe(source.sha256);
  });
});
