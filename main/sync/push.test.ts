/**
 * The push's numbering against a small node:http server that keeps a
 * device's last seq as the protocol says (duplicates below it, 409 gap above
 * the next), and that a test can set back or forward: a server restored from
 * a backup, a workstation database restored from one, a crash between
 * numbering and sending, a row that cannot be sent. The fake checks each
 * change's proof (core/auth/change-key.ts) under the keys it handed out, as
 * the central server does, and can defer a change.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { changeAuthorOf, macMatches } from '#core/auth/change-key.js';
import type { Change, PushRequest, PushResult, UserKey } from '#core/protocol.js';
import { PushDeferred } from './engine.js';
import { prepareBatch } from './push.js';
import { UserKeys } from './user-keys.js';
import { fileSecretBox } from './credentials.js';
import { openWorkstation, outboxRows, testUserKey, type Workstation } from './testing.js';

interface FakeServer {
  url: string;
  lastSeq: number;
  /** What the server holds at each seq (the change's entity id). */
  held: Map<number, string>;
  /** Every seq that arrived, in order (duplicates included). */
  arrived: number[];
  /** The user keys handed out: key id → user and key. */
  keys: Map<string, { userId: string; key: UserKey }>;
  /** The key id each applied seq was proved with. */
  provedBy: Map<number, string>;
  /** Seqs to answer 'deferred' once. */
  deferOnce: Set<number>;
}

/** The fake's check of a change's proof: a key it handed out, of the change's author, whose MAC matches. */
function proved(deviceId: string, c: Change): boolean {
  if (!c.auth) return false;
  const held = fake.keys.get(c.auth.keyId);
  if (!held || held.userId !== changeAuthorOf(c.op, c.payload)) return false;
  return macMatches(Buffer.from(held.key.secret, 'base64'), deviceId, c, c.auth.mac);
}

let server: Server;
let fake: FakeServer;
let w: Workstation;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function body<T>(req: IncomingMessage): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
}

function push(req: PushRequest, res: ServerResponse): void {
  const now = Date.now();
  const first = req.changes[0]!.seq;
  if (first > fake.lastSeq + 1) {
    return json(res, 409, { error: 'gap', expectedSeq: fake.lastSeq + 1, serverTime: now });
  }
  const results: PushResult[] = [];
  for (const c of req.changes) {
    fake.arrived.push(c.seq);
    if (c.seq <= fake.lastSeq) {
      results.push({ seq: c.seq, outcome: 'duplicate', serverVersion: c.seq * 10, reason: null, message: null });
      continue;
    }
    if (fake.deferOnce.delete(c.seq)) {
      // Nothing after a deferred change is looked at; last seq stays before it.
      results.push({ seq: c.seq, outcome: 'deferred', serverVersion: null, reason: 'revocationUnknown', message: 'x' });
      break;
    }
    fake.lastSeq = c.seq;
    if (!proved(req.deviceId, c)) {
      results.push({ seq: c.seq, outcome: 'rejected', serverVersion: null, reason: 'unauthenticated', message: null });
      continue;
    }
    fake.held.set(c.seq, c.entityId);
    fake.provedBy.set(c.seq, c.auth!.keyId);
    results.push({ seq: c.seq, outcome: 'applied', serverVersion: c.seq * 10, reason: null, message: null });
  }
  json(res, 200, { results, lastSeq: fake.lastSeq, serverTime: now });
}

beforeEach(async () => {
  fake = {
    url: '',
    lastSeq: 0,
    held: new Map(),
    arrived: [],
    keys: new Map(),
    provedBy: new Map(),
    deferOnce: new Set(),
  };
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const now = Date.now();
    if (path === '/v1/devices/enrol') {
      void body<{ deviceId: string }>(req).then((b) =>
        json(res, 200, {
          deviceId: b.deviceId,
          deviceSecret: 's'.repeat(43),
          partitions: ['global'],
          providerId: 'p',
          serverTime: now,
        }),
      );
    } else if (path === '/v1/devices/token') {
      json(res, 200, { accessToken: 't'.repeat(32), expiresAt: now + 600_000, serverTime: now });
    } else if (path === '/v1/push') {
      void body<PushRequest>(req).then((b) => push(b, res));
    } else if (path === '/v1/snapshot') {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.end(
        JSON.stringify({ kind: 'header', partition: 'global', rows: 0, serverTime: now }) +
          '\n' +
          JSON.stringify({ kind: 'end', cursor: 'c0', version: 0, count: 0 }) +
          '\n',
      );
    } else if (path === '/v1/pull') {
      json(res, 200, { partition: 'global', rows: [], cursor: 'c0', version: 0, hasMore: false, serverTime: now });
    } else json(res, 404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  w = await openWorkstation({ serverUrl: fake.url });
  await w.engine.enrol({ providerId: 'p', login: 'admin.demo', password: DEMO_PASSWORD });
});

afterEach(async () => {
  await w.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The server hands `userId` a key at an online login here; the workstation keeps it. */
function login(userId: string): UserKey {
  const key = testUserKey();
  fake.keys.set(key.id, { userId, key });
  w.engine.keepUserKey(userId, key);
  return key;
}

/** A local change (a profile edit of user `by`, who holds a key unless `by` says otherwise), as the services write them. */
function change(name: string, payload?: string, by = 'u-1'): number {
  if (payload === undefined && by === 'u-1' && !w.engine.hasUserKey(by)) login(by);
  payload ??= JSON.stringify({ id: by, fullName: name });
  return Number(
    w.sqlite
      .prepare(
        `INSERT INTO outbox (op, entity, entity_id, payload, protocol_version, schema_version, created_at)
         VALUES ('user.profile', 'user', ?, ?, 1, 1, ?)`,
      )
      .run(name, payload, Date.now()).lastInsertRowid,
  );
}

async function run(): Promise<void> {
  await w.engine.runOnce();
  expect(w.engine.lastFailure()).toBeNull();
}

describe('push numbering', () => {
  it('numbers rows from 1 when first sent, rows written before enrolment included', async () => {
    await w.close();
    w = await openWorkstation({ serverUrl: fake.url });
    change('before-1');
    change('before-2');
    await w.engine.enrol({ providerId: 'p', login: 'admin.demo', password: DEMO_PASSWORD });
    change('after-1');
    await run();
    expect(outboxRows(w.sqlite).map((r) => [r.deviceSeq, r.state, r.serverVersion])).toEqual([
      [1, 'sent', 10],
      [2, 'sent', 20],
      [3, 'sent', 30],
    ]);
    expect([...fake.held.values()]).toEqual(['before-1', 'before-2', 'after-1']);
  });

  it('sends the same numbers again after a crash between numbering and sending', async () => {
    change('a');
    change('b');
    // Numbered and counted, then the process died before the request left.
    const device = w.sqlite
      .prepare('SELECT device_id AS deviceId, epoch, seq_base AS seqBase FROM sync_device')
      .get() as {
      deviceId: string;
      epoch: number;
      seqBase: number;
    };
    const batch = prepareBatch(
      w.sqlite,
      { ...device, name: 'x', providerId: 'p', partitions: ['global'], enrolledAt: 0, revokedAt: null },
      null,
      500,
      Date.now,
      new UserKeys(w.sqlite, fileSecretBox(w.dir), Date.now),
    );
    expect(batch.changes.map((c) => c.seq)).toEqual([1, 2]);
    change('c');
    await run();
    expect(fake.arrived).toEqual([1, 2, 3]);
    expect(outboxRows(w.sqlite).map((r) => [r.deviceSeq, r.state, r.attempts])).toEqual([
      [1, 'sent', 1],
      [2, 'sent', 1],
      [3, 'sent', 1],
    ]);
  });

  it('sends acknowledged changes again when the server lost them (a gap below what we send)', async () => {
    change('a');
    change('b');
    change('c');
    await run();
    // The server was restored from a backup taken after seq 1.
    fake.lastSeq = 1;
    fake.held.delete(2);
    fake.held.delete(3);
    change('d');
    await run();
    expect([...fake.held.entries()].sort((x, y) => x[0] - y[0])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ]);
    expect(outboxRows(w.sqlite).map((r) => [r.deviceSeq, r.state])).toEqual([
      [1, 'sent'],
      [2, 'sent'],
      [3, 'sent'],
      [4, 'sent'],
    ]);
    expect(w.logs.some((l) => l.includes('sending them again'))).toBe(true);
  });

  it("numbers again after the server's count when its seqs belong to other changes (a database restored)", async () => {
    // The server holds seqs 1–5 of this device from changes this database no longer has.
    fake.lastSeq = 5;
    for (let i = 1; i <= 5; i++) fake.held.set(i, `lost-${i}`);
    change('x');
    change('y');
    await run();
    expect(fake.held.get(6)).toBe('x');
    expect(fake.held.get(7)).toBe('y');
    expect(fake.held.get(1)).toBe('lost-1');
    expect(outboxRows(w.sqlite).map((r) => [r.deviceSeq, r.state])).toEqual([
      [6, 'sent'],
      [7, 'sent'],
    ]);
    expect(w.sqlite.prepare('SELECT epoch, seq_base AS base FROM sync_device').get()).toEqual({ epoch: 2, base: 5 });
  });

  it('numbers again from what the server expects when the rows before it are not here', async () => {
    fake.lastSeq = 2;
    change('a');
    change('b');
    change('c');
    // This epoch starts after seq 4, past what the server has: it wants 3, which no row here holds.
    w.sqlite.prepare('UPDATE sync_device SET seq_base = 4').run();
    await run();
    expect(fake.held.get(3)).toBe('a');
    expect(fake.held.get(5)).toBe('c');
    expect(outboxRows(w.sqlite).map((r) => r.deviceSeq)).toEqual([3, 4, 5]);
  });

  it('rejects here a row that cannot be sent, before it takes a number', async () => {
    change('good-1');
    const broken = change('broken', '{"not json');
    change('good-2');
    await run();
    const rows = outboxRows(w.sqlite);
    expect(rows.map((r) => [r.seq === broken, r.deviceSeq, r.state, r.rejectReason])).toEqual([
      [false, 1, 'sent', null],
      [true, null, 'rejected', 'invalid'],
      [false, 2, 'sent', null],
    ]);
    expect(fake.arrived).toEqual([1, 2]);
    expect(w.engine.status().rejectedCount).toBe(1);
  });

  it('splits the queue into batches of the size asked for', async () => {
    await w.close();
    w = await openWorkstation({ serverUrl: fake.url, pushBatchSize: 4 });
    await w.engine.enrol({ providerId: 'p', login: 'admin.demo', password: DEMO_PASSWORD });
    for (let i = 0; i < 10; i++) change(`c${i}`);
    const progress: number[] = [];
    w.engine.onChange(() => {
      const a = w.engine.details().activity;
      if (a.phase === 'pushing' && a.done > 0) progress.push(a.done);
    });
    await run();
    expect(progress).toEqual([4, 8, 10]);
    expect(fake.lastSeq).toBe(10);
    expect(fake.arrived).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe("each change carries its author's proof", () => {
  it("MACs a change with its author's key and not another's", async () => {
    const k1 = login('u-1');
    const k2 = login('u-2');
    change('one', undefined, 'u-1');
    change('two', JSON.stringify({ id: 'u-2', fullName: 'two' }), 'u-2');
    await run();
    expect(fake.provedBy.get(1)).toBe(k1.id);
    expect(fake.provedBy.get(2)).toBe(k2.id);
    expect(outboxRows(w.sqlite).map((r) => r.state)).toEqual(['sent', 'sent']);
  });

  it('attack: a change of a user who holds no key here is sent under the key of one who does — not done, it waits', async () => {
    login('u-1');
    change('theirs', JSON.stringify({ id: 'u-2', fullName: 'not u-1' }), 'u-2');
    await run();
    expect(fake.arrived).toEqual([]);
    expect(outboxRows(w.sqlite).map((r) => [r.deviceSeq, r.state])).toEqual([[null, 'pending']]);
  });

  it('a change of a user with no key here waits (the status names them); it goes after their online login', async () => {
    change('a');
    change('b', JSON.stringify({ id: 'u-3', fullName: 'b' }), 'u-3');
    change('c');
    await run();
    expect(fake.arrived).toEqual([1]);
    expect(outboxRows(w.sqlite).map((r) => r.state)).toEqual(['sent', 'pending', 'pending']);
    expect(w.engine.details().waitingForLogin).toEqual({ userId: 'u-3', fullName: null });
    expect(w.engine.status().lastError).toBe('waiting_login: u-3');
    expect(w.engine.status().queueDepth).toBe(2);

    login('u-3');
    expect(w.engine.details().waitingForLogin).toBeNull();
    await run();
    expect(fake.arrived).toEqual([1, 2, 3]);
    expect(outboxRows(w.sqlite).map((r) => r.state)).toEqual(['sent', 'sent', 'sent']);
    expect(w.engine.status().lastError).toBeNull();
  });

  it('names the waiting user by their name when the directory knows them', async () => {
    w.sqlite
      .prepare(
        `INSERT INTO users (id, login, full_name, iin, blocked, must_change_password, created_at, updated_at)
         VALUES ('u-9', 'u9', 'Асқар Бекұлы', '900101300009', 0, 0, 0, 0)`,
      )
      .run();
    change('z', JSON.stringify({ id: 'u-9', fullName: 'z' }), 'u-9');
    await run();
    expect(w.engine.details().waitingForLogin).toEqual({ userId: 'u-9', fullName: 'Асқар Бекұлы' });
    expect(w.engine.status().lastError).toBe('waiting_login: Асқар Бекұлы');
  });

  it('a deferred change stays queued with the reason shown, and goes in a later run after the backoff', async () => {
    change('a');
    change('b');
    change('c');
    fake.deferOnce.add(2);
    await w.engine.runOnce();
    expect(w.engine.lastFailure()).toBeInstanceOf(PushDeferred);
    expect(w.engine.status().lastError).toMatch(/^deferred: revocationUnknown/);
    expect(w.engine.details().activity.retryAt).not.toBeNull();
    expect(outboxRows(w.sqlite).map((r) => [r.deviceSeq, r.state])).toEqual([
      [1, 'sent'],
      [2, 'pending'],
      [3, 'pending'],
    ]);
    await run();
    expect(outboxRows(w.sqlite).map((r) => [r.deviceSeq, r.state])).toEqual([
      [1, 'sent'],
      [2, 'sent'],
      [3, 'sent'],
    ]);
    expect([...fake.held.values()]).toEqual(['a', 'b', 'c']);
  });
});
