/**
 * The login endpoints against a real database (PGlite, and PostgreSQL when
 * a cluster can start), with certificates of the tests' own CA, a CRL kept
 * in the server's table, and a clock the tests move: every refusal a
 * password or an EDS login can get, and the ways through.
 */
import { sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengeDocument } from '#core/auth/challenge.js';
import { standardPeople, TestPki, type Person } from '#signing/testing/pki.js';
import { guardSecret, loginKey } from '../auth/failures.js';
import { importCrl } from '../auth/crls.js';
import {
  DEVICE_A,
  DEVICE_B,
  deviceToken,
  OTHER_PROVIDER_BIN,
  PROVIDER_BIN,
  PROVIDER_ID,
  seedDirectory,
  startTestServer,
  TEST_ADMIN,
  TEST_SCRYPT,
  testDatabases,
  type TestUser,
} from '../auth/testing.js';
import type { Sql } from '../postgres/sql.js';
import { challengeAnswer, checkAnswer, errorBody, type CheckAnswer } from '#core/protocol.js';
import type { RunningServer } from '../server.js';

const DAY = 86_400_000;
const PASSWORD = TEST_ADMIN.password!;

const IIN = {
  testov: '900101300017', // standardPeople: auth and sign
  head: '850315400015',
  blocked: '951103401232',
  stranger: '880512300779',
};

const USERS: TestUser[] = [
  TEST_ADMIN,
  {
    id: 'u-testov',
    login: 'Testov',
    fullName: 'ТЕСТОВ ТЕСТ ТЕСТОВИЧ',
    iin: IIN.testov,
    password: PASSWORD,
    roles: [
      { role: 'executor', providerId: PROVIDER_ID },
      { role: 'operator', providerId: PROVIDER_ID },
    ],
  },
  {
    id: 'u-head',
    login: 'head',
    fullName: 'ӘБІЛҚАСЫМОВА ГҮЛНАР',
    iin: IIN.head,
    password: null,
    roles: [{ role: 'head', providerId: PROVIDER_ID }],
  },
  {
    id: 'u-blocked',
    login: 'blocked',
    fullName: 'БҰҒАТТАЛҒАН',
    iin: IIN.blocked,
    password: PASSWORD,
    blocked: true,
    roles: [{ role: 'operator', providerId: PROVIDER_ID }],
  },
];

let dir: string;
let pki: TestPki;
let other: TestPki;
let people: ReturnType<typeof standardPeople>;
let persons: Record<
  'headAuth' | 'headOtherOrg' | 'blocked' | 'stranger' | 'expiredAuth' | 'revokedAuth' | 'foreign',
  Person
>;
let trustDir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-server-auth-'));
  pki = new TestPki(join(dir, 'pki'));
  other = new TestPki(join(dir, 'other'));
  people = standardPeople(pki);
  const auth = (name: string, iin: string, extra: Partial<Parameters<TestPki['issue']>[0]> = {}) =>
    pki.issue({ name, surname: 'ТЕСТ', firstName: name.toUpperCase(), iin, purpose: 'auth', ...extra });
  const now = Date.now();
  persons = {
    headAuth: auth('head-auth', IIN.head, {
      bin: PROVIDER_BIN,
      organisation: 'Отдел занятости',
      roles: ['legalEntity', 'head'],
    }),
    headOtherOrg: auth('head-other', IIN.head, {
      bin: OTHER_PROVIDER_BIN,
      organisation: 'Отдел образования',
      roles: ['legalEntity', 'head'],
    }),
    blocked: auth('blocked', IIN.blocked),
    stranger: auth('stranger', IIN.stranger),
    expiredAuth: auth('expired-auth', IIN.testov, {
      notBefore: new Date(now - 400 * DAY),
      notAfter: new Date(now - 10 * DAY),
    }),
    revokedAuth: auth('revoked-auth', IIN.testov),
    foreign: other.issue({ name: 'foreign', surname: 'ЖАТ', firstName: 'КІСІ', iin: IIN.testov, purpose: 'auth' }),
  };
  pki.revoke(persons.revokedAuth);
  trustDir = join(dir, 'trusted');
  mkdirSync(trustDir);
  writeFileSync(join(trustDir, 'root.pem'), pki.root.certPem);
  writeFileSync(join(trustDir, 'ca.pem'), pki.ca.certPem);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(testDatabases())('login endpoints on $name', (db) => {
  let sql: Sql;
  let server: RunningServer;
  let second: RunningServer;
  const tokens: Record<string, string> = {};
  let clock = Date.now();
  const now = () => clock;

  beforeAll(async () => {
    sql = await db.open();
    await seedDirectory(sql, USERS, clock);
    const result = await importCrl(sql, pki.crl(24));
    expect(result.imported).toBe(true);
    const options = {
      trustDirs: [trustDir],
      crlDir: null,
      failureDelayMs: (count: number) => (count < 3 ? 0 : 1000 * 2 ** (count - 3)),
      // Every test here comes from one address: its count is guessing.test.ts's subject.
      sourceDelayMs: () => 0,
      scrypt: TEST_SCRYPT,
    };
    // Two instances on one database, each with its own trust state: what one issues the other honours.
    server = await startTestServer(sql, { now, auth: options });
    second = await startTestServer(db.another(sql), { now, auth: options });
    tokens['token-a'] = await deviceToken(server.url, DEVICE_A);
    tokens['token-b'] = await deviceToken(second.url, DEVICE_B);
  });

  afterAll(async () => {
    await server?.close();
    await second?.close();
    await db.close();
  });

  async function post(path: string, body: unknown, token = 'token-a', on = server) {
    const res = await fetch(on.url + path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${tokens[token] ?? token}` } : {}),
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as unknown };
  }

  async function check(body: unknown, token = 'token-a', on = server): Promise<CheckAnswer> {
    const res = await post('/v1/auth/check', body, token, on);
    expect(res.status).toBe(200);
    return checkAnswer.parse(res.body);
  }

  async function challenge(token = 'token-a', on = server) {
    const res = await post('/v1/auth/challenge', {}, token, on);
    expect(res.status).toBe(200);
    return challengeAnswer.parse(res.body);
  }

  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

  /** The check request a workstation makes: the challenge document for `deviceId`, signed with `person`'s key. */
  function signedRequest(
    ch: { nonce: string; issuedAt: number; expiresAt: number },
    person: Person,
    deviceId = DEVICE_A,
  ) {
    const doc = challengeDocument(ch, deviceId);
    return {
      kind: 'eds',
      nonce: ch.nonce,
      issuedAt: ch.issuedAt,
      expiresAt: ch.expiresAt,
      signed: b64(doc),
      signature: b64(sign('sha256', doc, person.keyPem)),
      certificate: b64(person.certDer),
    };
  }

  async function eds(person: Person, token = 'token-a', on = server): Promise<CheckAnswer> {
    const deviceId = token === 'token-b' ? DEVICE_B : DEVICE_A;
    return check(signedRequest(await challenge(token, on), person, deviceId), token, on);
  }

  const refusal = (answer: CheckAnswer) =>
    answer.ok ? 'ok' : answer.detail ? `${answer.reason}:${answer.detail}` : answer.reason;

  async function failureCount(login: string): Promise<number> {
    const [row] = await sql.query<{ count: number }>('SELECT count FROM login_guard WHERE key = $1', [
      loginKey(await guardSecret(sql), login),
    ]);
    return row ? Number(row.count) : 0;
  }

  describe('password', () => {
    it('lets the right password in, any case of the login, with the roles', async () => {
      const answer = await check({ kind: 'password', login: ' testov ', password: PASSWORD });
      // With a user key for this device (server/src/auth/user-keys.ts).
      expect(answer).toEqual({
        ok: true,
        key: expect.objectContaining({ id: expect.any(String) }) as unknown,
        serverTime: clock,
        user: {
          id: 'u-testov',
          login: 'Testov',
          fullName: 'ТЕСТОВ ТЕСТ ТЕСТОВИЧ',
          iin: IIN.testov,
          blocked: false,
          mustChangePassword: false,
          roles: [
            { role: 'executor', providerId: PROVIDER_ID },
            { role: 'operator', providerId: PROVIDER_ID },
          ],
        },
      });
    });

    it('answers a wrong password and an unknown login alike, and counts both', async () => {
      const wrong = await check({ kind: 'password', login: 'admin', password: 'not-it-1' });
      const unknown = await check({ kind: 'password', login: 'nobody.here', password: PASSWORD });
      expect(wrong).toEqual({ ok: false, reason: 'wrongLoginOrPassword', serverTime: clock });
      expect(unknown).toEqual(wrong);
      expect(await failureCount('admin')).toBe(1);
      expect(await failureCount('NOBODY.here')).toBe(1);
      // The table never holds a login in clear.
      const keys = await sql.query<{ key: string }>('SELECT key FROM login_guard');
      expect(keys.map((k) => k.key).join(' ')).not.toMatch(/admin|nobody/);
      await check({ kind: 'password', login: 'admin', password: PASSWORD });
      expect(await failureCount('admin')).toBe(0);
    });

    it('says blocked only to the right password', async () => {
      expect(refusal(await check({ kind: 'password', login: 'blocked', password: 'wrong-123' }))).toBe(
        'wrongLoginOrPassword',
      );
      expect(refusal(await check({ kind: 'password', login: 'blocked', password: PASSWORD }))).toBe('userBlocked');
    });

    it('makes repeated failures wait, across instances: 429 with Retry-After, nothing slept; a day forgets', async () => {
      const wrong = { kind: 'password', login: 'admin', password: 'guess-000' };
      const right = { kind: 'password', login: 'admin', password: PASSWORD };
      for (let i = 0; i < 3; i++) {
        expect(refusal(await check(wrong, 'token-a', i % 2 === 0 ? server : second))).toBe('wrongLoginOrPassword');
      }
      // Three failures earned 1 s: even the right password is not looked at before then, on either instance.
      const early = await post('/v1/auth/check', right, 'token-a', second);
      expect(early.status).toBe(429);
      expect(errorBody.parse(early.body)).toMatchObject({ error: 'too_many_attempts', retryAfterMs: 1000 });
      expect(early.retryAfter).toBe('1');
      expect(await failureCount('admin')).toBe(3);
      clock += 1000;
      expect(refusal(await check(wrong))).toBe('wrongLoginOrPassword');
      // Four failures earned 2 s; 1.5 s of it passed.
      clock += 1500;
      const later = await post('/v1/auth/check', wrong);
      expect(later.status).toBe(429);
      expect(errorBody.parse(later.body)).toMatchObject({ retryAfterMs: 500 });
      expect(await failureCount('admin')).toBe(4);
      clock += DAY + 1;
      await check(wrong);
      expect(await failureCount('admin')).toBe(1);
      expect((await check(right)).ok).toBe(true);
      expect(await failureCount('admin')).toBe(0);
    });

    it('refuses a body that does not fit the protocol and a call without a device', async () => {
      const bad = await post('/v1/auth/check', { kind: 'password', login: 'admin' });
      expect(bad.status).toBe(400);
      expect(errorBody.parse(bad.body).error).toBe('bad_request');
      const anonymous = await post('/v1/auth/check', { kind: 'recheck', userId: 'u-admin' }, '');
      expect(anonymous.status).toBe(401);
      expect((await post('/v1/auth/challenge', {}, 'qz1.forged.0.signature-of-nobody')).status).toBe(401);
    });
  });

  describe('recheck', () => {
    it('answers the user, blocked, or unknown', async () => {
      const ok = await check({ kind: 'recheck', userId: 'u-head' });
      expect(ok.ok && ok.user.roles).toEqual([{ role: 'head', providerId: PROVIDER_ID }]);
      expect(refusal(await check({ kind: 'recheck', userId: 'u-blocked' }))).toBe('userBlocked');
      expect(refusal(await check({ kind: 'recheck', userId: 'u-gone' }))).toBe('userNotFound');
      await sql.query('UPDATE users SET blocked = true WHERE id = $1', ['u-head']);
      expect(refusal(await check({ kind: 'recheck', userId: 'u-head' }))).toBe('userBlocked');
      await sql.query('UPDATE users SET blocked = false WHERE id = $1', ['u-head']);
    });
  });

  describe('EDS', () => {
    it('issues a 60 s challenge bound to the device that asked', async () => {
      const ch = await challenge('token-b');
      expect(ch.expiresAt - ch.issuedAt).toBe(60_000);
      expect(ch.issuedAt).toBe(clock);
      expect(Buffer.from(ch.nonce, 'base64')).toHaveLength(32);
      const [row] = await sql.query<{ device_id: string; used_at: unknown }>(
        'SELECT device_id, used_at FROM challenges WHERE nonce = $1',
        [ch.nonce],
      );
      expect(row).toEqual({ device_id: DEVICE_B, used_at: null });
      expect((await challenge('token-b')).nonce).not.toBe(ch.nonce);
    });

    it('logs in with an authentication key, on a challenge another instance issued', async () => {
      const ch = await challenge('token-a', second);
      const answer = await check(signedRequest(ch, people.auth));
      expect(answer.ok && answer.user.id).toBe('u-testov');
    });

    it('maps an organisation certificate to that organisation’s staff only', async () => {
      const answer = await eds(persons.headAuth);
      expect(answer.ok && answer.user.id).toBe('u-head');
      expect(refusal(await eds(persons.headOtherOrg))).toBe('userNotFound');
    });

    it('uses a challenge once', async () => {
      const request = signedRequest(await challenge(), people.auth);
      expect((await check(request)).ok).toBe(true);
      expect(refusal(await check(request))).toBe('challengeExpired');
      expect(refusal(await check(request, 'token-a', second))).toBe('challengeExpired');
    });

    it('refuses an expired challenge', async () => {
      const ch = await challenge();
      clock += 60_001;
      expect(refusal(await check(signedRequest(ch, people.auth)))).toBe('challengeExpired');
    });

    it('refuses another device’s challenge, even signed for that device', async () => {
      const ch = await challenge('token-a');
      expect(refusal(await check(signedRequest(ch, people.auth, DEVICE_A), 'token-b'))).toBe('challengeExpired');
      // The challenge is still good for the device it was made for.
      expect((await check(signedRequest(ch, people.auth, DEVICE_A), 'token-a')).ok).toBe(true);
    });

    it('refuses a challenge that is not this device’s document, and a signature that does not check', async () => {
      const forOtherDevice = signedRequest(await challenge(), people.auth, DEVICE_B);
      expect(refusal(await check(forOtherDevice))).toBe('signatureInvalid');
      const request = signedRequest(await challenge(), people.auth);
      const byAnotherKey = {
        ...request,
        signature: b64(sign('sha256', Buffer.from(request.signed, 'base64'), persons.stranger.keyPem)),
      };
      expect(refusal(await check(byAnotherKey))).toBe('signatureInvalid');
      const garbage = { ...signedRequest(await challenge(), people.auth), signature: b64(Buffer.alloc(256, 7)) };
      expect(refusal(await check(garbage))).toBe('signatureInvalid');
    });

    it('refuses certificates unfit to log in, saying why', async () => {
      expect(refusal(await eds(people.sign))).toBe('certificateRejected:wrongKeyUsage');
      expect(refusal(await eds(persons.expiredAuth))).toBe('certificateRejected:certExpired');
      expect(refusal(await eds(persons.revokedAuth))).toBe('certificateRejected:certRevoked');
      expect(refusal(await eds(persons.foreign))).toBe('certificateRejected:chainUntrusted');
    });

    it('picks up a newer CRL imported into the table meanwhile', async () => {
      const person = pki.issue({
        name: `revoked-later-${db.name}`,
        surname: 'ТЕСТОВ',
        firstName: 'ТЕСТ',
        iin: IIN.testov,
        purpose: 'auth',
      });
      expect((await eds(person)).ok).toBe(true);
      expect((await eds(person, 'token-b', second)).ok).toBe(true);
      pki.revoke(person);
      const imported = await importCrl(sql, pki.crl(24));
      expect(imported.imported && imported.replaced).toHaveLength(1);
      expect(refusal(await eds(person))).toBe('certificateRejected:certRevoked');
      expect(refusal(await eds(person, 'token-b', second))).toBe('certificateRejected:certRevoked');
    });

    it('refuses an unregistered IIN and a blocked user', async () => {
      expect(refusal(await eds(persons.stranger))).toBe('userNotFound');
      expect(refusal(await eds(persons.blocked))).toBe('userBlocked');
    });
  });
});
