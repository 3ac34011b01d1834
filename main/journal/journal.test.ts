/**
 * The journal over a real database of 20,000 demo applications and a few
 * written here: every search kind, filters, sorts, paging and totals, the
 * indexes of migration 0003 kept in step by their triggers, and the query
 * plans. The plain single-statement journal (no indexes) and a check in
 * JavaScript serve as the oracles.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '#db/connection.js';
import { generateDemo, mulberry32 } from '#demo/generate.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { foldForSearch } from '#core/identity/text.js';
import { bulkLoad } from './rebuild.js';
import {
  JOURNAL_INDEXES,
  Journal,
  STATUS_ORDER,
  type JournalPage,
  type JournalPlan,
  type JournalQuery,
} from './journal.js';

const ROOT = join(import.meta.dirname, '..', '..');
const NOW = Date.UTC(2026, 10, 1, 6, 0);
const DAY = 86_400_000;
const name = (code: string) => ({ kk: code, ru: code, en: code });
const SERVICES = loadCatalogue(join(ROOT, 'resources', 'services')).services;

let dir: string;
let db: OpenedDatabase;
let sqlite: Database.Database;
let journal: Journal;
let plain: Journal;
let lastPlan: JournalPlan | null = null;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-journal-'));
  db = await openDatabase(join(dir, 'journal.db'), { backupEveryMs: 0 });
  sqlite = db.sqlite;
  generateDemo(sqlite, {
    applications: 20_000,
    seed: 11,
    now: NOW,
    services: SERVICES,
  });
  journal = new Journal(sqlite, name, { now: () => NOW, onPlan: (p) => (lastPlan = p) });
  plain = new Journal(sqlite, name, { now: () => NOW, plain: true });
});

afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const query = (q: Partial<JournalQuery>): JournalQuery => ({
  page: 0,
  pageSize: 100,
  sort: 'submittedAt',
  direction: 'desc',
  ...q,
});
const list = (q: Partial<JournalQuery>): JournalPage => journal.list(query(q));
const ids = (page: JournalPage) => page.rows.map((r) => r.id);

let written = 0;
interface NewApplication {
  name: string;
  iin?: string;
  bin?: string | null;
  number?: string;
  portal?: string | null;
  status?: string;
  decision?: string;
  service?: string;
  submittedAt?: number;
  dueAt?: number | null;
}

/** Writes an application the way the workflow will: the folded name beside the name. */
function insert(a: NewApplication): string {
  const id = `test-${++written}`;
  const provider = sqlite.prepare('SELECT id, region_kato AS kato FROM providers ORDER BY id LIMIT 1').get() as {
    id: string;
    kato: string;
  };
  const submitted = a.submittedAt ?? NOW - written * 1000;
  sqlite
    .prepare(
      `INSERT INTO applications (id, number, portal_number, provider_id, service_code, channel, applicant_iin,
         applicant_bin, applicant_name, applicant_name_norm, region_kato, locality, status, decision,
         submitted_at, status_changed_at, due_at, form_data, created_at, updated_at)
       VALUES (@id, @number, @portal, @provider, @service, 'office', @iin, @bin, @name, @norm, @kato, 'Test',
         @status, @decision, @submitted, @submitted, @due, '{}', @submitted, @submitted)`,
    )
    .run({
      id,
      number: a.number ?? `9${written}-01-11-26`,
      portal: a.portal ?? null,
      provider: provider.id,
      service: a.service ?? 'unemployed-certificate',
      iin: a.iin ?? '990101300000',
      bin: a.bin ?? null,
      name: a.name,
      norm: foldForSearch(a.name),
      kato: provider.kato,
      status: a.status ?? 'received',
      decision: a.decision ?? 'none',
      submitted,
      due: a.dueAt === undefined ? NOW + DAY : a.dueAt,
    });
  return id;
}

/** The name rule, in JavaScript: every word in the folded name, short ones at the start of a word. */
function nameMatches(applicantName: string, search: string): boolean {
  const norm = foldForSearch(applicantName);
  const spaced = ` ${norm.replace(/-/g, ' ')}`;
  return foldForSearch(search)
    .split(/[\s-]+/)
    .filter(Boolean)
    .every((w) => ([...w].length >= 3 ? norm.includes(w) : spaced.includes(` ${w}`)));
}

/** Every application that matches a name search, from the table itself. */
function allMatching(search: string): string[] {
  return (sqlite.prepare('SELECT id, applicant_name AS name FROM applications').all() as { id: string; name: string }[])
    .filter((r) => nameMatches(r.name, search))
    .map((r) => r.id);
}

describe('searching names', () => {
  const kazakh = [
    { letter: 'Ә', name: 'Әбдіғаппаров Нұрлан Серікұлы' },
    { letter: 'Ғ', name: 'Ғабитова Айгерім' },
    { letter: 'Қ', name: 'Қуанышбекова Ләззат' },
    { letter: 'Ң', name: 'Жаңабергенов Тимур' },
    { letter: 'Ө', name: 'Өмірзақова Іңкәр' },
    { letter: 'Ұ', name: 'Ұлықпанов Дәурен' },
    { letter: 'Ү', name: 'Үсенбаев Ерлан' },
    { letter: 'Һ', name: 'Һадиев Рүстем' },
    { letter: 'І', name: 'Ізтілеуова Жанар' },
  ];
  const written = new Map<string, string>();
  beforeAll(() => {
    for (const k of kazakh) written.set(k.letter, insert({ name: k.name, submittedAt: NOW - 60_000 }));
  });

  it.each(kazakh)(
    'finds a name with $letter typed in any case, with or without the Kazakh letter',
    ({ letter, name }) => {
      const id = written.get(letter)!;
      const surname = name.split(' ')[0]!;
      const plainLetters = foldForSearch(surname); // what people type without the Kazakh letters
      for (const typed of [
        surname,
        surname.toUpperCase(),
        surname.toLowerCase(),
        plainLetters,
        plainLetters.toUpperCase(),
      ]) {
        const page = list({ search: typed });
        expect(ids(page), typed).toContain(id);
        expect(page.rows.every((r) => nameMatches(r.applicantName, typed))).toBe(true);
      }
      // A fragment from the middle, with the Kazakh letters.
      const middle = [...surname].slice(1, -1).join('');
      expect(ids(list({ search: middle })), middle).toContain(id);
    },
  );

  it('finds ё from е and е from ё, any case', () => {
    const id = insert({ name: 'Соловьёв Пётр Семёнович', submittedAt: NOW - 50_000 });
    for (const typed of ['петр', 'ПЁТР', 'Соловьев', 'соловьёв семен', 'СЕМЁНОВИЧ']) {
      expect(ids(list({ search: typed })), typed).toContain(id);
    }
  });

  it('takes the words in any order and each word anywhere', () => {
    const id = written.get('Ә')!;
    for (const typed of ['нурлан абдигаппаров', 'серикулы ғаппар нұр', 'ӘБДІҒАП СЕРІК']) {
      const page = list({ search: typed });
      expect(ids(page), typed).toContain(id);
      expect(page.rows.every((r) => nameMatches(r.applicantName, typed))).toBe(true);
    }
    expect(ids(list({ search: 'нурлан абдигаппарова' }))).not.toContain(id);
  });

  it('matches one or two letters at the start of a word only', () => {
    const id = insert({ name: 'Мухамед-Али Жақсылықов', submittedAt: NOW - 40_000 });
    expect(ids(list({ search: 'ал' }))).toContain(id); // after the hyphen
    expect(ids(list({ search: 'жа' }))).toContain(id);
    expect(ids(list({ search: 'ж' }))).toContain(id);
    expect(ids(list({ search: 'Ә' }))).toContain(written.get('Ә')!); // one Kazakh letter, folded
    expect(ids(list({ search: 'ед' }))).not.toContain(id); // inside a word
    for (const typed of ['ал', 'ж', 'ер', 'ә']) {
      const page = list({ search: typed, pageSize: 500 });
      expect(page.rows.length).toBeGreaterThan(0);
      expect(
        page.rows.every((r) => nameMatches(r.applicantName, typed)),
        typed,
      ).toBe(true);
    }
  });

  it('finds exactly the applications the name rule finds, and counts them', () => {
    for (const typed of ['ахмет', 'ов', 'жан', 'нурлан серик', 'ова', 'ә', 'Мурат', 'алия бекова', 'щъ']) {
      const expected = allMatching(typed);
      const page = list({ search: typed, pageSize: 500 });
      if (expected.length <= 500) expect(ids(page).sort(), typed).toEqual([...expected].sort());
      else expect(ids(page).every((id) => expected.includes(id)) && page.rows.length === 500, typed).toBe(true);
      if (page.totalCapped) expect(expected.length, typed).toBeGreaterThan(page.total);
      else expect(page.total, typed).toBe(expected.length);
    }
  });

  it('treats search text as data', () => {
    for (const typed of ["%' OR 1=1 --", '_', '"', 'name : x', '*', 'NEAR(a b)']) {
      const page = list({ search: typed });
      expect(page.total, typed).toBe(allMatching(typed).length);
    }
  });
});

describe('searching numbers', () => {
  it('finds an IIN exactly, a BIN, and IIN, portal and number prefixes', () => {
    const iin = '850312400123';
    const a = insert({ name: 'Иинов Тест', iin, submittedAt: NOW - 30_000 });
    const b = insert({ name: 'Иинов Тест', iin, submittedAt: NOW - 31_000, service: 'grant-small-business' });
    const c = insert({ name: 'Бинова Тест', iin: '850312400999', bin: '190440012345', portal: '10109099999999' });
    const d = insert({ name: 'Номерова Тест', number: '77777-01-11-26' });

    expect(ids(list({ search: iin })).sort()).toEqual([a, b].sort());
    expect(list({ search: iin }).total).toBe(2);
    expect(ids(list({ search: '190440012345' }))).toEqual([c]);
    expect(ids(list({ search: '8503124' }))).toEqual(expect.arrayContaining([a, b, c]));
    expect(ids(list({ search: '10109099999' }))).toContain(c);
    expect(ids(list({ search: '77777-01' }))).toEqual([d]);
    expect(ids(list({ search: '77777' }))).toContain(d);
    expect(ids(list({ search: iin, serviceCode: 'grant-small-business' }))).toEqual([b]);
  });

  it('finds what the table holds for each kind of number', () => {
    const some = sqlite
      .prepare(
        "SELECT applicant_iin AS iin, number, portal_number AS portal FROM applications WHERE portal_number IS NOT NULL AND id NOT LIKE 'test-%' LIMIT 1 OFFSET 777",
      )
      .get() as { iin: string; number: string; portal: string };
    const count = (sql: string, ...args: string[]) =>
      (sqlite.prepare(`SELECT count(*) AS n FROM applications WHERE ${sql}`).get(...args) as { n: number }).n;
    expect(list({ search: some.iin }).total).toBe(count('applicant_iin = ? OR applicant_bin = ?', some.iin, some.iin));
    expect(ids(list({ search: some.portal }))).toHaveLength(count('portal_number = ?', some.portal));
    expect(list({ search: some.number }).rows.every((r) => r.number.startsWith(some.number))).toBe(true);
    for (const prefix of [some.iin.slice(0, 4), some.portal.slice(0, 9), some.number.split('-')[0]!]) {
      const page = list({ search: prefix, pageSize: 500 });
      expect(page.rows.length).toBeGreaterThan(0);
      expect(ids(page)).toEqual(ids(plain.list(query({ search: prefix, pageSize: 500 }))));
    }
  });
});

describe('filters, sorts, pages and totals', () => {
  const cases: Partial<JournalQuery>[] = [
    {},
    { direction: 'asc' },
    { status: 'received' },
    { status: 'on_signing', decision: 'negative' },
    { serviceCode: 'industrial-infrastructure', status: 'in_processing' },
    { decision: 'positive', serviceCode: 'unemployed-certificate' },
    { dateFrom: '2026-09-01', dateTo: '2026-09-30' },
    { dateFrom: '2026-10-15' },
    { dateTo: '2025-06-30', status: 'completed' },
    { overdue: true },
    { overdue: true, serviceCode: 'grant-small-business', sort: 'applicantName', direction: 'asc' },
    { overdue: true, status: 'completed' },
    { sort: 'applicantName', direction: 'asc' },
    { sort: 'number', direction: 'desc', status: 'completed' },
    { sort: 'status', direction: 'asc' },
    { sort: 'status', direction: 'desc', serviceCode: 'home-schooling-compensation', page: 3 },
    { sort: 'decision', dateFrom: '2026-08-01', dateTo: '2026-08-31' },
    { sort: 'serviceCode', direction: 'asc', page: 2 },
    { search: 'ов', status: 'completed', sort: 'number' },
    { search: 'нурлан', dateFrom: '2026-01-01', sort: 'status' },
    { search: 'ахметов', overdue: true },
    { search: 'а', decision: 'negative', page: 1, pageSize: 37 },
    { search: '8', serviceCode: 'education-document-duplicate', sort: 'applicantName' },
    { search: '1-0', sort: 'number', direction: 'asc' },
    { search: '7', status: 'received' },
    { search: '85', sort: 'status', direction: 'asc' },
    { search: '10109', decision: 'negative', dateFrom: '2026-03-01' },
    { search: '9', overdue: true, sort: 'applicantName' },
    { page: 150, pageSize: 100 },
    { page: 5000, pageSize: 100 },
  ];

  it.each(cases)('gives the same rows and total as the plain statement: %j', (q) => {
    const a = journal.list(query(q));
    const b = plain.list(query(q));
    expect(ids(a)).toEqual(ids(b));
    expect(a.rows).toEqual(b.rows);
    if (a.totalCapped) expect(b.total).toBeGreaterThan(a.total);
    else expect(a.total).toBe(b.total);
  });

  it('gives the same as the plain statement for 120 combinations drawn at random', () => {
    const random = mulberry32(2026);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const searches = [
      undefined,
      undefined,
      'ов',
      'нурлан',
      'ә',
      'ас',
      'серик ай',
      'Әбдіғаппаров',
      '8',
      '77',
      '10109',
      '2-',
      'щъ',
    ];
    for (let i = 0; i < 120; i++) {
      const q: Partial<JournalQuery> = {
        search: pick(searches),
        status: pick([undefined, undefined, 'received', 'in_processing', 'on_signing', 'completed'] as const),
        decision: pick([undefined, undefined, 'none', 'positive', 'negative'] as const),
        serviceCode: pick([undefined, undefined, 'unemployed-certificate', 'industrial-infrastructure']),
        dateFrom: pick([undefined, undefined, '2025-12-01', '2026-10-20']),
        dateTo: pick([undefined, undefined, '2026-02-28', '2026-10-31']),
        overdue: pick([undefined, undefined, true]),
        sort: pick(['submittedAt', 'number', 'applicantName', 'status', 'decision', 'serviceCode'] as const),
        direction: pick(['asc', 'desc'] as const),
        page: pick([0, 0, 1, 3]),
        pageSize: pick([10, 100, 250]),
      };
      const a = journal.list(query(q));
      const b = plain.list(query(q));
      expect(ids(a), JSON.stringify(q)).toEqual(ids(b));
      if (a.totalCapped) expect(b.total, JSON.stringify(q)).toBeGreaterThan(a.total);
      else expect(a.total, JSON.stringify(q)).toBe(b.total);
    }
  });

  it('keeps every row within the filters', () => {
    const from = new Date(2026, 8, 1).getTime();
    const to = new Date(2026, 9, 1).getTime();
    const page = list({
      dateFrom: '2026-09-01',
      dateTo: '2026-09-30',
      serviceCode: 'grant-small-business',
      pageSize: 500,
    });
    expect(page.rows.length).toBeGreaterThan(0);
    for (const r of page.rows) {
      expect(r.serviceCode).toBe('grant-small-business');
      expect(r.submittedAt).toBeGreaterThanOrEqual(from);
      expect(r.submittedAt).toBeLessThan(to);
    }
    const overdue = list({ overdue: true, pageSize: 500 });
    expect(overdue.rows.length).toBeGreaterThan(0);
    for (const r of overdue.rows) {
      expect(r.dueAt).not.toBeNull();
      expect(r.dueAt!).toBeLessThan(NOW);
      expect(['completed', 'completed_with_error']).not.toContain(r.status);
    }
  });

  it('sorts by each column, both ways', () => {
    const byKey: Record<
      'submittedAt' | 'number' | 'applicantName',
      (r: JournalPage['rows'][number]) => string | number
    > = {
      submittedAt: (r) => r.submittedAt,
      number: (r) => r.number,
      applicantName: (r) => foldForSearch(r.applicantName),
    };
    for (const sort of ['submittedAt', 'number', 'applicantName'] as const) {
      for (const direction of ['asc', 'desc'] as const) {
        const keys = list({ sort, direction, pageSize: 300 }).rows.map(byKey[sort]);
        const sorted = [...keys].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
        expect(keys).toEqual(direction === 'asc' ? sorted : sorted.reverse());
      }
    }
    // Status in the workflow's order, newest first within each status.
    const rows = list({
      sort: 'status',
      direction: 'asc',
      serviceCode: 'industrial-infrastructure',
      pageSize: 500,
    }).rows;
    const ranks = rows.map((r) => STATUS_ORDER.indexOf(r.status as (typeof STATUS_ORDER)[number]));
    expect(ranks).toEqual([...ranks].sort((x, y) => x - y));
  });

  it('pages without gaps or repeats', () => {
    for (const q of [
      { status: 'in_processing' as const },
      { search: 'ов' },
      { sort: 'status' as const, decision: 'negative' as const },
    ]) {
      const whole = ids(list({ ...q, pageSize: 450 }));
      const paged = [0, 1, 2].flatMap((page) => ids(list({ ...q, page, pageSize: 150 })));
      expect(paged).toEqual(whole);
    }
  });

  it('counts exactly from the count table, and caps the counts it would have to walk for', () => {
    const capped = new Journal(sqlite, name, { now: () => NOW, totalCap: 500 });
    const all = (sqlite.prepare('SELECT count(*) AS n FROM applications').get() as { n: number }).n;
    expect(capped.list(query({}))).toMatchObject({ total: all, totalCapped: false });
    const received = (
      sqlite.prepare("SELECT count(*) AS n FROM applications WHERE status = 'received'").get() as {
        n: number;
      }
    ).n;
    expect(capped.list(query({ status: 'received' }))).toMatchObject({ total: received, totalCapped: false });
    const year = capped.list(query({ dateFrom: '2026-01-01' }));
    expect(year).toMatchObject({ total: 500, totalCapped: true });
    expect(ids(year)).toEqual(ids(plain.list(query({ dateFrom: '2026-01-01' }))));
    // Searches count up to 1,000 by default.
    expect(list({ search: 'а' })).toMatchObject({ total: 1000, totalCapped: true });
  });
});

describe('the indexes stay in step with the applications', () => {
  const countsMatch = () => {
    const kept = sqlite
      .prepare('SELECT service_code, status, decision, n FROM journal_counts WHERE n > 0 ORDER BY 1, 2, 3')
      .all();
    const real = sqlite
      .prepare(
        'SELECT service_code, status, decision, count(*) AS n FROM applications GROUP BY 1, 2, 3 ORDER BY 1, 2, 3',
      )
      .all();
    expect(kept).toEqual(real);
    const byProvider = sqlite
      .prepare(
        'SELECT provider_id, service_code, status, decision, n FROM journal_provider_counts WHERE n > 0 ORDER BY 1, 2, 3, 4',
      )
      .all();
    const realByProvider = sqlite
      .prepare(
        `SELECT provider_id, service_code, status, decision, count(*) AS n FROM applications
          GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
      )
      .all();
    expect(byProvider).toEqual(realByProvider);
  };

  it('finds a new application, its new name and its new status, and forgets a deleted one', () => {
    const id = insert({ name: 'Зейноллаева Тестана', submittedAt: NOW - 20_000 });
    expect(ids(list({ search: 'зейнолла' }))).toEqual([id]);
    expect(ids(list({ search: 'зейнолла', status: 'received' }))).toEqual([id]);
    expect(lastPlan?.way).toBe('fts');

    sqlite
      .prepare('UPDATE applications SET applicant_name = ?, applicant_name_norm = ? WHERE id = ?')
      .run('Қуанышбаева Тестана', foldForSearch('Қуанышбаева Тестана'), id);
    expect(ids(list({ search: 'зейнолла' }))).toEqual([]);
    expect(ids(list({ search: 'куанышбаева тестана' }))).toEqual([id]);

    sqlite.prepare("UPDATE applications SET status = 'in_processing' WHERE id = ?").run(id);
    expect(ids(list({ search: 'тестана', status: 'in_processing' }))).toEqual([id]);
    expect(ids(list({ search: 'тестана', status: 'received' }))).toEqual([]);
    sqlite
      .prepare("UPDATE applications SET service_code = 'some-new-service', decision = 'negative' WHERE id = ?")
      .run(id);
    expect(ids(list({ search: 'тестана', serviceCode: 'some-new-service', decision: 'negative' }))).toEqual([id]);
    expect(ids(list({ serviceCode: 'some-new-service' }))).toEqual([id]);
    countsMatch();

    // Moved to another provider: its journal has it, the first one's no longer.
    const [first, other] = sqlite.prepare('SELECT id FROM providers ORDER BY id LIMIT 2').pluck().all() as string[];
    const within = (provider: string) => ({ sql: '(a.provider_id IN (@scopeP0))', params: { scopeP0: provider } });
    expect(ids(journal.list(query({ serviceCode: 'some-new-service' }), within(first!)))).toEqual([id]);
    sqlite.prepare('UPDATE applications SET provider_id = ? WHERE id = ?').run(other!, id);
    expect(ids(journal.list(query({ serviceCode: 'some-new-service' }), within(first!)))).toEqual([]);
    expect(journal.list(query({ serviceCode: 'some-new-service' }), within(other!))).toMatchObject({ total: 1 });
    countsMatch();

    sqlite.prepare('DELETE FROM applications WHERE id = ?').run(id);
    expect(ids(list({ search: 'тестана' }))).toEqual([]);
    expect(list({ serviceCode: 'some-new-service' }).total).toBe(0);
    countsMatch();
    const indexed = sqlite.prepare('SELECT count(*) AS n FROM applications_search').get() as { n: number };
    const rows = sqlite.prepare('SELECT count(*) AS n FROM applications').get() as { n: number };
    expect(indexed.n).toBe(rows.n);
  });

  it('comes out the same when the migrations run again', () => {
    const providerCounts = 'SELECT * FROM journal_provider_counts WHERE n > 0 ORDER BY 1, 2, 3, 4';
    const before = {
      counts: sqlite.prepare('SELECT * FROM journal_counts WHERE n > 0 ORDER BY 1, 2, 3').all(),
      byProvider: sqlite.prepare(providerCounts).all(),
      page: list({ search: 'нурлан' }),
    };
    for (const migration of ['0003_journal_search.sql', '0006_journal_provider.sql']) {
      const file = readFileSync(join(ROOT, 'db', 'migrations', migration), 'utf8');
      for (const statement of file.split('--> statement-breakpoint')) sqlite.exec(statement);
    }
    expect(sqlite.prepare('SELECT * FROM journal_counts WHERE n > 0 ORDER BY 1, 2, 3').all()).toEqual(before.counts);
    expect(sqlite.prepare(providerCounts).all()).toEqual(before.byProvider);
    expect(list({ search: 'нурлан' })).toEqual(before.page);
    expect(sqlite.prepare('SELECT count(*) FROM applications_search').pluck().get()).toBe(
      sqlite.prepare('SELECT count(*) FROM applications').pluck().get(),
    );
  });

  it('fills them from the rows already there when the migration runs', async () => {
    // A database one step before migration 0003, with applications, then upgraded.
    const folder = join(dir, 'migrations-before');
    cpSync(join(ROOT, 'db', 'migrations'), folder, { recursive: true });
    const file = join(folder, 'meta', '_journal.json');
    const meta = JSON.parse(readFileSync(file, 'utf8')) as { entries: { idx: number; tag: string }[] };
    const ours = meta.entries.find((e) => e.tag.endsWith('_journal_search'))!;
    writeFileSync(file, JSON.stringify({ ...meta, entries: meta.entries.filter((e) => e.idx < ours.idx) }));

    const path = join(dir, 'upgrade.db');
    const before = await openDatabase(path, { migrationsFolder: folder, backupEveryMs: 0 });
    generateDemo(before.sqlite, {
      applications: 3000,
      seed: 5,
      now: NOW,
      services: loadCatalogue(join(ROOT, 'resources', 'services')).services,
    });
    expect(new Journal(before.sqlite, name).indexed).toBe(false);
    before.close();

    const after = await openDatabase(path, { backupEveryMs: 0 });
    expect(after.applied).toContain(ours.tag);
    const upgraded = new Journal(after.sqlite, name, { now: () => NOW });
    const reference = new Journal(after.sqlite, name, { now: () => NOW, plain: true });
    expect(upgraded.indexed).toBe(true);
    for (const q of [
      {},
      { search: 'ов' },
      { search: 'нурлан серик' },
      { status: 'received' as const, sort: 'applicantName' as const },
    ]) {
      const a = upgraded.list(query(q));
      const b = reference.list(query(q));
      expect(ids(a)).toEqual(ids(b));
      expect(a.total).toBe(b.total);
    }
    const kept = after.sqlite
      .prepare('SELECT service_code, status, decision, n FROM journal_counts ORDER BY 1, 2, 3')
      .all();
    const real = after.sqlite
      .prepare(
        'SELECT service_code, status, decision, count(*) AS n FROM applications GROUP BY 1, 2, 3 ORDER BY 1, 2, 3',
      )
      .all();
    expect(kept).toEqual(real);
    after.close();
  });
});

describe('bulk loads', () => {
  it('writes with the triggers off, then rebuilds what they keep, and undoes everything on failure', async () => {
    const opened = await openDatabase(join(dir, 'bulk.db'), { backupEveryMs: 0 });
    const s = opened.sqlite;
    const triggers = () =>
      s
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'applications_journal_%' ORDER BY name",
        )
        .pluck()
        .all();
    const before = triggers();
    expect(before).toHaveLength(3);

    expect(() =>
      bulkLoad(s, () => {
        generateDemo(s, { applications: 500, seed: 3, now: NOW, services: SERVICES });
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(s.prepare('SELECT count(*) FROM applications').pluck().get()).toBe(0);
    expect(triggers()).toEqual(before);

    const result = bulkLoad(s, () => generateDemo(s, { applications: 2000, seed: 3, now: NOW, services: SERVICES }));
    expect(result.applications).toBe(2000);
    expect(triggers()).toEqual(before);
    expect(s.prepare('SELECT count(*) FROM applications_search').pluck().get()).toBe(2000);
    const fast = new Journal(s, name, { now: () => NOW });
    const slow = new Journal(s, name, { now: () => NOW, plain: true });
    for (const q of [
      { search: 'ов' },
      { search: 'нурлан серик' },
      { status: 'received' as const, search: 'а' },
      { sort: 'status' as const },
    ]) {
      const a = fast.list(query(q));
      expect(ids(a)).toEqual(ids(slow.list(query(q))));
      expect(a.total).toBe(slow.list(query(q)).total);
    }
    // The triggers are back: a new row is found at once.
    const provider = s.prepare('SELECT id, region_kato AS kato FROM providers LIMIT 1').get() as {
      id: string;
      kato: string;
    };
    s.prepare(
      `INSERT INTO applications (id, number, provider_id, service_code, channel, applicant_iin, applicant_name,
         applicant_name_norm, region_kato, locality, status, submitted_at, status_changed_at, form_data, created_at, updated_at)
       VALUES ('bulk-1', '1-01-11-26', ?, 'unemployed-certificate', 'office', '990101300000', 'Бұлқынбаев Тест', ?, ?, 'Test',
         'received', ?, ?, '{}', ?, ?)`,
    ).run(provider.id, foldForSearch('Бұлқынбаев Тест'), provider.kato, NOW, NOW, NOW, NOW);
    expect(ids(fast.list(query({ search: 'булкын' })))).toEqual(['bulk-1']);
    opened.close();
  });
});

describe('query plans', () => {
  /** A scan of `applications` that is not of one of its indexes: every row read. */
  const FULL_SCAN = /SCAN (a|applications)(?! USING)( |\n|$)/;

  /** The journal over a connection that records every statement it runs, with its parameters. */
  function recording(log: { sql: string; args: unknown[] }[]): Database.Database {
    return new Proxy(sqlite, {
      get(target, prop) {
        if (prop === 'prepare') {
          return (sql: string) => {
            const statement = target.prepare(sql);
            const proxy: Database.Statement = new Proxy(statement, {
              get(s, p) {
                if (p === 'all' || p === 'get') {
                  return (...args: unknown[]) => {
                    log.push({ sql, args });
                    return p === 'all' ? s.all(...args) : s.get(...args);
                  };
                }
                if (p === 'pluck') {
                  return (toggle?: boolean) => {
                    s.pluck(toggle ?? true);
                    return proxy;
                  };
                }
                const value = Reflect.get(s, p, s) as unknown;
                return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(s) : value;
              },
            });
            return proxy;
          };
        }
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  const plans = (q: Partial<JournalQuery>) => {
    const log: { sql: string; args: unknown[] }[] = [];
    let plan: JournalPlan | null = null;
    new Journal(recording(log), name, { now: () => NOW, onPlan: (p) => (plan = p) }).list(query(q));
    const statements = log
      .filter((l) => /^\s*SELECT/i.test(l.sql))
      .map((l) => ({
        sql: l.sql,
        plan: (sqlite.prepare(`EXPLAIN QUERY PLAN ${l.sql}`).all(...l.args) as { detail: string }[])
          .map((r) => r.detail)
          .join('\n'),
      }));
    return {
      way: (plan as JournalPlan | null)?.way,
      statements,
      lines: statements.map((s) => s.plan).join('\n'),
    };
  };

  it.each([
    [{}, 'walk', JOURNAL_INDEXES.submitted],
    [{ sort: 'number' as const }, 'walk', JOURNAL_INDEXES.number],
    [{ sort: 'applicantName' as const, status: 'completed' as const }, 'walk', JOURNAL_INDEXES.name],
    [{ dateFrom: '2026-01-01', search: 'а' }, 'walk', JOURNAL_INDEXES.submitted],
    [
      { direction: 'asc' as const, sort: 'number' as const, decision: 'positive' as const },
      'walk',
      JOURNAL_INDEXES.number,
    ],
    [{ search: '850312400123' }, 'search', 'applications_iin_idx'],
    [{ search: '10109' }, null, 'applications_portal_idx'],
    [{ search: '77777-01' }, 'search', JOURNAL_INDEXES.number],
    [{ search: 'Әбдіғаппаров' }, null, 'VIRTUAL TABLE'],
    [{ search: 'ахметов', status: 'completed' }, null, 'VIRTUAL TABLE'],
    [{ status: 'on_signing', decision: 'negative' }, 'filter', JOURNAL_INDEXES.filter],
    [{ dateFrom: '2026-10-01', dateTo: '2026-10-02' }, null, JOURNAL_INDEXES.submitted],
    [
      { dateFrom: '2026-10-01', dateTo: '2026-10-02', serviceCode: 'grant-small-business' },
      null,
      JOURNAL_INDEXES.filter,
    ],
    [{ overdue: true }, null, JOURNAL_INDEXES.due],
  ] as const)('%j reads %s through %s, never the whole table', (q, way, index) => {
    const { way: chosen, lines, statements } = plans(q);
    if (way) expect(chosen).toBe(way);
    expect(lines).toContain(index);
    expect(lines).not.toMatch(FULL_SCAN);
    if (way === 'walk') {
      // The page of a walk comes in the index's order: nothing sorted, the walk stops at the page's end.
      const page = statements.find((s) => s.sql.includes(`INDEXED BY ${index}`) && s.sql.includes('ORDER BY'));
      expect(page?.plan).toContain(index);
      expect(page?.plan).not.toContain('TEMP B-TREE');
    }
  });

  it('recognises a full scan when it sees one', () => {
    const lines = (
      sqlite
        .prepare(
          "EXPLAIN QUERY PLAN SELECT a.rowid FROM applications a NOT INDEXED WHERE instr(a.applicant_name_norm, 'x') > 0",
        )
        .all() as { detail: string }[]
    ).map((r) => r.detail);
    expect(lines.join('\n')).toMatch(FULL_SCAN);
  });
});

describe('days waiting', () => {
  it('shows the working days an open application has waited, and none for a finished one', () => {
    const waited = new Journal(sqlite, name, {
      now: () => NOW,
      daysWaiting: (from, to) => Math.floor((to - from) / 86_400_000),
    });
    const rows = waited.list(query({ pageSize: 500 })).rows;
    const open = rows.filter((r) => r.status !== 'completed' && r.status !== 'completed_with_error');
    const done = rows.filter((r) => r.status === 'completed' || r.status === 'completed_with_error');
    expect(open.length).toBeGreaterThan(0);
    expect(done.length).toBeGreaterThan(0);
    for (const r of open) expect(r.daysWaiting).toBe(Math.floor((NOW - r.submittedAt) / 86_400_000));
    for (const r of done) expect(r.daysWaiting).toBeNull();
    // Without a calendar the journal shows none.
    expect(list({}).rows.every((r) => r.daysWaiting === null)).toBe(true);
  });
});

describe('a scoped journal (one provider)', () => {
  it('gives the same pages as the plain statement with the scope, for 120 combinations drawn at random', () => {
    const random = mulberry32(6);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const providers = sqlite
      .prepare('SELECT provider_id FROM applications GROUP BY provider_id ORDER BY count(*) DESC')
      .pluck()
      .all() as string[];
    const exact = new Journal(sqlite, name, { now: () => NOW, plain: true, totalCap: 1e9, searchTotalCap: 1e9 });
    const searches = [undefined, undefined, 'ов', 'нурлан', 'ә', 'ас', 'серик ай', '8', '77', '10109', '2-', 'щъ'];
    let collected = 0;
    let plainWay = 0;
    let planned = 0;
    for (let i = 0; i < 120; i++) {
      const two = random() < 0.5;
      const chosen = two ? [providers[0]!, pick(providers)] : [pick(providers)];
      const scope = {
        sql: `(a.provider_id IN (${chosen.map((_, k) => `@scopeP${k}`).join(', ')}))`,
        params: Object.fromEntries(chosen.map((p, k) => [`scopeP${k}`, p])),
      };
      const q: Partial<JournalQuery> = {
        search: pick(searches),
        status: pick([undefined, undefined, 'received', 'in_processing', 'completed'] as const),
        decision: pick([undefined, undefined, 'none', 'positive', 'negative'] as const),
        serviceCode: pick([undefined, undefined, 'unemployed-certificate', 'industrial-infrastructure']),
        dateFrom: pick([undefined, undefined, '2025-12-01', '2026-10-20']),
        overdue: pick([undefined, undefined, true]),
        sort: pick(['submittedAt', 'number', 'applicantName', 'status', 'decision', 'serviceCode'] as const),
        direction: pick(['asc', 'desc'] as const),
        page: pick([0, 0, 1, 3]),
        pageSize: pick([10, 100]),
      };
      lastPlan = null;
      const a = journal.list(query(q), scope);
      // One provider: planned on its part of the indexes. Two: the plain statement reports itself, a page
      // collected from the whole journal's plan does not.
      const way = (lastPlan as JournalPlan | null)?.way;
      if (!two) {
        expect(way).not.toBe('plain');
        planned++;
      } else if (way === 'plain') plainWay++;
      else collected++;
      const b = exact.list(query(q), scope);
      expect(ids(a), JSON.stringify({ q, chosen })).toEqual(ids(b));
      if (a.totalCapped) expect(b.total).toBeGreaterThan(a.total);
      else expect(a.total, JSON.stringify({ q, chosen })).toBe(b.total);
    }
    expect(planned).toBeGreaterThan(40);
    expect(collected).toBeGreaterThan(3);
    expect(plainWay).toBeGreaterThanOrEqual(3);
  });

  it("plans one provider's pages like the whole journal: the same as the plain statement, 150 drawn at random", () => {
    const random = mulberry32(77);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const providers = sqlite
      .prepare('SELECT provider_id FROM applications GROUP BY provider_id ORDER BY count(*) DESC')
      .pluck()
      .all() as string[];
    const services = sqlite
      .prepare('SELECT DISTINCT service_code FROM applications ORDER BY 1')
      .pluck()
      .all() as string[];
    const exact = new Journal(sqlite, name, { now: () => NOW, plain: true, totalCap: 1e9, searchTotalCap: 1e9 });
    // Small caps, so that capped counts and parts cut short come up at this size too.
    const small = new Journal(sqlite, name, {
      now: () => NOW,
      totalCap: 300,
      searchTotalCap: 60,
      onPlan: (p) => (lastPlan = p),
    });
    const searches = [undefined, undefined, undefined, 'ов', 'ова', 'нурлан', 'ә', 'серик ай', '8', '880', '2-', 'щъ'];
    const ways = new Set<string>();
    for (let i = 0; i < 150; i++) {
      const provider = pick(providers);
      const scope = { sql: '(a.provider_id IN (@scopeP0))', params: { scopeP0: provider } };
      const q: Partial<JournalQuery> = {
        search: pick(searches),
        status: pick([undefined, undefined, undefined, 'received', 'in_processing', 'completed'] as const),
        decision: pick([undefined, undefined, undefined, 'positive', 'negative'] as const),
        // Services of the provider and of others (none of its applications).
        serviceCode: pick([undefined, undefined, undefined, pick(services)]),
        dateFrom: pick([undefined, undefined, '2025-12-01', '2026-10-20']),
        dateTo: pick([undefined, undefined, undefined, '2026-06-30']),
        overdue: pick([undefined, undefined, undefined, true]),
        sort: pick([
          'submittedAt',
          'submittedAt',
          'number',
          'applicantName',
          'status',
          'decision',
          'serviceCode',
        ] as const),
        direction: pick(['asc', 'desc'] as const),
        page: pick([0, 0, 1, 4]),
        pageSize: pick([10, 50, 100]),
      };
      lastPlan = null;
      const a = small.list(query(q), scope);
      ways.add((lastPlan as JournalPlan | null)?.way ?? 'none');
      const b = exact.list(query(q), scope);
      const why = JSON.stringify({ q, provider });
      expect(ids(a), why).toEqual(ids(b));
      expect(a.rows, why).toEqual(b.rows);
      if (a.totalCapped) {
        expect(b.total, why).toBeGreaterThan(a.total);
        expect(a.total, why).toBeGreaterThanOrEqual(q.search ? 60 : 300);
      } else expect(a.total, why).toBe(b.total);
    }
    // The planner's ways were all taken, none of them the plain statement.
    expect(ways.has('plain')).toBe(false);
    for (const way of ['walk', 'filter', 'fts', 'parts']) expect([...ways]).toContain(way);
  });

  it('counts exactly from the count table, and up to the cap what it reads, like the whole journal', () => {
    const provider = sqlite.prepare('SELECT provider_id FROM applications LIMIT 1').pluck().get() as string;
    const scope = { sql: '(a.provider_id IN (@scopeP0))', params: { scopeP0: provider } };
    const n = sqlite.prepare('SELECT count(*) FROM applications WHERE provider_id = ?').pluck().get(provider) as number;
    expect(n).toBeGreaterThan(100);
    // Counted from the provider's count table: exact at any size, like the whole journal's filters.
    const capped = new Journal(sqlite, name, { now: () => NOW, totalCap: 100 });
    expect(capped.list(query({}), scope)).toMatchObject({ total: n, totalCapped: false });
    // Counted by reading: up to the cap.
    const since = { dateFrom: '2024-01-01' };
    const m = sqlite
      .prepare('SELECT count(*) FROM applications WHERE provider_id = ? AND submitted_at >= ?')
      .pluck()
      .get(provider, new Date(2024, 0, 1).getTime()) as number;
    expect(m).toBeGreaterThan(100);
    const page = capped.list(query(since), scope);
    expect(page).toMatchObject({ total: 100, totalCapped: true });
    expect(page.rows).toHaveLength(100);
    const exact = new Journal(sqlite, name, { now: () => NOW, totalCap: m });
    expect(exact.list(query(since), scope)).toMatchObject({ total: m, totalCapped: false });
    // The same rows either way.
    expect(ids(capped.list(query({ ...since, page: 1 }), scope))).toEqual(
      ids(exact.list(query({ ...since, page: 1 }), scope)),
    );
  });
});
