/**
 * The look-up tables' demo rows, made from applications, providers and
 * users written straight into a real database: who becomes an individual
 * or a legal entity and with what, what is left out, and the powers of
 * attorney (deterministic, one expired, one revoked).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidIin, makeBin, makeIin } from '#core/identity/iin.js';
import { PROVIDER_BIN, PROVIDER_ID, seedDirectory, testDatabases, type TestUser } from '../auth/testing.js';
import type { Sql } from '../postgres/sql.js';
import { seedDemo } from '../seed.js';
import { SqlLookupAdapter } from './adapter.js';
import { individualOf, registeredAtOf, seedLookups } from './seed.js';

const NOW = Date.UTC(2026, 2, 15, 9, 0, 0);
const DAY = 86_400_000;

const PERSON = makeIin(new Date(Date.UTC(1988, 4, 12)), 'male', 77);
const WOMAN = makeIin(new Date(Date.UTC(1995, 10, 3)), 'female', 123);
const CHILD = makeIin(new Date(Date.UTC(2015, 1, 1)), 'female', 9);
const ADULTS = Array.from({ length: 6 }, (_, i) =>
  makeIin(new Date(Date.UTC(1970 + i, i, 10 + i)), i % 2 ? 'female' : 'male', 500 + i),
);
const COMPANY = makeBin({ year: 2015, month: 3 }, 4, 0, 77);
const BAD_IIN = '880512300770';

const USERS: TestUser[] = [
  {
    id: 'u-admin',
    login: 'admin',
    fullName: 'Әкімов Әкім Әкімұлы',
    iin: '920704300019',
    password: null,
    roles: [{ role: 'admin', providerId: '' }],
  },
  {
    id: 'u-head',
    login: 'head',
    fullName: 'Әбілқасымова Гүлнар Серікқызы',
    iin: '850315400015',
    password: null,
    roles: [{ role: 'head', providerId: PROVIDER_ID }],
  },
];

interface App {
  iin: string;
  name: string;
  bin?: string;
  at: number;
  form: Record<string, unknown>;
}

const APPS: App[] = [
  { iin: PERSON, name: 'Сейткали Ержан Маратович', at: NOW - 40 * DAY, form: { address: 'Алматы, ул. Абая, д. 5' } },
  { iin: PERSON, name: 'Сейткали Ержан Маратович', at: NOW - 2 * DAY, form: { address: 'Алматы, ул. Сатпаева, д. 1' } },
  {
    iin: WOMAN,
    name: 'Иванова Анна',
    bin: COMPANY,
    at: NOW - 10 * DAY,
    form: { address: 'Алматы, ул. Жандосова, д. 9', organization: 'ТОО «Алем Строй»' },
  },
  { iin: BAD_IIN, name: 'Ошибка Ввода', at: NOW - 5 * DAY, form: {} },
  {
    iin: ADULTS[0]!,
    name: 'Нурланов Ерлан',
    at: NOW - 3 * DAY,
    form: { address: 'Астана, пр. Республики, д. 2', childIin: CHILD, childName: 'Нурланова Айым' },
  },
  ...ADULTS.slice(1).map((iin, i) => ({ iin, name: `Адамов${i} Адам`, at: NOW - (20 + i) * DAY, form: {} })),
];

async function fill(sql: Sql): Promise<void> {
  await seedDirectory(sql, USERS, NOW);
  let n = 0;
  for (const a of APPS) {
    n++;
    await sql.query(
      `INSERT INTO applications (id, number, provider_id, service_code, channel, applicant_iin, applicant_bin, applicant_name,
         region_kato, locality, status, submitted_at, status_changed_at, form_data, server_version)
       VALUES ($1, $2, $3, 'unemployed-certificate', 'office', $4, $5, $6, '750000000', 'Алматы', 'received', $7, $7, $8::jsonb, 1)`,
      [`app-${n}`, `${n}-01-01-26`, PROVIDER_ID, a.iin, a.bin ?? null, a.name, a.at, JSON.stringify(a.form)],
    );
  }
}

describe('helpers', () => {
  it('splits names and reads birth date and sex from the IIN', () => {
    expect(individualOf(WOMAN, ' Иванова  Анна ', null)).toEqual({
      iin: WOMAN,
      surname: 'Иванова',
      givenName: 'Анна',
      patronymic: null,
      birthDate: '1995-11-03',
      sex: 'female',
      address: null,
    });
    expect(individualOf(PERSON, 'Сейткали Ержан Маратович', 'x')?.patronymic).toBe('Маратович');
    expect(individualOf(BAD_IIN, 'Ошибка Ввода', null)).toBeNull();
  });

  it('dates a BIN’s registration, the century from today', () => {
    expect(registeredAtOf(PROVIDER_BIN, NOW)).toBe('2005-01-01');
    expect(registeredAtOf(makeBin({ year: 1998, month: 7 }, 4, 0, 1), NOW)).toBe('1998-07-01');
    // A month later than this one this year can only be of the last century.
    expect(registeredAtOf(makeBin({ year: 2026, month: 11 }, 4, 0, 1), NOW)).toBe('1926-11-01');
    expect(registeredAtOf('050140000012', NOW)).toBeNull();
  });
});

describe.each(testDatabases())('seedLookups on $name', (db) => {
  let sql: Sql;

  beforeAll(async () => {
    sql = await db.open();
    await fill(sql);
  });
  afterAll(() => db.close());

  it('makes individuals of applicants, children and staff, the latest address kept, malformed IINs left out', async () => {
    const result = await seedLookups(sql, { now: NOW, seed: 7, powersOfAttorney: 12 });
    // Applicants (PERSON, WOMAN and the six ADULTS), one child, two staff.
    expect(result.individuals).toBe(2 + ADULTS.length + 1 + USERS.length);
    const [person] = await sql.query('SELECT * FROM individuals WHERE iin = $1', [PERSON]);
    expect(person).toEqual({
      iin: PERSON,
      surname: 'Сейткали',
      given_name: 'Ержан',
      patronymic: 'Маратович',
      birth_date: '1988-05-12',
      sex: 'male',
      address: 'Алматы, ул. Сатпаева, д. 1',
    });
    const [child] = await sql.query<{ surname: string; address: string }>('SELECT * FROM individuals WHERE iin = $1', [
      CHILD,
    ]);
    expect(child).toMatchObject({
      surname: 'Нурланова',
      given_name: 'Айым',
      sex: 'female',
      address: 'Астана, пр. Республики, д. 2',
    });
    expect(await sql.query('SELECT 1 FROM individuals WHERE iin = $1', [BAD_IIN])).toHaveLength(0);
    const iins = await sql.query<{ iin: string }>('SELECT iin FROM individuals');
    expect(iins.every((r) => isValidIin(r.iin))).toBe(true);
  });

  it('makes legal entities of providers (head from the staff) and applicants’ BINs', async () => {
    const rows = await sql.query('SELECT * FROM legal_entities ORDER BY bin');
    expect(rows).toContainEqual({
      bin: PROVIDER_BIN,
      name_kk: 'Жұмыспен қамту бөлімі',
      name_ru: 'Отдел занятости',
      head_iin: '850315400015',
      head_name: 'Әбілқасымова Гүлнар Серікқызы',
      address: 'Алматы',
      registered_at: '2005-01-01',
    });
    expect(rows).toContainEqual({
      bin: COMPANY,
      name_kk: 'ТОО «Алем Строй»',
      name_ru: 'ТОО «Алем Строй»',
      head_iin: WOMAN,
      head_name: 'Иванова Анна',
      address: 'Алматы, ул. Жандосова, д. 9',
      registered_at: '2015-03-01',
    });
    // Both providers and the one company.
    expect(rows).toHaveLength(3);
  });

  it('makes powers of attorney between adults: one expired, one revoked, the rest in force', async () => {
    const rows = await sql.query<{
      number: string;
      principal_iin: string;
      agent_iin: string;
      issued_at: string;
      valid_until: string;
      revoked: boolean;
    }>('SELECT * FROM powers_of_attorney ORDER BY number');
    expect(rows).toHaveLength(12);
    const today = new Date(NOW).toISOString().slice(0, 10);
    const adults = new Set(
      (await sql.query<{ iin: string }>(`SELECT iin FROM individuals WHERE birth_date <= '2008-03-15'`)).map(
        (r) => r.iin,
      ),
    );
    for (const r of rows) {
      expect(adults.has(r.principal_iin) && adults.has(r.agent_iin)).toBe(true);
      expect(r.principal_iin).not.toBe(r.agent_iin);
      expect(r.issued_at <= today).toBe(true);
      expect(r.valid_until > r.issued_at).toBe(true);
    }
    expect(rows.filter((r) => r.valid_until < today)).toHaveLength(1);
    expect(rows.filter((r) => r.revoked)).toHaveLength(1);
    expect(rows.find((r) => r.revoked)!.valid_until >= today).toBe(true);
  });

  it('keeps what exists when run again, and makes the same rows for the same seed', async () => {
    const before = await sql.query('SELECT * FROM powers_of_attorney ORDER BY number');
    expect(await seedLookups(sql, { now: NOW, seed: 7, powersOfAttorney: 12 })).toEqual({
      individuals: 0,
      legalEntities: 0,
      powersOfAttorney: 0,
    });
    const fresh = await db.open();
    await fill(fresh);
    await seedLookups(fresh, { now: NOW, seed: 7, powersOfAttorney: 12 });
    expect(await fresh.query('SELECT * FROM powers_of_attorney ORDER BY number')).toEqual(before);
    await fresh.query('DELETE FROM powers_of_attorney');
    await seedLookups(fresh, { now: NOW, seed: 8, powersOfAttorney: 12 });
    expect(await fresh.query('SELECT * FROM powers_of_attorney ORDER BY number')).not.toEqual(before);
  });
});

describe('on the demo data', () => {
  const [pglite] = testDatabases();

  afterAll(() => pglite!.close());

  it('gives every demo applicant and provider a look-up answer', async () => {
    const sql = await pglite!.open();
    // seedDemo runs seedLookups after the applications.
    const seeded = await seedDemo(sql, { applications: 300, now: NOW, seed: 3 });
    expect(seeded?.applications).toBe(300);
    const adapter = new SqlLookupAdapter(sql);
    const applicants = await sql.query<{ iin: string; name: string; bin: string | null }>(
      'SELECT DISTINCT applicant_iin AS iin, applicant_name AS name, applicant_bin AS bin FROM applications',
    );
    for (const a of applicants) {
      const person = await adapter.individual(a.iin);
      expect(person, a.iin).not.toBeNull();
      expect(a.name.startsWith(`${person!.surname} ${person!.givenName}`)).toBe(true);
      if (a.bin) expect(await adapter.legalEntity(a.bin), a.bin).not.toBeNull();
    }
    for (const p of await sql.query<{ bin: string }>('SELECT bin FROM providers')) {
      expect(await adapter.legalEntity(p.bin), p.bin).not.toBeNull();
    }
    const powers = await sql.query<{ valid_until: string; revoked: boolean }>(
      'SELECT valid_until, revoked FROM powers_of_attorney',
    );
    expect(powers).toHaveLength(60);
    expect(powers.some((p) => p.revoked)).toBe(true);
    expect(powers.some((p) => p.valid_until < new Date(NOW).toISOString().slice(0, 10))).toBe(true);
  });
});
