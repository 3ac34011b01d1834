/**
 * Attachment uploads against a real database (PGlite, and PostgreSQL when a
 * cluster can start), through two server instances on it: chunks in order,
 * an upload cut in the middle of a chunk and resumed from its status, a
 * chunk at the wrong offset, content that is not what its address says,
 * Range reads of the stored content, who may read it, and the attacks of a
 * device that knows only an address: guessing the content chunk by chunk,
 * asking what is stored, sending a wrong proof, flooding the calls.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
} from '../auth/testing.js';
import { tokenKey } from '../devices.js';
import { bump, writeFeed } from '../feed.js';
import type { Sql } from '../postgres/sql.js';
import type { RateLimitOptions } from '../rate-limit.js';
import { createRouter } from '../router.js';
import {
  attachmentStatus,
  enrolAnswer,
  errorBody,
  MAX_CHUNK_BYTES,
  PROTOCOL_VERSION,
  providerPartition,
  tokenAnswer,
} from '#core/protocol.js';
import type { RunningServer } from '../server.js';
import { createAttachmentRoutes, parseRange } from './attachments.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Devices of the other office (prov-astana). */
const DEVICE_X = '0b0c1d6e-5d7a-4c53-9a43-6b1de0b6c0a1';
const DEVICE_Y = '0b0c1d6e-5d7a-4c53-9a43-6b1de0b6c0a2';
/** Limits no honest test reaches: the attacks below are about what the answers say, not how many. */
const UNLIMITED: RateLimitOptions = { burst: 1_000_000, perSecond: 1_000_000 };

/** Enrols `deviceId` in `providerId` with the system administrator; its access token. */
async function tokenIn(url: string, deviceId: string, providerId: string): Promise<string> {
  const post = async (path: string, body: object) => {
    const res = await fetch(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as unknown;
  };
  const enrolled = enrolAnswer.parse(
    await post('/v1/devices/enrol', {
      deviceId,
      name: `Desk ${deviceId.slice(-4)}`,
      providerId,
      login: TEST_ADMIN.login,
      password: TEST_ADMIN.password,
      protocolVersion: PROTOCOL_VERSION,
    }),
  );
  return tokenAnswer.parse(await post('/v1/devices/token', { deviceId, deviceSecret: enrolled.deviceSecret }))
    .accessToken;
}

interface Instance {
  url: string;
  close(): Promise<void>;
}

/** A server instance with the attachment routes alone, with these limits, on `sql`. */
async function attachmentServer(sql: Sql, limits: RateLimitOptions, now = Date.now): Promise<Instance> {
  const key = await tokenKey(sql, now());
  const server: Server = createServer(
    createRouter(createAttachmentRoutes({ limits, now }), { sql, now, tokenKey: key, log: () => undefined }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

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
  let core: RunningServer;
  let one: Instance;
  let two: Instance;
  let token: string;
  /** Same office as DEVICE_A. */
  let sameOffice: Record<string, string>;
  /** Devices of the other office. */
  let other: Record<string, string>;
  let otherToo: Record<string, string>;

  beforeAll(async () => {
    sql = await db.open();
    await seedDirectory(sql, [TEST_ADMIN]);
    core = await startTestServer(sql);
    one = await attachmentServer(sql, UNLIMITED);
    two = await attachmentServer(db.another(sql), UNLIMITED);
    token = await deviceToken(core.url, DEVICE_A);
    sameOffice = { authorization: `Bearer ${await deviceToken(core.url, DEVICE_B)}` };
    other = { authorization: `Bearer ${await tokenIn(core.url, DEVICE_X, OTHER_PROVIDER_ID)}` };
    otherToo = { authorization: `Bearer ${await tokenIn(core.url, DEVICE_Y, OTHER_PROVIDER_ID)}` };
  });

  afterAll(async () => {
    await one?.close();
    await two?.close();
    await core?.close();
    await db.close();
  });

  async function call(
    on: Instance,
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

  /**
   * All a device learns from an answer, the clock aside: status, headers
   * but the date, and the body with the address it asked about written `<address>`.
   */
  const seen = (r: { status: number; headers: Headers; bytes: Buffer }, address: string) => {
    const headers = [...r.headers.entries()].filter(([name]) => name !== 'date');
    const body = r.bytes
      .toString('utf8')
      .replaceAll(address, '<address>')
      .replace(/"serverTime":\d+/g, '"serverTime":0');
    return { status: r.status, headers, body };
  };

  async function upload(content: Buffer, address = sha256(content), mime = 'application/pdf', as = {}) {
    const started = await call(one, 'POST', `/v1/attachments/${address}`, { size: content.length, mime }, as);
    expect(started.status).toBe(200);
    let offset = status(started).received;
    let last = started;
    for (let i = 0; offset < content.length; i++) {
      const chunk = content.subarray(offset, offset + MAX_CHUNK_BYTES);
      last = await call(i % 2 === 0 ? one : two, 'PUT', `/v1/attachments/${address}?offset=${offset}`, chunk, as);
      if (last.status !== 200) return last;
      offset += chunk.length;
    }
    return last;
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
      `SELECT (SELECT count(*) FROM attachment_chunks WHERE sha256 = $1)
            + (SELECT count(*) FROM attachment_upload_chunks WHERE sha256 = $1) AS n`,
      [address],
    );
    expect(Number(left?.n)).toBe(0);
    expect((await call(one, 'GET', `/v1/attachments/${address}/content`)).status).toBe(404);

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

  it('lets the offices that hold the content, or whose feed names it, read it; another office proves it by sending it whole', async () => {
    const content = randomBytes(MAX_CHUNK_BYTES + 777);
    const address = sha256(content);
    expect(status(await upload(content)).complete).toBe(true);
    expect((await call(one, 'GET', `/v1/attachments/${address}/content`)).status).toBe(200);
    // Another device of the same office reads it, and its start says there is nothing to send.
    expect(sha256((await call(two, 'GET', `/v1/attachments/${address}/content`, undefined, sameOffice)).bytes)).toBe(
      address,
    );
    const again = await call(
      one,
      'POST',
      `/v1/attachments/${address}`,
      { size: content.length, mime: 'x/y' },
      sameOffice,
    );
    expect(status(again)).toMatchObject({ complete: true, received: content.length });

    // A device of another office that knows the address only: answered as if nothing were there.
    const asOther = (method: string, path: string, body?: Uint8Array | object) => call(two, method, path, body, other);
    expect((await asOther('GET', `/v1/attachments/${address}/content`)).status).toBe(404);
    expect((await asOther('GET', `/v1/attachments/${address}`)).status).toBe(404);

    // It has the file: it sends it whole, as for new content, and its office becomes a holder.
    const done = await upload(content, address, 'application/pdf', other);
    expect(status(done)).toMatchObject({ received: content.length, complete: true });
    const read = await asOther('GET', `/v1/attachments/${address}/content`);
    expect(read.status).toBe(200);
    expect(sha256(read.bytes)).toBe(address);
    // The bytes it sent were its proof: stored once, nothing of its upload left.
    const [counts] = await sql.query<{ chunks: unknown; staged: unknown }>(
      `SELECT (SELECT count(*) FROM attachment_chunks WHERE sha256 = $1) AS chunks,
              (SELECT count(*) FROM attachment_upload_chunks WHERE sha256 = $1) AS staged`,
      [address],
    );
    expect(Number(counts?.chunks)).toBe(2);
    expect(Number(counts?.staged)).toBe(0);
    // The other device of that office reads it too.
    expect((await call(one, 'GET', `/v1/attachments/${address}/content`, undefined, otherToo)).status).toBe(200);

    // What an application of the other office names is read there without holding it.
    const named = randomBytes(1000);
    expect(status(await upload(named)).complete).toBe(true);
    const namedAt = `/v1/attachments/${sha256(named)}/content`;
    expect((await call(one, 'GET', namedAt, undefined, otherToo)).status).toBe(404);
    const partition = providerPartition(OTHER_PROVIDER_ID);
    await sql.tx(async (tx) => {
      const v = await bump(tx, partition);
      await writeFeed(tx, partition, 'attachment', `att-${v}`, 'upsert', { sha256: sha256(named) }, v);
    });
    expect((await call(one, 'GET', namedAt, undefined, otherToo)).status).toBe(200);
  });

  it('stores content two offices upload at once a single time, and both read it', async () => {
    const content = randomBytes(MAX_CHUNK_BYTES + 10);
    const address = sha256(content);
    const start = { size: content.length, mime: 'application/pdf' };
    expect(status(await call(one, 'POST', `/v1/attachments/${address}`, start)).received).toBe(0);
    expect(status(await call(two, 'POST', `/v1/attachments/${address}`, start, other)).received).toBe(0);
    const first = content.subarray(0, MAX_CHUNK_BYTES);
    const rest = content.subarray(MAX_CHUNK_BYTES);
    expect((await call(one, 'PUT', `/v1/attachments/${address}?offset=0`, first)).status).toBe(200);
    expect((await call(two, 'PUT', `/v1/attachments/${address}?offset=0`, first, other)).status).toBe(200);
    expect(status(await call(two, 'PUT', `/v1/attachments/${address}?offset=${MAX_CHUNK_BYTES}`, rest)).complete).toBe(
      true,
    );
    const second = await call(one, 'PUT', `/v1/attachments/${address}?offset=${MAX_CHUNK_BYTES}`, rest, other);
    expect(status(second).complete).toBe(true);
    for (const as of [{}, other]) {
      expect(sha256((await call(one, 'GET', `/v1/attachments/${address}/content`, undefined, as)).bytes)).toBe(address);
    }
    const [row] = await sql.query<{ n: unknown }>('SELECT count(*) AS n FROM attachment_chunks WHERE sha256 = $1', [
      address,
    ]);
    expect(Number(row?.n)).toBe(2);
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

  it('attack: a device of another office that knows only a SHA-256 guesses the content chunk by chunk at offset 0 — it learns nothing, and the download stays refused', async () => {
    const secret = randomBytes(49);
    const address = sha256(secret);
    expect(status(await upload(secret)).complete).toBe(true);
    /** Never stored: what the device would see if the secret were not here. */
    const control = sha256(randomBytes(49));
    const asOther = (method: string, at: string, suffix = '', body?: Uint8Array | object) =>
      call(two, method, `/v1/attachments/${at}${suffix}`, body, other).then((r) => seen(r, at));
    const start = { size: secret.length, mime: 'application/pdf' };

    // Whole-size guesses at offset 0, the right first byte among them (the rest right but the last byte).
    const guessWhole = async (at: string) => {
      expect((await asOther('POST', at, '', start)).status).toBe(200);
      const answers = new Set<string>();
      for (let i = 0; i < 32; i++) {
        const b = (secret[0]! + i * 8) % 256;
        const guess = Buffer.from(secret);
        guess[0] = b;
        guess[48] = guess[48]! ^ 0xff;
        answers.add(JSON.stringify(await asOther('PUT', at, '?offset=0', guess)));
      }
      return [...answers];
    };
    const onSecret = await guessWhole(address);
    expect(onSecret).toHaveLength(1);
    expect((JSON.parse(onSecret[0]!) as { status: number }).status).toBe(422);
    expect(onSecret).toEqual(await guessWhole(control));

    // The reviewer's loop: a start, then a one-byte chunk at offset 0, for every value of the first byte.
    const guessPrefix = async (at: string) => {
      const answers: unknown[] = [];
      for (let b = 0; b < 256; b++) {
        answers.push(await asOther('POST', at, '', start));
        answers.push(await asOther('PUT', at, '?offset=0', Buffer.from([b])));
      }
      return answers;
    };
    const prefixOnSecret = await guessPrefix(address);
    // The guess of the right byte is answered as every other guess at its place.
    expect(prefixOnSecret[2 * secret[0]! + 1]).toEqual(prefixOnSecret[2 * ((secret[0]! + 1) % 256) + 1]);
    expect(prefixOnSecret).toEqual(await guessPrefix(control));

    // Its status is its own upload's, and the content is not here for it, exactly as for the control.
    expect(await asOther('GET', address)).toEqual(await asOther('GET', control));
    const download = await asOther('GET', address, '/content');
    expect(download.status).toBe(404);
    expect(download).toEqual(await asOther('GET', control, '/content'));
    const holders = await sql.query(
      `SELECT 1 FROM attachment_holders h JOIN devices d ON d.id = h.device_id
        WHERE h.sha256 = $1 AND d.provider_id = $2`,
      [address, OTHER_PROVIDER_ID],
    );
    expect(holders).toHaveLength(0);
  });

  it('attack: a device of another office asks the status, a start and the download of content it does not hold — answered exactly as content not here', async () => {
    const secret = randomBytes(5000);
    const address = sha256(secret);
    expect(status(await upload(secret)).complete).toBe(true);
    const missing = sha256(randomBytes(5000));
    const asOther = (method: string, at: string, suffix = '', body?: Uint8Array | object) =>
      call(one, method, `/v1/attachments/${at}${suffix}`, body, otherToo).then((r) => seen(r, at));

    const status404 = await asOther('GET', address);
    expect(status404.status).toBe(404);
    expect(status404).toEqual(await asOther('GET', missing));
    const content404 = await asOther('GET', address, '/content');
    expect(content404.status).toBe(404);
    expect(content404).toEqual(await asOther('GET', missing, '/content'));
    expect(await asOther('GET', address, '/content', undefined)).toEqual(
      await asOther('GET', missing, '/content', undefined),
    );
    const chunkFirst = await asOther('PUT', address, '?offset=0', Buffer.from('x'));
    expect(chunkFirst.status).toBe(404);
    expect(chunkFirst).toEqual(await asOther('PUT', missing, '?offset=0', Buffer.from('x')));

    // A start opens an empty upload of its own, as for new content; the size it gives is the one it sees.
    const start = { size: 5000, mime: 'application/pdf' };
    const started = await asOther('POST', address, '', start);
    expect(started.status).toBe(200);
    expect(JSON.parse(started.body)).toMatchObject({ received: 0, complete: false, size: 5000 });
    expect(started).toEqual(await asOther('POST', missing, '', start));
    const resized = { size: 4999, mime: 'application/pdf' };
    expect(await asOther('POST', address, '', resized)).toEqual(await asOther('POST', missing, '', resized));
    expect(await asOther('GET', address)).toEqual(await asOther('GET', missing));
    const wrongOffset = await asOther('PUT', address, '?offset=7', Buffer.from('x'));
    expect(wrongOffset.status).toBe(409);
    expect(wrongOffset).toEqual(await asOther('PUT', missing, '?offset=7', Buffer.from('x')));

    // The holder's own office still sees it complete.
    expect(status(await call(one, 'GET', `/v1/attachments/${address}`, undefined, sameOffice)).complete).toBe(true);
  });

  it('attack: a device of another office looks at or finishes an upload another office has in progress — it finds none', async () => {
    const content = randomBytes(MAX_CHUNK_BYTES + 100);
    const address = sha256(content);
    await call(one, 'POST', `/v1/attachments/${address}`, { size: content.length, mime: 'application/pdf' });
    await call(one, 'PUT', `/v1/attachments/${address}?offset=0`, content.subarray(0, MAX_CHUNK_BYTES));
    const missing = sha256(randomBytes(8));
    const asOther = (method: string, at: string, suffix = '', body?: Uint8Array | object) =>
      call(two, method, `/v1/attachments/${at}${suffix}`, body, otherToo).then((r) => seen(r, at));
    expect(await asOther('GET', address)).toEqual(await asOther('GET', missing));
    const tail = content.subarray(MAX_CHUNK_BYTES);
    const finish = await asOther('PUT', address, `?offset=${MAX_CHUNK_BYTES}`, tail);
    expect(finish.status).toBe(404);
    expect(finish).toEqual(await asOther('PUT', missing, `?offset=${MAX_CHUNK_BYTES}`, tail));
    // The owner's upload is where it was.
    expect(status(await call(one, 'GET', `/v1/attachments/${address}`))).toMatchObject({
      received: MAX_CHUNK_BYTES,
      complete: false,
    });
  });

  it('attack: a device of another office sends a wrong proof (the content with one byte changed, or only its first chunk) — refused, no holder, answered as for content not here', async () => {
    const secret = randomBytes(MAX_CHUNK_BYTES + 500);
    const address = sha256(secret);
    expect(status(await upload(secret)).complete).toBe(true);
    const forged = Buffer.from(secret);
    forged[MAX_CHUNK_BYTES + 3] = forged[MAX_CHUNK_BYTES + 3]! ^ 0x01;
    const missingContent = randomBytes(secret.length);
    const missing = sha256(missingContent);

    for (let attempt = 0; attempt < 2; attempt++) {
      const refused = await upload(forged, address, 'application/pdf', other);
      expect(refused.status).toBe(422);
      expect(failure(refused).error).toBe('digest_mismatch');
      expect(statusOfError(refused)).toMatchObject({ received: 0, complete: false });
      const forgedMissing = Buffer.from(missingContent);
      forgedMissing[MAX_CHUNK_BYTES + 3] = forgedMissing[MAX_CHUNK_BYTES + 3]! ^ 0x01;
      expect(seen(refused, address)).toEqual(
        seen(await upload(forgedMissing, missing, 'application/pdf', other), missing),
      );
      expect((await call(two, 'GET', `/v1/attachments/${address}/content`, undefined, other)).status).toBe(404);
    }
    // The first chunk right, the rest never sent: still nothing to read.
    expect(
      (await call(one, 'PUT', `/v1/attachments/${address}?offset=0`, secret.subarray(0, MAX_CHUNK_BYTES), other))
        .status,
    ).toBe(200);
    expect((await call(two, 'GET', `/v1/attachments/${address}/content`, undefined, other)).status).toBe(404);
    const holders = await sql.query(
      `SELECT 1 FROM attachment_holders h JOIN devices d ON d.id = h.device_id
        WHERE h.sha256 = $1 AND d.provider_id = $2`,
      [address, OTHER_PROVIDER_ID],
    );
    expect(holders).toHaveLength(0);
  });

  it('attack: a device floods the attachment calls — 429 with Retry-After once its limit is spent, other devices unaffected', async () => {
    let now = Date.now();
    const limited = await attachmentServer(sql, { burst: 3, perSecond: 0.5 }, () => now);
    try {
      const unknown = sha256(randomBytes(8));
      for (let i = 0; i < 3; i++) {
        expect((await call(limited, 'GET', `/v1/attachments/${unknown}`, undefined, otherToo)).status).toBe(404);
      }
      for (const [method, suffix] of [
        ['GET', ''],
        ['GET', '/content'],
        ['PUT', '?offset=0'],
        ['POST', ''],
      ] as const) {
        const body = method === 'PUT' ? Buffer.from('x') : method === 'POST' ? { size: 1, mime: 'x/y' } : undefined;
        const refused = await call(limited, method, `/v1/attachments/${unknown}${suffix}`, body, otherToo);
        expect(refused.status).toBe(429);
        expect(refused.headers.get('retry-after')).toBe('2');
        expect(failure(refused).error).toBe('rate_limited');
      }
      // Another device has its own limit.
      expect((await call(limited, 'GET', `/v1/attachments/${unknown}`)).status).toBe(404);
      // Once the wait is over, the device is served again.
      now += 2_000;
      expect((await call(limited, 'GET', `/v1/attachments/${unknown}`, undefined, otherToo)).status).toBe(404);
    } finally {
      await limited.close();
    }
  });
});
