/**
 * Demo rows for the look-up tables, made from what the server already holds:
 * - individuals: the applicants of the applications (IIN, name, address),
 *   the children named in home-schooling applications, and the staff;
 *   birth date and sex read from the IIN;
 * - legal entities: the providers (their head from the staff) and the
 *   applicants' BINs (the organisation named in the form);
 * - powers of attorney between applicants, deterministic for a seed, among
 *   them at least one expired and one revoked.
 * Rows that fail their IIN/BIN checksum are left out. Safe to run again:
 * what exists is kept. Reads the applications page by page (a demo may hold
 * a million).
 */
import { isValidBin, parseBin, parseIin } from '#core/identity/iin.js';
import { mulberry32 } from '#demo/random.js';
import type { Sql } from '../postgres/sql.js';

export interface SeedLookupsOptions {
  /** "Now" in ms (validity of the powers of attorney). Default Date.now(). */
  now?: number;
  /** PRNG seed of the powers of attorney. Default 1. */
  seed?: number;
  /** How many powers of attorney (at least 2: one expired, one revoked). Default 60. */
  powersOfAttorney?: number;
}

export interface SeedLookupsResult {
  individuals: number;
  legalEntities: number;
  powersOfAttorney: number;
}

const PAGE = 5_000;
const DAY = 86_400_000;

interface IndividualRow {
  iin: string;
  surname: string;
  givenName: string;
  patronymic: string | null;
  birthDate: string;
  sex: 'male' | 'female';
  address: string | null;
}

interface LegalEntityRow {
  bin: string;
  nameKk: string;
  nameRu: string;
  headIin: string | null;
  headName: string | null;
  address: string | null;
  registeredAt: string;
}

/** "Surname Given Patronymic…" as the applications write names; null for a malformed IIN. */
export function individualOf(iin: string, fullName: string, address: string | null): IndividualRow | null {
  const info = parseIin(iin);
  if (!info) return null;
  const [surname = '', givenName = '', ...rest] = fullName.trim().split(/\s+/);
  return {
    iin,
    surname,
    givenName,
    patronymic: rest.length > 0 ? rest.join(' ') : null,
    birthDate: info.birthDate,
    sex: info.sex,
    address,
  };
}

/** The month a BIN was registered in, as a date (its first day): a BIN's year has no century, the later one that is not in the future wins. */
export function registeredAtOf(bin: string, now: number): string | null {
  const info = parseBin(bin);
  if (!info) return null;
  const today = new Date(now);
  let year = 2000 + info.yy;
  if (year > today.getUTCFullYear() || (year === today.getUTCFullYear() && info.month > today.getUTCMonth() + 1)) {
    year -= 100;
  }
  return `${year}-${String(info.month).padStart(2, '0')}-01`;
}

async function insertIndividuals(sql: Sql, rows: IndividualRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await sql.query(
    `INSERT INTO individuals (iin, surname, given_name, patronymic, birth_date, sex, address)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
     ON CONFLICT (iin) DO NOTHING RETURNING iin`,
    [
      rows.map((r) => r.iin),
      rows.map((r) => r.surname),
      rows.map((r) => r.givenName),
      rows.map((r) => r.patronymic),
      rows.map((r) => r.birthDate),
      rows.map((r) => r.sex),
      rows.map((r) => r.address),
    ],
  );
  return inserted.length;
}

async function insertLegalEntities(sql: Sql, rows: LegalEntityRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await sql.query(
    `INSERT INTO legal_entities (bin, name_kk, name_ru, head_iin, head_name, address, registered_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
     ON CONFLICT (bin) DO NOTHING RETURNING bin`,
    [
      rows.map((r) => r.bin),
      rows.map((r) => r.nameKk),
      rows.map((r) => r.nameRu),
      rows.map((r) => r.headIin),
      rows.map((r) => r.headName),
      rows.map((r) => r.address),
      rows.map((r) => r.registeredAt),
    ],
  );
  return inserted.length;
}

/** Applicants (and the children their forms name), one page of distinct IINs after `after`. */
async function applicantPage(
  sql: Sql,
  after: string,
): Promise<
  { iin: string; name: string; address: string | null; child_iin: string | null; child_name: string | null }[]
> {
  return sql.query(
    `SELECT DISTINCT ON (applicant_iin) applicant_iin AS iin, applicant_name AS name,
            form_data->>'address' AS address, form_data->>'childIin' AS child_iin, form_data->>'childName' AS child_name
       FROM applications WHERE applicant_iin > $1
      ORDER BY applicant_iin, submitted_at DESC LIMIT ${PAGE}`,
    [after],
  );
}

async function seedIndividuals(sql: Sql): Promise<number> {
  let count = 0;
  let after = '';
  for (;;) {
    const page = await applicantPage(sql, after);
    if (page.length === 0) break;
    after = page[page.length - 1]!.iin;
    const rows: IndividualRow[] = [];
    for (const p of page) {
      const person = individualOf(p.iin, p.name, p.address);
      if (person) rows.push(person);
      if (p.child_iin && p.child_name) {
        const child = individualOf(p.child_iin, p.child_name, p.address);
        if (child) rows.push(child);
      }
    }
    count += await insertIndividuals(
      sql,
      dedupe(rows, (r) => r.iin),
    );
  }
  const staff = await sql.query<{ iin: string; full_name: string }>('SELECT iin, full_name FROM users ORDER BY iin');
  const rows = staff.map((u) => individualOf(u.iin, u.full_name, null)).filter((r): r is IndividualRow => r !== null);
  count += await insertIndividuals(
    sql,
    dedupe(rows, (r) => r.iin),
  );
  return count;
}

async function seedLegalEntities(sql: Sql, now: number): Promise<number> {
  const providers = await sql.query<{
    bin: string;
    name_kk: string;
    name_ru: string;
    locality_ru: string;
    head_iin: string | null;
    head_name: string | null;
  }>(
    `SELECT p.bin, p.name_kk, p.name_ru, p.locality_ru, h.iin AS head_iin, h.full_name AS head_name
       FROM providers p
       LEFT JOIN LATERAL (
         SELECT u.iin, u.full_name FROM user_roles r JOIN users u ON u.id = r.user_id
          WHERE r.provider_id = p.id AND r.role = 'head' ORDER BY u.id LIMIT 1) h ON true
      ORDER BY p.bin`,
  );
  const rows: LegalEntityRow[] = [];
  for (const p of providers) {
    const registeredAt = registeredAtOf(p.bin, now);
    if (!registeredAt) continue;
    rows.push({
      bin: p.bin,
      nameKk: p.name_kk,
      nameRu: p.name_ru,
      headIin: p.head_iin,
      headName: p.head_name,
      address: p.locality_ru,
      registeredAt,
    });
  }
  let count = await insertLegalEntities(sql, rows);

  let after = '';
  for (;;) {
    const page = await sql.query<{
      bin: string;
      organization: string | null;
      iin: string;
      name: string;
      address: string | null;
    }>(
      `SELECT DISTINCT ON (applicant_bin) applicant_bin AS bin, form_data->>'organization' AS organization,
              applicant_iin AS iin, applicant_name AS name, form_data->>'address' AS address
         FROM applications WHERE applicant_bin IS NOT NULL AND applicant_bin > $1
        ORDER BY applicant_bin, submitted_at DESC LIMIT ${PAGE}`,
      [after],
    );
    if (page.length === 0) break;
    after = page[page.length - 1]!.bin;
    const entities: LegalEntityRow[] = [];
    for (const e of page) {
      const registeredAt = isValidBin(e.bin) ? registeredAtOf(e.bin, now) : null;
      if (!registeredAt) continue;
      const name = e.organization ?? e.name;
      entities.push({
        bin: e.bin,
        nameKk: name,
        nameRu: name,
        headIin: e.iin,
        headName: e.name,
        address: e.address,
        registeredAt,
      });
    }
    count += await insertLegalEntities(sql, entities);
  }
  return count;
}

const SCOPES = [
  'Представление интересов в государственных органах и получение государственных услуг',
  'Подача заявлений и получение документов по государственным услугам от имени доверителя',
  'Получение справок и дубликатов документов об образовании',
  'Представление интересов по вопросам занятости и социальной защиты',
  'Подписание и подача документов по государственной поддержке предпринимательства',
] as const;

const NOTARIES = [
  'Нотариус г. Астаны Ахметова А. Б. (лицензия № 0001234)',
  'Нотариус г. Алматы Сергеев В. П. (лицензия № 0002345)',
  'Нотариус Карагандинской области Нурланова Д. С. (лицензия № 0003456)',
  'Нотариус г. Шымкента Жумабеков Е. К. (лицензия № 0004567)',
] as const;

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

async function seedPowersOfAttorney(sql: Sql, now: number, seed: number, wanted: number): Promise<number> {
  const people = (
    await sql.query<{ iin: string }>(`SELECT iin FROM individuals WHERE birth_date <= $1 ORDER BY iin LIMIT 2000`, [
      isoDate(now - 18 * 365.25 * DAY),
    ])
  ).map((r) => r.iin);
  if (people.length < 2) return 0;
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  let count = 0;
  for (let i = 0; i < Math.max(2, wanted); i++) {
    const principal = pick(people);
    let agent = pick(people);
    while (agent === principal) agent = pick(people);
    // The first is expired, the second revoked; the rest are in force.
    const expired = i === 0;
    const issued = expired ? now - (400 + Math.floor(random() * 700)) * DAY : now - Math.floor(random() * 600) * DAY;
    const validUntil = expired
      ? issued + (180 + Math.floor(random() * 150)) * DAY
      : Math.max(issued + 365 * DAY, now + (30 + Math.floor(random() * 700)) * DAY);
    const year = new Date(issued).getUTCFullYear();
    const number = `${year}-${String(1 + Math.floor(random() * 9_999_999)).padStart(7, '0')}`;
    const inserted = await sql.query(
      `INSERT INTO powers_of_attorney (number, principal_iin, agent_iin, scope, issued_at, valid_until, revoked, notary)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (number) DO NOTHING RETURNING number`,
      [number, principal, agent, pick(SCOPES), isoDate(issued), isoDate(validUntil), i === 1, pick(NOTARIES)],
    );
    count += inserted.length;
  }
  return count;
}

function dedupe<T>(rows: T[], key: (row: T) => string): T[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const k = key(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Fills the look-up tables from the server's applications, providers and users. */
export async function seedLookups(sql: Sql, options: SeedLookupsOptions = {}): Promise<SeedLookupsResult> {
  const now = options.now ?? Date.now();
  const individuals = await seedIndividuals(sql);
  const legalEntities = await seedLegalEntities(sql, now);
  const powersOfAttorney = await seedPowersOfAttorney(sql, now, options.seed ?? 1, options.powersOfAttorney ?? 60);
  return { individuals, legalEntities, powersOfAttorney };
}
