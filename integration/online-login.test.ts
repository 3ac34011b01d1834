/**
 * The workstation's side of online login against the real central server
 * (startServer, embedded database), enrolled the way a workstation is, and
 * through the sync tests' fault proxy: every verdict the server gives, a
 * 401 answered by one token refresh, and every way the server can fail to
 * answer ending as OnlineUnreachable, never a crash. Last, the whole login
 * of the AuthService going online through it.
 */
import { randomUUID, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { importCrl } from '#server/src/auth/crls.js';
import { PROVIDER_ID, seedDirectory, TEST_SCRYPT as SERVER_SCRYPT, type TestUser } from '#server/src/auth/testing.js';
import { enrolAnswer, PROTOCOL_VERSION, tokenAnswer } from '#core/protocol.js';
import { startServer, type RunningServer } from '#server/src/server.js';
import { notJson, serverError, startFaultProxy, wrongShape, type FaultProxy } from '#server/src/testing/fault-proxy.js';
import { standardPeople, TestPki } from '#signing/testing/pki.js';
import { challengeDocument } from '#core/auth/challenge.js';
import { HttpOnlineAuth, type HttpOnlineAuthOptions } from '#main/auth/online-http.js';
import { OnlineUnreachable, type OnlineCheck } from '#main/auth/online.js';
import { AuthService } from '#main/auth/service.js';
import { TEST_SCRYPT, testDatabase, type TestDb } from '#main/auth/testing.js';

const PASSWORD = 'Qyzmet2026';
const USERS: TestUser[] = [
  {
    id: 'srv-admin',
    login: 'admin',
    fullName: 'Әкімов Әкім',
    iin: '920704300019',
    password: PASSWORD,
    roles: [{ role: 'admin', providerId: '' }],
  },
  {
    id: 'srv-testov',
    login: 'testov',
    fullName: 'ТЕСТОВ ТЕСТ',
    iin: '900101300017',
    password: PASSWORD,
    roles: [{ role: 'executor', providerId: PROVIDER_ID }],
  },
  {
    id: 'srv-blocked',
    login: 'blocked',
    fullName: 'Бұғатталған',
    iin: '951103401232',
    password: PASSWORD,
    blocked: true,
    roles: [],
  },
];

let dir: string;
let pki: TestPki;
let people: ReturnType<typeof standardPeople>;
let server: RunningServer;
let proxy: FaultProxy;
let deviceId: string;
let deviceSecret: string;

async function postJson(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return res.json();
}

async function freshToken(): Promise<string> {
  return tokenAnswer.parse(await postJson(`${server.url}/v1/devices/token`, { deviceId, deviceSecret })).accessToken;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-online-http-'));
  pki = new TestPki(join(dir, 'pki'));
  people = standardPeople(pki);
  const trustDir = join(dir, 'trusted');
  mkdirSync(trustDir);
  writeFileSync(join(trustDir, 'root.pem'), pki.root.certPem);
  writeFileSync(join(trustDir, 'ca.pem'), pki.ca.certPem);

  server = await startServer({
    seed: 'none',
    trustDirs: [trustDir],
    crlDir: null,
    auth: { scrypt: SERVER_SCRYPT, failureDelayMs: () => 0 },
    log: () => undefined,
  });
  await seedDirectory(server.sql, USERS);
  await importCrl(server.sql, pki.crl(24));
  // Enrolled as a workstation is: an administrator's credentials, then the device secret for tokens.
  deviceId = randomUUID();
  const enrolled = enrolAnswer.parse(
    await postJson(`${server.url}/v1/devices/enrol`, {
      deviceId,
      name: 'Desk 7',
      providerId: PROVIDER_ID,
      login: 'admin',
      password: PASSWORD,
      protocolVersion: PROTOCOL_VERSION,
    }),
  );
  deviceSecret = enrolled.deviceSecret;
  proxy = await startFaultProxy(server.url);
});

afterAll(async () => {
  await proxy?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => proxy.reset());

/** A client with a token store: `token` is what accessToken() gives first (absent: a fresh one), refreshes count the new ones. */
function client(overrides: Partial<HttpOnlineAuthOptions> & { token?: string | null } = {}) {
  const { token, ...options } = overrides;
  const store: { token: string | null | undefined; refreshes: number; requests: number } = {
    token,
    refreshes: 0,
    requests: 0,
  };
  const auth = new HttpOnlineAuth({
    baseUrl: `${server.url}/`,
    accessToken: async () => (store.token === undefined ? (store.token = await freshToken()) : store.token),
    refreshToken: async () => {
      store.refreshes++;
      store.token = await freshToken();
      return store.token;
    },
    fetch: (input, init) => {
      store.requests++;
      return fetch(input, init);
    },
    timeoutMs: 2_000,
    ...options,
  });
  return { auth, store };
}

const password = (login: string, pw: string): OnlineCheck => ({
  kind: 'password',
  deviceId: 'ignored',
  login,
  password: Buffer.from(pw, 'utf8'),
});

async function unreachable(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof OnlineUnreachable) return err.message.replace(/^central server: /, '');
    throw err;
  }
  throw new Error('expected OnlineUnreachable');
}

describe('verdicts', () => {
  it('lets a right password in with the directory user, and a fresh user key for this device', async () => {
    const { auth } = client();
    const verdict = await auth.check(password('testov', PASSWORD));
    expect(verdict).toEqual({
      ok: true,
      key: {
        id: expect.any(String) as string,
        secret: expect.any(String) as string,
        issuedAt: expect.any(Number) as number,
        expiresAt: expect.any(Number) as number,
      },
      user: {
        id: 'srv-testov',
        login: 'testov',
        fullName: 'ТЕСТОВ ТЕСТ',
        iin: '900101300017',
        blocked: false,
        mustChangePassword: false,
        roles: [{ role: 'executor', providerId: PROVIDER_ID }],
      },
    });
    const key = verdict.ok ? verdict.key! : null;
    const [held] = await server.sql.query<{ userId: string; deviceId: string }>(
      'SELECT user_id AS "userId", device_id AS "deviceId" FROM user_keys WHERE id = $1',
      [key!.id],
    );
    expect(held).toEqual({ userId: 'srv-testov', deviceId });
  });

  it('passes the refusals on', async () => {
    const { auth } = client();
    expect(await auth.check(password('testov', 'wrong-pass-1'))).toEqual({ ok: false, reason: 'wrongLoginOrPassword' });
    expect(await auth.check(password('nobody', PASSWORD))).toEqual({ ok: false, reason: 'wrongLoginOrPassword' });
    expect(await auth.check(password('blocked', PASSWORD))).toEqual({ ok: false, reason: 'userBlocked' });
    expect(await auth.check({ kind: 'recheck', deviceId, userId: 'srv-gone' })).toEqual({
      ok: false,
      reason: 'userNotFound',
    });
    // A recheck is answered for a user who logged in online at this device before; it brings no key.
    expect((await auth.check(password('admin', PASSWORD))).ok).toBe(true);
    const recheck = await auth.check({ kind: 'recheck', deviceId, userId: 'srv-admin' });
    expect(recheck.ok).toBe(true);
    expect(recheck.ok && recheck.key).toBeFalsy();
  });

  it('logs in by EDS on the server’s challenge, and says why a certificate is refused', async () => {
    const { auth } = client();
    const edsCheck = async (person: typeof people.auth) => {
      const challenge = await auth.challenge(deviceId);
      expect(challenge.expiresAt - challenge.issuedAt).toBe(60_000);
      const signed = challengeDocument(challenge, deviceId);
      const signature = sign('sha256', signed, person.keyPem);
      return auth.check({ kind: 'eds', deviceId, challenge, signed, signature, certificate: person.certDer });
    };
    const ok = await edsCheck(people.auth);
    expect(ok.ok && ok.user.id).toBe('srv-testov');
    expect(await edsCheck(people.sign)).toEqual({ ok: false, reason: 'certificateRejected', detail: 'wrongKeyUsage' });
    expect(await edsCheck(people.expired)).toEqual({ ok: false, reason: 'certificateRejected', detail: 'certExpired' });
  });
});

describe('tokens', () => {
  it('is unreachable without enrolment, and asks nothing', async () => {
    const { auth, store } = client({ token: null, refreshToken: () => Promise.resolve(null) });
    expect(await unreachable(auth.check(password('testov', PASSWORD)))).toBe('not enrolled');
    expect(await unreachable(auth.challenge(deviceId))).toBe('not enrolled');
    expect(store.requests).toBe(0);
  });

  it('gets a new token once after a 401 and goes on', async () => {
    const { auth, store } = client({ token: 'stale-access-token-0001' });
    expect((await auth.check(password('testov', PASSWORD))).ok).toBe(true);
    expect(store.refreshes).toBe(1);
    expect(store.requests).toBe(2);
    // The fresh token serves the next call without another refresh.
    expect((await auth.challenge(deviceId)).nonce.length).toBeGreaterThan(16);
    expect(store.refreshes).toBe(1);
  });

  it('gives up after one refresh that does not help, or none to be had', async () => {
    const still = client({
      token: 'stale-access-token-0002',
      refreshToken: () => Promise.resolve('stale-access-token-0003'),
    });
    expect(await unreachable(still.auth.check(password('testov', PASSWORD)))).toBe('unauthorized');
    expect(still.store.requests).toBe(2);
    const none = client({ token: 'stale-access-token-0004', refreshToken: () => Promise.resolve(null) });
    expect(await unreachable(none.auth.check(password('testov', PASSWORD)))).toBe('unauthorized');
    const broken = client({ accessToken: () => Promise.reject(new Error('keychain locked')) });
    expect(await unreachable(broken.auth.challenge(deviceId))).toMatch(/^no access token/);
  });
});

describe('failures to answer', () => {
  const viaProxy = () => client({ baseUrl: proxy.url, timeoutMs: 500 });

  it('turns 5xx, answers that are not JSON or do not fit, and 4xx into OnlineUnreachable', async () => {
    const { auth } = viaProxy();
    proxy.setDefault(serverError(503));
    expect(await unreachable(auth.check(password('testov', PASSWORD)))).toBe('HTTP 503 internal');
    proxy.setDefault(notJson());
    expect(await unreachable(auth.check(password('testov', PASSWORD)))).toBe('malformed answer');
    proxy.setDefault(wrongShape());
    expect(await unreachable(auth.challenge(deviceId))).toBe('malformed answer');
    proxy.reset();
    // A request the server refuses (here: a password past the protocol's limit) is no verdict either.
    expect(await unreachable(auth.check(password('testov', 'x'.repeat(300))))).toBe('HTTP 400 bad_request');
  });

  it('turns a dropped connection, a truncated answer and a timeout into OnlineUnreachable', async () => {
    const { auth } = viaProxy();
    proxy.setDefault({ kind: 'dropBeforeForward' });
    expect(await unreachable(auth.check(password('testov', PASSWORD)))).toBe('network error');
    proxy.setDefault({ kind: 'truncate', bytes: 20 });
    expect(await unreachable(auth.check(password('testov', PASSWORD)))).toBe('network error');
    proxy.setDefault({ kind: 'delay', ms: 1_500, where: 'answer' });
    const started = Date.now();
    expect(await unreachable(auth.check(password('testov', PASSWORD)))).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1_400);
  });

  it('is unreachable when nothing listens', async () => {
    const closed: Server = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { auth } = client({ baseUrl: `http://127.0.0.1:${port}` });
    expect(await unreachable(auth.check(password('testov', PASSWORD)))).toBe('network error');
  });
});

describe('the workstation’s login through it', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await testDatabase(10);
  });
  afterAll(() => db?.close());

  it('logs in online, takes the server’s user into the local directory, and falls back offline when cut', async () => {
    const { auth: online } = client();
    const service = new AuthService({
      sqlite: db.sqlite,
      signer: null,
      online,
      isOnline: () => true,
      deviceId,
      scrypt: TEST_SCRYPT,
      now: db.clock.now,
    });
    const session = await service.loginPassword('admin', PASSWORD);
    expect(session).toMatchObject({ offline: false, user: { id: 'srv-admin', login: 'admin' } });
    expect(service.directory.byId('srv-admin')?.passwordHash).toMatch(/^\$scrypt\$/);
    await service.logout();

    // The server answers no more: the password the server accepted works offline.
    proxy.setDefault({ kind: 'dropBeforeForward' });
    const cut = new AuthService({
      sqlite: db.sqlite,
      signer: null,
      online: client({ baseUrl: proxy.url }).auth,
      isOnline: () => true,
      deviceId,
      scrypt: TEST_SCRYPT,
      now: db.clock.now,
    });
    expect(await cut.loginPassword('admin', PASSWORD)).toMatchObject({ offline: true, user: { id: 'srv-admin' } });
  });

  it('logs out a user the server blocked while the session was offline, and keeps what they queued', async () => {
    proxy.setDefault({ kind: 'dropBeforeForward' });
    const service = new AuthService({
      sqlite: db.sqlite,
      signer: null,
      online: client({ baseUrl: proxy.url }).auth,
      isOnline: () => true,
      deviceId,
      scrypt: TEST_SCRYPT,
      now: db.clock.now,
    });
    expect(await service.loginPassword('admin', PASSWORD)).toMatchObject({ offline: true });
    // Work done offline, waiting for the server.
    db.sqlite
      .prepare(
        `INSERT INTO outbox (op, entity, entity_id, payload, protocol_version, schema_version, created_at)
         VALUES ('user.profile', 'user', 'srv-admin', '{}', 1, 1, ?)`,
      )
      .run(db.clock.now());
    const queued = (
      db.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE state = 'pending'").get() as { n: number }
    ).n;
    // Meanwhile an administrator blocks the user on the server; then the connection comes back.
    await server.sql.query('UPDATE users SET blocked = true WHERE id = $1', ['srv-admin']);
    try {
      proxy.reset();
      expect(await service.recheck()).toBe('loggedOut');
      expect(service.session()).toMatchObject({ user: null, notice: 'blocked' });
      expect(service.directory.byId('srv-admin')?.blocked).toBe(true);
      const after = (
        db.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE state = 'pending'").get() as { n: number }
      ).n;
      expect(after).toBe(queued);
    } finally {
      await server.sql.query('UPDATE users SET blocked = false WHERE id = $1', ['srv-admin']);
    }
  });
});
