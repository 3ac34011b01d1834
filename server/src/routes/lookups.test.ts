/**
 * The look-up endpoints over the server's own tables (SqlLookupAdapter) on
 * a real database: found, unknown (404), malformed by checksum (400), and
 * the powers-of-attorney queries; each made by a proved user who takes in
 * applications, with a purpose, rate-limited and audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBin, makeIin } from '#core/identity/iin.js';
import {
  DEVICE_A,
  DEVICE_B,
  deviceToken,
  OTHER_PROVIDER_ID,
  PROVIDER_ID,
  seedDirectory,
  startTestServer,
  TEST_ADMIN,
  testDatabases,
  type TestUser,
} from '../auth/testing.js';
import { userProofHeaders } from '#core/lookup-proof.js';
import type { Sql } from '../postgres/sql.js';
import { checkAnswer, errorBody, individualAnswer, legalEntityAnswer, powersOfAttorneyAnswer } from '#core/protocol.js';
import { subjectHmac } from './lookups.js';
import type { RunningServer } from '../server.js';

const PRINCIPAL = makeIin(new Date(Date.UTC(1961, 6, 4)), 'female', 31);
const AGENT = makeIin(new Date(Date.UTC(1990, 0, 20)), 'male', 402);
const NOBODY = makeIin(new Date(Date.UTC(1977, 3, 3)), 'male', 1);
const COMPANY = makeBin({ year: 2012, month: 9 }, 4, 0, 4242);
const NO_COMPANY = makeBin({ year: 2013, month: 1 }, 4, 0, 1);

/** The same digits with the check digit off by one: only the checksum is wrong. */
const badChecksum = (n: string) => n.slice(0, 11) + String((Number(n[11]) + 1) % 10);

const person = (id: string, iin: string, roles: TestUser['roles']): TestUser => ({
  id,
  login: id,
  fullName: `Test ${id}`,
  iin,
  password: 'Qyzmet2026!',
  roles,
});
const CLERK = person('u-clerk', makeIin(new Date(Date.UTC(1985, 1, 2)), 'female', 11), [
  { role: 'clerk', providerId: PROVIDER_ID },
]);
const CLERK_2 = person('u-clerk-2', makeIin(new Date(Date.UTC(1986, 1, 2)), 'male', 12), [
  { role: 'clerk', providerId: PROVIDER_ID },
]);
const FLOODER = person('u-clerk-3', makeIin(new Date(Date.UTC(1987, 1, 2)), 'male', 13), [
  { role: 'clerk', providerId: PROVIDER_ID },
]);
const OPERATOR = person('u-operator', makeIin(new Date(Date.UTC(1988, 1, 2)), 'female', 14), [
  { role: 'operator', providerId: '' },
]);
/** An executor here and a clerk elsewhere: takes in nothing at this device's provider. */
const EXECUTOR = person('u-executor', makeIin(new Date(Date.UTC(1989, 1, 2)), 'male', 15), [
  { role: 'executor', providerId: PROVIDER_ID },
  { role: 'clerk', providerId: OTHER_PROVIDER_ID },
]);
const DEVICE_C = '0b0c1d6e-5d7a-4c53-9a43-6b1de0b6c003';
const DEVICE_D = '0b0c1d6e-5d7a-4c53-9a43-6b1de0b6c004';

interface Key {
  id: string;
  secret: Buffer;
}

describe.each(testDatabases())('look-ups on $name', (db) => {
  let sql: Sql;
  let server: RunningServer;
  let token: string;
  let clerk: Key;
  const clock = 1_770_000_000_000;
  /** Each request its own time (each proof is taken once), all within the allowed skew. */
  let tick = 0;

  beforeAll(async () => {
    sql = await db.open();
    await seedDirectory(sql, [TEST_ADMIN, CLERK, CLERK_2, FLOODER, OPERATOR, EXECUTOR]);
    await sql.query(
      `INSERT INTO individuals (iin, surname, given_name, patronymic, birth_date, sex, address) VALUES
         ($1, 'Омарова', 'Сәуле', 'Қайратқызы', '1961-07-04', 'female', 'Шымкент, ул. Байтурсынова, д. 12'),
         ($2, 'Петров', 'Иван', NULL, '1990-01-20', 'male', NULL)`,
      [PRINCIPAL, AGENT],
    );
    await sql.query(
      `INSERT INTO legal_entities (bin, name_kk, name_ru, head_iin, head_name, address, registered_at)
       VALUES ($1, '«Алем» ЖШС', 'ТОО «Алем»', $2, 'Омарова Сәуле Қайратқызы', 'Шымкент', '2012-09-01')`,
      [COMPANY, PRINCIPAL],
    );
    await sql.query(
      `INSERT INTO powers_of_attorney (number, principal_iin, agent_iin, scope, issued_at, valid_until, revoked, notary) VALUES
         ('2024-0000001', $1, $2, 'Получение справок', '2024-02-01', '2025-02-01', false, 'Нотариус А'),
         ('2025-0000002', $1, $2, 'Подача заявлений', '2025-06-01', '2027-06-01', true, 'Нотариус Б'),
         ('2025-0000003', $2, $1, 'Представление интересов', '2025-09-01', '2028-09-01', false, 'Нотариус А')`,
      [PRINCIPAL, AGENT],
    );
    server = await startTestServer(sql, { now: () => clock });
    token = await deviceToken(server.url, DEVICE_A);
    clerk = await login(token, CLERK);
  });

  afterAll(async () => {
    await server?.close();
    await db.close();
  });

  /** The user's key at the device of `bearer`: an online password login, as a workstation's. */
  async function login(bearer: string, user: TestUser): Promise<Key> {
    const res = await fetch(`${server.url}/v1/auth/check`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'password', login: user.login, password: user.password }),
    });
    const answer = checkAnswer.parse(await res.json());
    if (!answer.ok || !answer.key) throw new Error(`no key for ${user.login}`);
    return { id: answer.key.id, secret: Buffer.from(answer.key.secret, 'base64') };
  }

  const withPurpose = (path: string, purpose = 'applicationIntake') =>
    `${path}${path.includes('?') ? '&' : '?'}purpose=${purpose}`;

  /** GET `target` as sent (its purpose included), proved by `key` of the device with `deviceId`. */
  async function send(
    target: string,
    o: {
      bearer?: string | null;
      key?: Key | null;
      deviceId?: string;
      at?: number;
      headers?: Record<string, string>;
    } = {},
  ) {
    const bearer = o.bearer === undefined ? token : o.bearer;
    const key = o.key === undefined ? clerk : o.key;
    const at = o.at ?? clock - ++tick;
    const headers: Record<string, string> = {
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(key ? userProofHeaders(key, o.deviceId ?? DEVICE_A, 'GET', target, at) : {}),
      ...o.headers,
    };
    const res = await fetch(server.url + target, { headers });
    return { status: res.status, body: (await res.json()) as unknown };
  }

  const get = (path: string, anonymous = false) => send(withPurpose(path), anonymous ? { bearer: null } : {});

  async function audited(deviceId: string) {
    return sql.query<{
      user_id: string | null;
      kind: string;
      subject_hmac: string | null;
      purpose: string | null;
      outcome: string;
    }>('SELECT user_id, kind, subject_hmac, purpose, outcome FROM lookup_audit WHERE device_id = $1 ORDER BY id', [
      deviceId,
    ]);
  }

  it('finds an individual by IIN', async () => {
    const res = await get(`/v1/lookup/individual/${PRINCIPAL}`);
    expect(res.status).toBe(200);
    expect(individualAnswer.parse(res.body)).toEqual({
      iin: PRINCIPAL,
      surname: 'Омарова',
      givenName: 'Сәуле',
      patronymic: 'Қайратқызы',
      birthDate: '1961-07-04',
      sex: 'female',
      address: 'Шымкент, ул. Байтурсынова, д. 12',
      serverTime: clock,
    });
    expect(individualAnswer.parse((await get(`/v1/lookup/individual/${AGENT}`)).body).patronymic).toBeNull();
  });

  it('answers 404 for an unknown IIN and 400 for a malformed one', async () => {
    const unknown = await get(`/v1/lookup/individual/${NOBODY}`);
    expect(unknown.status).toBe(404);
    expect(errorBody.parse(unknown.body).error).toBe('not_found');
    for (const bad of [badChecksum(PRINCIPAL), '12345', 'abcdefghijkl', '%20']) {
      const res = await get(`/v1/lookup/individual/${bad}`);
      expect(res.status, bad).toBe(400);
      expect(errorBody.parse(res.body).error).toBe('bad_request');
    }
  });

  it('finds a legal entity by BIN; 404 unknown, 400 malformed (an IIN is not a BIN)', async () => {
    const res = await get(`/v1/lookup/legal-entity/${COMPANY}`);
    expect(legalEntityAnswer.parse(res.body)).toEqual({
      bin: COMPANY,
      nameKk: '«Алем» ЖШС',
      nameRu: 'ТОО «Алем»',
      headIin: PRINCIPAL,
      headName: 'Омарова Сәуле Қайратқызы',
      address: 'Шымкент',
      registeredAt: '2012-09-01',
      serverTime: clock,
    });
    expect((await get(`/v1/lookup/legal-entity/${NO_COMPANY}`)).status).toBe(404);
    expect((await get(`/v1/lookup/legal-entity/${badChecksum(COMPANY)}`)).status).toBe(400);
    expect((await get(`/v1/lookup/legal-entity/${PRINCIPAL}`)).status).toBe(400);
  });

  it('lists powers of attorney by principal, agent or number, revoked and expired ones marked', async () => {
    const byPrincipal = powersOfAttorneyAnswer.parse(
      (await get(`/v1/lookup/powers-of-attorney?principal=${PRINCIPAL}`)).body,
    );
    expect(byPrincipal.items.map((p) => [p.number, p.revoked, p.validUntil])).toEqual([
      ['2025-0000002', true, '2027-06-01'],
      ['2024-0000001', false, '2025-02-01'],
    ]);
    const byAgent = powersOfAttorneyAnswer.parse((await get(`/v1/lookup/powers-of-attorney?agent=${PRINCIPAL}`)).body);
    expect(byAgent.items).toEqual([
      {
        number: '2025-0000003',
        principalIin: AGENT,
        agentIin: PRINCIPAL,
        scope: 'Представление интересов',
        issuedAt: '2025-09-01',
        validUntil: '2028-09-01',
        revoked: false,
        notary: 'Нотариус А',
      },
    ]);
    const byNumber = powersOfAttorneyAnswer.parse(
      (await get('/v1/lookup/powers-of-attorney?number=2024-0000001')).body,
    );
    expect(byNumber.items.map((p) => p.principalIin)).toEqual([PRINCIPAL]);
    const none = powersOfAttorneyAnswer.parse((await get(`/v1/lookup/powers-of-attorney?principal=${NOBODY}`)).body);
    expect(none).toEqual({ items: [], serverTime: clock });
  });

  it('refuses a powers-of-attorney query without exactly one valid key', async () => {
    for (const query of [
      '',
      `?principal=${badChecksum(PRINCIPAL)}`,
      `?principal=${PRINCIPAL}&agent=${AGENT}`,
      '?number=',
      '?who=1',
    ]) {
      const res = await get(`/v1/lookup/powers-of-attorney${query}`);
      expect(res.status, query).toBe(400);
    }
  });

  it('is a device call', async () => {
    expect((await get(`/v1/lookup/individual/${PRINCIPAL}`, true)).status).toBe(401);
  });

  it('attack: a device looks a citizen up with no user proof, a forged one, or a replayed one — refused and audited', async () => {
    const target = withPurpose(`/v1/lookup/individual/${PRINCIPAL}`);
    const before = (await audited(DEVICE_A)).length;
    const own = await login(token, CLERK_2);
    const none = await send(target, { key: null });
    expect([none.status, errorBody.parse(none.body).error]).toEqual([403, 'user_proof_required']);
    const forged = await send(target, { key: { id: clerk.id, secret: Buffer.alloc(32, 7) } });
    expect([forged.status, errorBody.parse(forged.body).error]).toEqual([403, 'user_proof_required']);
    const stale = await send(target, { key: own, at: clock - 6 * 60_000 });
    expect(stale.status).toBe(403);
    // The same proof twice: the first answers, the second is refused.
    const at = clock - 90_000;
    expect((await send(target, { key: own, at })).status).toBe(200);
    expect((await send(target, { key: own, at })).status).toBe(403);
    // Another device's key proves nothing here.
    const otherToken = await deviceToken(server.url, DEVICE_B);
    const elsewhere = await login(otherToken, CLERK_2);
    expect((await send(target, { key: elsewhere })).status).toBe(403);
    const rows = (await audited(DEVICE_A)).slice(before);
    expect(rows.map((r) => [r.user_id, r.outcome])).toEqual([
      [null, 'user_proof_required'],
      [null, 'user_proof_required'],
      [null, 'user_proof_required'],
      [CLERK_2.id, 'found'],
      [null, 'user_proof_required'],
      [null, 'user_proof_required'],
    ]);
    // The subject is kept as a keyed HMAC, never in clear.
    const hmac = await subjectHmac(sql, 'individual', PRINCIPAL, clock);
    expect(rows.every((r) => r.subject_hmac === hmac && r.purpose === 'applicationIntake')).toBe(true);
    const [clear] = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM lookup_audit WHERE subject_hmac LIKE '%' || $1 || '%'`,
      [PRINCIPAL],
    );
    expect(clear?.n).toBe(0);
  });

  it('attack: a user who takes in nothing at this provider looks a citizen up — refused and audited', async () => {
    const executor = await login(token, EXECUTOR);
    const res = await send(withPurpose(`/v1/lookup/individual/${PRINCIPAL}`), { key: executor });
    expect([res.status, errorBody.parse(res.body).error]).toEqual([403, 'forbidden']);
    expect((await audited(DEVICE_A)).at(-1)).toMatchObject({ user_id: EXECUTOR.id, outcome: 'forbidden' });
    // A centre operator takes in for any provider.
    const operator = await login(token, OPERATOR);
    const ok = await send(withPurpose(`/v1/lookup/individual/${PRINCIPAL}`, 'applicantCheck'), { key: operator });
    expect(ok.status).toBe(200);
    expect((await audited(DEVICE_A)).at(-1)).toMatchObject({
      user_id: OPERATOR.id,
      purpose: 'applicantCheck',
      outcome: 'found',
    });
  });

  it('attack: a look-up without a purpose, or with one not on the list — refused and audited', async () => {
    for (const target of [
      `/v1/lookup/individual/${PRINCIPAL}`,
      withPurpose(`/v1/lookup/individual/${PRINCIPAL}`, 'curiosity'),
    ]) {
      const res = await send(target);
      expect([res.status, errorBody.parse(res.body).error]).toEqual([400, 'bad_request']);
      expect((await audited(DEVICE_A)).at(-1)).toMatchObject({ purpose: null, outcome: 'bad_request' });
    }
  });

  it('attack: a user floods look-ups — 429, audited', async () => {
    const bearer = await deviceToken(server.url, DEVICE_C);
    const key = await login(bearer, FLOODER);
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      statuses.push(
        (await send(withPurpose(`/v1/lookup/individual/${AGENT}`), { bearer, key, deviceId: DEVICE_C })).status,
      );
    }
    expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429, 429]);
    const rows = await audited(DEVICE_C);
    expect(rows.filter((r) => r.outcome === 'rate_limited')).toHaveLength(5);
  });

  it('attack: a device floods look-ups without any user — 429', async () => {
    const bearer = await deviceToken(server.url, DEVICE_D);
    const statuses: number[] = [];
    for (let i = 0; i < 62; i++) {
      statuses.push((await send(withPurpose(`/v1/lookup/individual/${AGENT}`), { bearer, key: null })).status);
    }
    expect(statuses.slice(0, 60).every((s) => s === 403)).toBe(true);
    expect(statuses.slice(60)).toEqual([429, 429]);
  });
});
