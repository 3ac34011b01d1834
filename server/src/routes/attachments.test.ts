/**
 * Attachment uploads against a real database (PGlite, and PostgreSQL when a
 * cluster can start), through two server instances on it: chunks in order,
 * an upload cut in the middle of a chunk and resumed from its status, a
 * chunk at the wrong offset, content that is not what its address says,
 * and Range reads of the stored content.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEVICE_A,
  DEVICE_B,
  deviceToken,
  PROVIDER_ID,
  seedDirectory,
  startTestServer,
  TEST_ADMIN,
  testDatabases,
} from '../auth/testing.js';
import { bump, writeFeed } from '../feed.js';
import type { Sql } from '../postgres/sql.js';
import { attachmentStatus, errorBody, MAX_CHUNK_BYTES, providerPartition } from '#core/protocol.js';
import type { RunningServer } from '../server.js';
import { parseRange } from './attachments.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('parseRange', () => {
  it('reads one byte range of a known size', () => {
    expect(parseRange(undefined, 100)).toBeNull();
    expect(parseRange('bytes=0-9', 100)).toEqual([0, 9]);
    expect(parseRange('bytes=90-', 100)).toEqual([90, 99]);
    expect(parseRange('bytes=-10', 100)).toEqual([90, 99]);
    expect(parseRange('bytes=-500', 100)).toEqual([0, 99]);
    expect(parseRange('bytes=50-5000', 100)).toEqual([50, 99]);
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
    // Several ranges, another unit, nonsense: the whole content.
    expect(parseRange('bytes=0-1,5-6', 100)).toBeNull();
    expect(parseRange('items=0-1', 100)).toBeNull();
    expect(parseRange('bytes=9-3', 100)).toBeNull();
  });
});

describe.each(testDatabases())('attachments on $name', (db) => {
  let sql: Sql;
  let one: RunningServer;
  let two: RunningServer;
  let token: string;

  beforeAll(async () => {
    sql = await db.open();
    await seedDirectory(sql, [TEST_ADMIN]);
    one = await startTestServer(sql);
    two = await startTestServer(db.another(sql));
    token = await deviceToken(one.url, DEVICE_A);
  });

  afterAll(async () => {
    await one?.close();
    await two?.close();
    await db.close();
  });

  async function call(
    on: RunningServer,
    method: string,
    path: string,
    body?: Uint8Array | object,
    headers: Record<string, string> = {},
  ) {
    const raw = body instanceof Uint8Array;
    const res = await fetch(on.url + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': raw ? 'application/octet-stream' : 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: raw ? body : JSON.stringify(body) }),
    });
    return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
  }

  const json = (r: { bytes: Buffer }) => JSON.parse(r.bytes.toString('utf8')) as unknown;
  const status = (r: { bytes: Buffer }) => attachmentStatus.parse(json(r));
  const failure = (r: { bytes: Buffer }) => errorBody.parse(json(r));
  const statusOfError = (r: { bytes: Buffer }) => attachmentStatus.parse((json(r) as { status: unknown }).status);

  async function upload(content: Buffer, address = sha256(content), mime = 'application/pdf') {
    expect((await call(one, 'POST', `/v1/attachments/${address}`, { size: content.length, mime })).status).toBe(200);
    let offset = 0;
    let last = null;
    for (let i = 0; offset < content.length; i++) {
      const chunk = content.subarray(offset, offset + MAX_CHUNK_BYTES);
      last = await call(i % 2 === 0 ? one : two, 'PUT', `/v1/attachments/${address}?offset=${offset}`, chunk);
      if (last.status !== 200) return last;
      offset += chunk.length;
    }
    return last!;
  }

  it('takes chunks in order through either instance and serves the whole back', async () => {
    const content = randomBytes(2 * MAX_CHUNK_BYTES + 12_345);
    const address = sha256(content);
    const started = status(
      await call(one, 'POST', `/v1/attachments/${address}`, { size: content.length, mime: 'image/png' }),
    );
    expect(started).toMatchObject({ sha256: address, size: content.length, received: 0, complete: false });

    const first = status(
      await call(one, 'PUT', `/v1/attachments/${address}?offset=0`, content.subarray(0, MAX_CHUNK_BYTES)),
    );
    expect(first).toMatchObject({ received: MAX_CHUNK_BYTES, complete: false });
    expect(status(await call(two, 'GET', `/v1/attachments/${address}`))).toMatchObject({ received: MAX_CHUNK_BYTES });
    const second = status(
      await call(
        two,
        'PUT',
        `/v1/attachments/${address}?offset=${MAX_CHUNK_BYTES}`,
        content.subarray(MAX_CHUNK_BYTES, 2 * MAX_CHUNK_BYTES),
      ),
    );
    expect(second.received).toBe(2 * MAX_CHUNK_BYTES);
    const done = status(
      await call(
        one,
        'PUT',
        `/v1/attachments/${address}?offset=${2 * MAX_CHUNK_BYTES}`,
        content.subarray(2 * MAX_CHUNK_BYTES),
      ),
    );
    expect(done).toMatchObject({ received: content.length, complete: true });

    const whole = await call(two, 'GET', `/v1/attachments/${address}/content`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('image/png');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(sha256(whole.bytes)).toBe(address);

    // Starting it again answers that it is there: nothing to send.
    const again = status(
      await call(two, 'POST', `/v1/attachments/${address}`, { size: content.length, mime: 'image/png' }),
    );
    expect(again).toMatchObject({ complete: true, received: content.length });
    const more = await call(one, 'PUT', `/v1/attachments/${address}?offset=${content.length}`, Buffer.from('x'));
    expect(more.status).toBe(409);
  });

  it('resumes an upload cut in the middle of a chunk from its status', async () => {
    const content = randomBytes(MAX_CHUNK_BYTES + 300_000);
    const address = sha256(content);
    await call(one, 'POST', `/v1/attachments/${address}`, { size: content.length, mime: 'application/pdf' });
    await call(one, 'PUT', `/v1/attachments/${address}?offset=0`, content.subarray(0, MAX_CHUNK_BYTES));

    // The second chunk: half of it sent, then the connection is gone.
    const url = new URL(`${two.url}/v1/attachments/${address}?offset=${MAX_CHUNK_BYTES}`);
    await new Promise<void>((resolve) => {
      const req = request(url, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-length': String(300_000) },
      });
      req.on('error', () => resolve());
      req.write(content.subarray(MAX_CHUNK_BYTES, MAX_CHUNK_BYTES + 150_000), () => {
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 50);
      });
    });

    // A new start after the break: the status says where to go on.
    const resumed = status(
      await call(one, 'POST', `/v1/attachments/${address}`, { size: content.length, mime: 'application/pdf' }),
    );
    expect(resumed).toMatchObject({ received: MAX_CHUNK_BYTES, complete: false });
    const done = status(
      await call(
        two,
        'PUT',
        `/v1/attachments/${address}?offset=${resumed.received}`,
        content.subarray(resumed.received),
      ),
    );
    expect(done.complete).toBe(true);
    expect(sha256((await call(one, 'GET', `/v1/attachments/${address}/content`)).bytes)).toBe(address);
  });

  it('refuses a chunk at the wrong offset with the status to resume from', async () => {
    const content = randomBytes(50_000);
    const address = sha256(content);
    await call(one, 'POST', `/v1/attachments/${address}`, { size: content.length, mime: 'application/pdf' });
    await call(one, 'PUT', `/v1/attachments/${address}?offset=0`, content.subarray(0, 20_000));
    for (const offset of [0, 10_000, 30_000]) {
      const res = await call(
        two,
        'PUT',
        `/v1/attachments/${address}?offset=${offset}`,
        content.subarray(offset, offset + 10_000),
      );
      expect(res.status).toBe(409);
      expect(failure(res).error).toBe('conflict');
      expect(statusOfError(res)).toMatchObject({ sha256: address, received: 20_000, complete: false });
    }
    // A chunk past the declared size and an empty one are refused too; nothing moved.
    expect((await call(one, 'PUT', `/v1/attachments/${address}?offset=20000`, randomBytes(30_001))).status).toBe(400);
    expect((await call(one, 'PUT', `/v1/attachments/${address}?offset=20000`, Buffer.alloc(0))).status).toBe(400);
    expect((await call(one, 'PUT', `/v1/attachments/${address}?offset=abc`, content.subarray(20_000))).status).toBe(
      400,
    );
    expect(status(await call(one, 'GET', `/v1/attachments/${address}`)).received).toBe(20_000);
    // A different size for content already partly here is a conflict.
    const resized = await call(one, 'POST', `/v1/attachments/${address}`, { size: 60_000, mime: 'application/pdf' });
    expect(resized.status).toBe(409);
    expect(statusOfError(resized).size).toBe(50_000);
  });

  it('refuses a chunk over the limit', async () => {
    const content = randomBytes(MAX_CHUNK_BYTES + 10);
    const address = sha256(content);
    await call(one, 'POST', `/v1/attachments/${address}`, { size: content.length, mime: 'application/pdf' });
    const res = await call(one, 'PUT', `/v1/attachments/${address}?offset=0`, content);
    expect(res.status).toBe(413);
    expect(failure(res).error).toBe('too_large');
  });

  it('starts over when the content does not hash to its address', async () => {
    const right = randomBytes(MAX_CHUNK_BYTES + 1000);
    const wrong = Buffer.from(right);
    wrong[MAX_CHUNK_BYTES + 10] = wrong[MAX_CHUNK_BYTES + 10]! ^ 0xff;
    const address = sha256(right);
    const res = await upload(wrong, address);
    expect(res.status).toBe(422);
    expect(failure(res).error).toBe('digest_mismatch');
    expect(statusOfError(res)).toMatchObject({ received: 0, complete: false });
    const [left] = await sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM attachment_chunks WHERE sha256 = $1',
      [address],
    );
    expect(left?.n).toBe(0);
    expect((await call(one, 'GET', `/v1/attachments/${address}/content`)).status).toBe(409);

    const again = await upload(right, address);
    expect(status(again).complete).toBe(true);
  });

  it('honours Range on the content', async () => {
    const content = randomBytes(MAX_CHUNK_BYTES + 5000);
    const address = sha256(content);
    expect(status(await upload(content, address)).complete).toBe(true);
    const range = async (header: string) =>
      call(one, 'GET', `/v1/attachments/${address}/content`, undefined, { range: header });

    const head = await range('bytes=0-99');
    expect(head.status).toBe(206);
    expect(head.headers.get('content-range')).toBe(`bytes 0-99/${content.length}`);
    expect(head.bytes.equals(content.subarray(0, 100))).toBe(true);

    // Across the boundary of two stored chunks.
    const across = await range(`bytes=${MAX_CHUNK_BYTES - 10}-${MAX_CHUNK_BYTES + 9}`);
    expect(across.status).toBe(206);
    expect(across.bytes.equals(content.subarray(MAX_CHUNK_BYTES - 10, MAX_CHUNK_BYTES + 10))).toBe(true);

    const tail = await range('bytes=-7');
    expect(tail.bytes.equals(content.subarray(content.length - 7))).toBe(true);
    const from = await range(`bytes=${content.length - 3000}-`);
    expect(from.bytes.equals(content.subarray(content.length - 3000))).toBe(true);

    const beyond = await range(`bytes=${content.length}-`);
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${content.length}`);
  });

  it('lets only a holder, a device that proved possession, or one whose feed names it read the content', async () => {
    const content = randomBytes(MAX_CHUNK_BYTES + 777);
    const address = sha256(content);
    expect(status(await upload(content)).complete).toBe(true);
    expect((await call(one, 'GET', `/v1/attachments/${address}/content`)).status).toBe(200);

    // Another device that knows the address only: answered as if nothing were there.
    const other = { authorization: `Bearer ${await deviceToken(one.url, DEVICE_B)}` };
    const asOther = (method: string, path: string, body?: Uint8Array | object) => call(two, method, path, body, other);
    expect((await asOther('GET', `/v1/attachments/${address}/content`)).status).toBe(404);

    // It proves possession by sending the bytes again: its status counts its own bytes.
    const started = await asOther('POST', `/v1/attachments/${address}`, {
      size: content.length,
      mime: 'application/pdf',
    });
    expect(status(started)).toMatchObject({ received: 0, complete: false, size: content.length });
    const first = content.subarray(0, MAX_CHUNK_BYTES);
    expect(status(await asOther('PUT', `/v1/attachments/${address}?offset=0`, first))).toMatchObject({
      received: MAX_CHUNK_BYTES,
      complete: false,
    });
    // A chunk that differs from what is stored: the proof starts over, and still nothing to read.
    const forged = Buffer.from(content.subarray(MAX_CHUNK_BYTES));
    forged[3] = forged[3]! ^ 0xff;
    const refused = await asOther('PUT', `/v1/attachments/${address}?offset=${MAX_CHUNK_BYTES}`, forged);
    expect(refused.status).toBe(422);
    expect(statusOfError(refused)).toMatchObject({ received: 0, complete: false });
    expect(status(await asOther('GET', `/v1/attachments/${address}`))).toMatchObject({ received: 0 });
    expect((await asOther('GET', `/v1/attachments/${address}/content`)).status).toBe(404);
    // The holder still sees the content complete, and its bytes are untouched.
    expect(status(await call(one, 'GET', `/v1/attachments/${address}`)).complete).toBe(true);

    expect((await asOther('PUT', `/v1/attachments/${address}?offset=0`, first)).status).toBe(200);
    const done = await asOther(
      'PUT',
      `/v1/attachments/${address}?offset=${MAX_CHUNK_BYTES}`,
      content.subarray(MAX_CHUNK_BYTES),
    );
    expect(status(done)).toMatchObject({ received: content.length, complete: true });
    const read = await asOther('GET', `/v1/attachments/${address}/content`);
    expect(read.status).toBe(200);
    expect(sha256(read.bytes)).toBe(address);

    // A third device reads what an application of its office names, without holding it.
    const third = { authorization: `Bearer ${await deviceToken(one.url, '0b0c1d6e-5d7a-4c53-9a43-6b1de0b6c0f3')}` };
    const named = randomBytes(1000);
    expect(status(await upload(named)).complete).toBe(true);
    const namedAt = `/v1/attachments/${sha256(named)}/content`;
    expect((await call(one, 'GET', namedAt, undefined, third)).status).toBe(404);
    const partition = providerPartition(PROVIDER_ID);
    await sql.tx(async (tx) => {
      const v = await bump(tx, partition);
      await writeFeed(tx, partition, 'attachment', `att-${v}`, 'upsert', { sha256: sha256(named) }, v);
    });
    expect((await call(one, 'GET', namedAt, undefined, third)).status).toBe(200);
  });

  it('answers 404 for what it does not have, 400 for a malformed address, 401 without a device', async () => {
    const unknown = sha256(Buffer.from('nothing'));
    expect((await call(one, 'GET', `/v1/attachments/${unknown}`)).status).toBe(404);
    expect((await call(one, 'GET', `/v1/attachments/${unknown}/content`)).status).toBe(404);
    expect((await call(one, 'PUT', `/v1/attachments/${unknown}?offset=0`, Buffer.from('x'))).status).toBe(404);
    expect((await call(one, 'GET', '/v1/attachments/ABC')).status).toBe(400);
    expect((await call(one, 'POST', `/v1/attachments/${unknown}`, { size: 0, mime: 'x' })).status).toBe(400);
    const anonymous = await call(one, 'GET', `/v1/attachments/${unknown}`, undefined, { authorization: '' });
    expect(anonymous.status).toBe(401);
  });
});
