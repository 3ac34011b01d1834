/**
 * The look-up endpoints over the server's own tables (SqlLookupAdapter) on
 * a real database: found, unknown (404), malformed by checksum (400), and
 * the powers-of-attorney queries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBin, makeIin } from '#core/identity/iin.js';
import { DEVICE_A, deviceToken, seedDirectory, startTestServer, TEST_ADMIN, testDatabases } from '../auth/testing.js';
import type { Sql } from '../postgres/sql.js';
import { errorBody, individualAnswer, legalEntityAnswer, powersOfAttorneyAnswer } from '#core/protocol.js';
import type { RunningServer } from '../server.js';

const PRINCIPAL = makeIin(new Date(Date.UTC(1961, 6, 4)), 'female', 31);
const AGENT = makeIin(new Date(Date.UTC(1990, 0, 20)), 'male', 402);
const NOBODY = makeIin(new Date(Date.UTC(1977, 3, 3)), 'male', 1);
const COMPANY = makeBin({ year: 2012, month: 9 }, 4, 0, 4242);
const NO_COMPANY = makeBin({ year: 2013, month: 1 }, 4, 0, 1);

/** The same digits with the check digit off by one: only the checksum is wrong. */
const badChecksum = (n: string) => n.slice(0, 11) + String((Number(n[11]) + 1) % 10);

describe.each(testDatabases())('look-ups on $name', (db) => {
  let sql: Sql;
  let server: RunningServer;
  let token: string;
  const clock = 1_770_000_000_000;

  beforeAll(async () => {
    sql = await db.open();
    await seedDirectory(sql, [TEST_ADMIN]);
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
  });

  afterAll(async () => {
    await server?.close();
    await db.close();
  });

  async function get(path: string, anonymous = false) {
    const res = await fetch(server.url + path, { headers: anonymous ? {} : { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as unknown };
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
});
