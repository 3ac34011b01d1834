/**
 * Password guessing against the central server (the login check and device
 * enrolment), on PGlite and PostgreSQL: tries counted per login and per
 * source in the database, refused (429, no scrypt) while a delay is pending
 * or another try of the login is in flight, a lockout an administrator's
 * unblock lifts, a cap on hashes at once, keyed throttle hashes, and old
 * hashes upgraded at the next login.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { changeMac } from '#core/auth/change-key.js';
import { hashPassword, parseHash, verifyPassword, DEFAULT_SCRYPT } from '#core/auth/passwords.js';
import {
  checkAnswer,
  errorBody,
  pushAnswer,
  PROTOCOL_VERSION,
  SCHEMA_VERSION,
  type CheckAnswer,
} from '#core/protocol.js';
import type { Sql } from '../postgres/sql.js';
import type { RunningServer } from '../server.js';
import { foldLogin, guardSecret, HashGate, loginKey } from './failures.js';
import {
  ADMIN_PASSWORD,
  DEVICE_A,
  deviceToken,
  PROVIDER_ID,
  seedDirectory,
  startTestServer,
  TEST_ADMIN,
  TEST_SCRYPT,
  testDatabases,
  type TestUser,
} from './testing.js';

const PASSWORD = ADMIN_PASSWORD;
const MINUTES = 60_000;
const DEVICE_C = '0b0c1d6e-5d7a-4c53-9a43-6b1de0b6c003';

const user = (id: string, login: string, roles: TestUser['roles'] = []): TestUser => ({
  id,
  login,
  fullName: login.toUpperCase(),
  iin: '900101300017',
  password: PASSWORD,
  roles: roles.length > 0 ? roles : [{ role: 'operator', providerId: PROVIDER_ID }],
});

const USERS: TestUser[] = [
  TEST_ADMIN,
  user('u-boss', 'boss', [{ role: 'admin', providerId: PROVIDER_ID }]),
  user('u-clerk', 'clerk'),
  user('u-clerk2', 'clerk2'),
  user('u-clerk3', 'clerk3'),
  user('u-old', 'old'),
];

/** A hash cap that counts the hashes it let run, and can hold them (to make a try stay in flight). */
class TestGate extends HashGate {
  ran = 0;
  hold: Promise<void> | null = null;

  override run<T>(fn: () => Promise<T>): Promise<T> {
    const hold = this.hold;
    return super.run(async () => {
      this.ran++;
      if (hold) await hold;
      return fn();
    });
  }
}

describe.each(testDatabases())('password guessing on $name', (db) => {
  let sql: Sql;
  /** Behind a trusted proxy: each test speaks from an X-Forwarded-For address of its own. */
  let server: RunningServer;
  /** No proxy trusted: X-Forwarded-For is the client's word, ignored. */
  let direct: RunningServer;
  /** At the full hash cost. */
  let full: RunningServer;
  let token: string;
  let clock = Date.now();
  const now = () => clock;
  const gate = new TestGate(2);

  beforeAll(async () => {
    sql = await db.open();
    await seedDirectory(sql, USERS, clock);
    // A hash made at the cost this server used before (N=2^15).
    await sql.query('UPDATE users SET password_hash = $2 WHERE id = $1', [
      'u-old',
      await hashPassword(PASSWORD, { ln: 15, r: 8, p: 1 }),
    ]);
    server = await startTestServer(sql, { now, auth: { trustProxy: true, gate } });
    direct = await startTestServer(sql, { now });
    full = await startTestServer(sql, { now, auth: { scrypt: DEFAULT_SCRYPT, trustProxy: true } });
    token = await deviceToken(server.url, DEVICE_A);
  });

  afterAll(async () => {
    await server?.close();
    await direct?.close();
    await full?.close();
    await db.close();
  });

  async function post(path: string, body: unknown, from: string | null, on = server, auth = true) {
    const res = await fetch(on.url + path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(auth ? { authorization: `Bearer ${token}` } : {}),
        ...(from ? { 'x-forwarded-for': from } : {}),
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as unknown };
  }

  const login = (name: string, password: string, from: string | null, on = server) =>
    post('/v1/auth/check', { kind: 'password', login: name, password }, from, on);

  async function verdict(name: string, password: string, from: string, on = server): Promise<CheckAnswer> {
    const res = await login(name, password, from, on);
    expect(res.status).toBe(200);
    return checkAnswer.parse(res.body);
  }
  const reason = (a: CheckAnswer) => (a.ok ? 'ok' : a.reason);

  const enrol = (name: string, password: string, from: string) =>
    post(
      '/v1/devices/enrol',
      {
        deviceId: DEVICE_C,
        name: 'Desk C',
        providerId: PROVIDER_ID,
        login: name,
        password,
        protocolVersion: PROTOCOL_VERSION,
      },
      from,
      server,
      false,
    );

  it('attack: 12 wrong enrolment passwords of an administrator, then the right one — locked, no device enrolled', async () => {
    const from = '198.51.100.1';
    const ran = gate.ran;
    // Tries right after one another: three are looked at, then the fourth waits (no scrypt).
    for (let i = 0; i < 3; i++) expect((await enrol('boss', `guess-${i}x`, from)).status).toBe(401);
    const early = await enrol('boss', 'guess-3x', from);
    expect(early.status).toBe(429);
    expect(errorBody.parse(early.body).error).toBe('too_many_attempts');
    expect(early.retryAfter).toBe('1');
    // Patient tries, each after its delay: the tenth failure in a row locks the login.
    const statuses: number[] = [];
    for (let i = 3; i < 12; i++) {
      clock += 10 * MINUTES;
      statuses.push((await enrol('boss', `guess-${i}x`, from)).status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 403, 403, 403]);
    clock += 10 * MINUTES;
    const right = await enrol('boss', PASSWORD, from);
    expect(right.status).toBe(403);
    expect(errorBody.parse(right.body).error).toBe('locked');
    // Ten passwords looked at; the locked tries ran no scrypt.
    expect(gate.ran - ran).toBe(10);
    expect(await sql.query('SELECT id FROM devices WHERE id = $1', [DEVICE_C])).toEqual([]);
  });

  it('attack: 10 parallel guesses of one login — one is checked, the other 9 get 429 with Retry-After and run no scrypt', async () => {
    const ran = gate.ran;
    let release!: () => void;
    gate.hold = new Promise<void>((resolve) => (release = resolve));
    const answered: { status: number; retryAfter: string | null; body: unknown }[] = [];
    const all = Array.from({ length: 10 }, (_, i) =>
      login('clerk', `guess-${i}x`, '198.51.100.2').then((r) => {
        answered.push(r);
        return r;
      }),
    );
    // The first try stays in its scrypt until released: the others arrive meanwhile.
    await vi.waitFor(() => expect(answered).toHaveLength(9), { timeout: 10_000 });
    gate.hold = null;
    release();
    const results = await Promise.all(all);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(9);
    for (const r of refused) {
      expect(errorBody.parse(r.body).error).toBe('too_many_attempts');
      expect(r.retryAfter).toBe('1');
    }
    const checked = results.filter((r) => r.status === 200);
    expect(checked.map((r) => reason(checkAnswer.parse(r.body)))).toEqual(['wrongLoginOrPassword']);
    expect(gate.ran - ran).toBe(1);
  });

  it('attack: a login guessed 10 times in a row is locked, even to the right password, until an administrator unblocks the user', async () => {
    const from = '198.51.100.3';
    const answers: string[] = [];
    for (let i = 0; i < 10; i++) {
      clock += 10 * MINUTES;
      answers.push(reason(await verdict('clerk2', `guess-${i}x`, from)));
    }
    expect(answers).toEqual([...Array<string>(9).fill('wrongLoginOrPassword'), 'locked']);
    // From another address, any case of the login, the right password: still locked, and no scrypt run.
    clock += 10 * MINUTES;
    const ran = gate.ran;
    expect(reason(await verdict(' CLERK2 ', PASSWORD, '198.51.100.33'))).toBe('locked');
    expect(gate.ran).toBe(ran);

    // The administrator unblocks the user (user.unblock, pushed with the key of their own online login).
    const admin = await verdict(TEST_ADMIN.login, PASSWORD, '198.51.100.34');
    if (!admin.ok || !admin.key) throw new Error('the administrator did not get a key');
    const change = {
      seq: 1,
      op: 'user.unblock',
      entity: 'user',
      entityId: 'u-clerk2',
      payload: { userId: 'u-clerk2', by: TEST_ADMIN.id },
      protocolVersion: PROTOCOL_VERSION,
      schemaVersion: SCHEMA_VERSION,
      createdAt: clock,
      signature: null,
    };
    const secret = Buffer.from(admin.key.secret, 'base64');
    const pushed = await post(
      '/v1/push',
      {
        deviceId: DEVICE_A,
        protocolVersion: PROTOCOL_VERSION,
        changes: [{ ...change, auth: { keyId: admin.key.id, mac: changeMac(secret, DEVICE_A, change) } }],
      },
      null,
    );
    expect(pushed.status).toBe(200);
    expect(pushAnswer.parse(pushed.body).results.map((r) => r.outcome)).toEqual(['applied']);
    expect(reason(await verdict('clerk2', PASSWORD, from))).toBe('ok');
  });

  it('attack: a flood of concurrent password checks past the hash cap — 503 busy with Retry-After, not queued', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // Two hashes in flight fill the cap of two.
    const occupying = [gate.run(() => held), gate.run(() => held)];
    const ran = gate.ran;
    const flood = await Promise.all(
      Array.from({ length: 6 }, (_, i) => login(`flood-${i}`, `guess-${i}x`, `203.0.113.${i + 1}`)),
    );
    expect(flood.map((r) => r.status)).toEqual(Array<number>(6).fill(503));
    for (const r of flood) {
      expect(errorBody.parse(r.body).error).toBe('busy');
      expect(r.retryAfter).toBe('1');
    }
    expect((await enrol('admin', PASSWORD, '203.0.113.50')).status).toBe(503);
    expect(gate.ran).toBe(ran);
    release();
    await Promise.all(occupying);
    // A try refused as busy neither counted nor holds its login.
    expect(reason(await verdict('clerk3', PASSWORD, '203.0.113.1'))).toBe('ok');
  });

  it('attack: the throttle table read for typed passwords — its keys are HMACs under the server secret, not SHA-256 of the login', async () => {
    // Someone typed their password into the login field.
    const typed = 'Qyzmet-Secret-77';
    expect(reason(await verdict(typed, 'whatever-1', '198.51.100.5'))).toBe('wrongLoginOrPassword');
    const keys = (await sql.query<{ key: string }>('SELECT key FROM login_guard')).map((r) => r.key);
    const folded = foldLogin(typed);
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const guesses = [typed, folded, `qyzmet-server-login-failures\0${folded}`, `login\0${folded}`].map(sha);
    for (const key of keys) {
      expect(key.toLowerCase()).not.toContain(folded);
      for (const g of guesses) expect(key).not.toContain(g);
    }
    // The key is the HMAC under this database's secret: another secret gives another key.
    const secret = await guardSecret(sql);
    expect(keys).toContain(loginKey(secret, typed));
    expect(keys).not.toContain(loginKey(randomBytes(32), typed));
    // The old table of plain hashes is gone.
    const old = await sql.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'login_failures'`);
    expect(old).toEqual([]);
  });

  it('attack: guesses spread over many logins from one address — the address is slowed after 20 failures', async () => {
    const from = '198.51.100.6';
    for (let i = 0; i < 20; i++) {
      expect(reason(await verdict(`spray-${i}`, `guess-${i}x`, from))).toBe('wrongLoginOrPassword');
    }
    const next = await login('spray-20', 'guess-20x', from);
    expect(next.status).toBe(429);
    expect(errorBody.parse(next.body).error).toBe('too_many_attempts');
    // Another address is not slowed by it.
    expect(reason(await verdict('spray-21', 'guess-21x', '198.51.100.7'))).toBe('wrongLoginOrPassword');
  });

  it('attack: a client forges X-Forwarded-For for a fresh address each try — with no proxy trusted its socket address is counted', async () => {
    for (let i = 0; i < 20; i++) {
      expect(reason(await verdict(`forger-${i}`, `guess-${i}x`, `192.0.2.${i + 1}`, direct))).toBe(
        'wrongLoginOrPassword',
      );
    }
    const next = await login('forger-20', 'guess-20x', '192.0.2.99', direct);
    expect(next.status).toBe(429);
    clock += 10 * MINUTES;
  });

  it('attack: a hash stored at the old cost (N=2^15) — the next login replaces it with one at N=2^17', async () => {
    const [before] = await sql.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [
      'u-old',
    ]);
    expect(parseHash(before!.password_hash)?.params).toEqual({ ln: 15, r: 8, p: 1 });
    expect(reason(await verdict('old', PASSWORD, '198.51.100.8', full))).toBe('ok');
    const [after] = await sql.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [
      'u-old',
    ]);
    expect(parseHash(after!.password_hash)?.params).toEqual(DEFAULT_SCRYPT);
    expect(DEFAULT_SCRYPT).toEqual({ ln: 17, r: 8, p: 1 });
    expect(await verifyPassword(PASSWORD, after!.password_hash)).toBe(true);
    expect(reason(await verdict('old', PASSWORD, '198.51.100.8', full))).toBe('ok');
    // TEST_SCRYPT hashes are not touched by a server of that cost.
    const [clerk] = await sql.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [
      'u-clerk3',
    ]);
    expect(parseHash(clerk!.password_hash)?.params).toEqual(TEST_SCRYPT);
  });
});
