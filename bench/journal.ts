/**
 * The journal's figures of `npm run bench`, on 1,000,000 demo applications:
 *
 *  - journal.search_p95_ms: the 95th percentile, over 42 journal pages of 100
 *    (searches by IIN, BIN, number, portal number and name fragments, filters,
 *    their combinations and every sort), of each page's median time through
 *    Journal.list; baseline: the same pages on a copy of the database without
 *    the journal's indexes (every non-unique index of `applications`, the
 *    full-text index, the count tables), where the journal runs one plain
 *    statement per page (the name search a LIKE-like instr over every row).
 *    The same 42 pages within the demo head's office (the scope her executor,
 *    clerk and she see: main/auth/permissions.ts scopeSql) count in the p95
 *    too, their searches taken from that office's applications.
 *  - journal.first_page_service_ms: opening the database as the app does
 *    (pending migrations; the integrity check runs after it in a worker
 *    thread, not timed) and the demo head's first page of the journal,
 *    newest first; baseline: the same on the copy without the indexes.
 *  - journal.first_page_ms (bench/first-page.ts): the app started in the
 *    browser harness on the same database, to the first page painted.
 *
 * The database is built once as the app meets it at upgrade: the demo rows
 * written at the migrations before journal_search, then that migration run.
 * QYZMET_BENCH_JOURNAL_DB=path keeps it there between runs (it is rebuilt
 * when it is not a million rows at the current migrations).
 */
import { copyFileSync, cpSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { defaultMigrationsFolder, openDatabase, pendingMigrations } from '#db/connection.js';
import { generateDemo } from '#demo/generate.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { Journal, type JournalPlan, type JournalQuery } from '#main/journal/journal.js';
import { scopeSql } from '#main/auth/permissions.js';
import { benchFirstPage } from './first-page.js';
import { median, type Report } from './report.js';

const APPLICATIONS = 1_000_000;
const NOW = Date.UTC(2026, 10, 1);
const ROOT = join(import.meta.dirname, '..');
const serviceName = (code: string) => ({ kk: code, ru: code, en: code });

export interface BenchQuery {
  label: string;
  query: JournalQuery;
}

/**
 * The pages measured: searches and filters a clerk uses, built from the rows
 * of the database (deterministic); with `provider`, the numbers and names
 * searched for are taken from that provider's applications (what its staff
 * look for).
 */
export function journalBenchQueries(sqlite: Database.Database, provider?: string): BenchQuery[] {
  const top = sqlite.prepare('SELECT max(rowid) FROM applications').pluck().get() as number;
  const within = provider ? 'provider_id = @provider' : '1 = 1';
  const at = (share: number, where = '1 = 1') =>
    sqlite
      .prepare(
        `SELECT number, portal_number AS portal, applicant_iin AS iin, applicant_bin AS bin,
                applicant_name AS name, submitted_at AS submitted
           FROM applications WHERE rowid >= @from AND ${where} AND ${within} ORDER BY rowid LIMIT 1`,
      )
      .get({ from: Math.max(1, Math.floor(top * share)), ...(provider ? { provider } : {}) }) as {
      number: string;
      portal: string | null;
      iin: string;
      bin: string | null;
      name: string;
      submitted: number;
    };
  const a = at(0.31);
  const b = at(0.77);
  const portal = at(0.52, 'portal_number IS NOT NULL').portal!;
  // A provider of personal services has no BINs among its applicants: then a BIN nobody there has.
  const bin =
    (sqlite
      .prepare(
        `SELECT applicant_bin FROM applications WHERE rowid >= @from AND applicant_bin IS NOT NULL AND ${within} ORDER BY rowid LIMIT 1`,
      )
      .pluck()
      .get({ from: Math.max(1, Math.floor(top * 0.6)), ...(provider ? { provider } : {}) }) as string | undefined) ??
    '180440012345';
  const kazakh = at(0.4, "applicant_name GLOB '*[әқөұүіңғһ]*'").name;
  const surname = kazakh.split(' ')[0]!;
  const last = sqlite.prepare('SELECT max(submitted_at) FROM applications').pluck().get() as number;
  const day = (t: number) => {
    const d = new Date(t);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  };
  const ago = (days: number) => day(last - days * 86_400_000);
  const page = (q: Partial<JournalQuery>): JournalQuery => ({
    page: 0,
    pageSize: 100,
    sort: 'submittedAt',
    direction: 'desc',
    ...q,
  });
  const plainLetters = surname
    .toLowerCase()
    .replace(/ә/g, 'а')
    .replace(/қ/g, 'к')
    .replace(/ө/g, 'о')
    .replace(/[ұү]/g, 'у')
    .replace(/і/g, 'и')
    .replace(/ң/g, 'н')
    .replace(/ғ/g, 'г')
    .replace(/һ/g, 'х');
  const queries: [string, Partial<JournalQuery>][] = [
    ['newest first', {}],
    ['newest first, page 8', { page: 7 }],
    ['oldest first', { direction: 'asc' }],
    ['IIN', { search: a.iin }],
    ['IIN, another', { search: b.iin }],
    ['IIN, first 6 digits', { search: a.iin.slice(0, 6) }],
    ['BIN', { search: bin }],
    ['number', { search: a.number }],
    ['number, first two parts', { search: b.number.split('-').slice(0, 2).join('-') }],
    ['3 digits', { search: a.number.split('-')[0]!.slice(0, 3) }],
    ['portal number', { search: portal }],
    ['portal number, first 11 digits', { search: portal.slice(0, 11) }],
    ['full name', { search: a.name }],
    ['Kazakh surname', { search: surname }],
    ['Kazakh surname typed without Kazakh letters, a fragment', { search: plainLetters.slice(1, -1) }],
    ['surname in capitals', { search: b.name.split(' ')[0]!.toUpperCase() }],
    ['Пётр', { search: 'Пётр' }],
    ['common 3 letters', { search: 'ова' }],
    ['4 letters', { search: 'нурл' }],
    ['given name and patronymic', { search: 'жандос мурат' }],
    ['2 letters', { search: 'ас' }],
    ['1 letter', { search: 'Ә' }],
    ['a name nobody has', { search: 'Щукин' }],
    ['status received', { status: 'received' }],
    ['on signing, negative', { status: 'on_signing', decision: 'negative' }],
    ['service and status', { serviceCode: 'industrial-infrastructure', status: 'in_processing' }],
    ['a month', { dateFrom: ago(40), dateTo: ago(10) }],
    [
      'a day and a service',
      { dateFrom: day(a.submitted), dateTo: day(a.submitted), serviceCode: 'grant-small-business' },
    ],
    ['overdue', { overdue: true }],
    ['overdue, a service', { overdue: true, serviceCode: 'industrial-infrastructure' }],
    ['negative in 3 months', { decision: 'negative', dateFrom: ago(120), dateTo: ago(30) }],
    ['by name', { sort: 'applicantName', direction: 'asc' }],
    ['by number', { sort: 'number', direction: 'asc' }],
    ['by status, a service', { sort: 'status', direction: 'asc', serviceCode: 'home-schooling-compensation' }],
    ['by decision, a month', { sort: 'decision', dateFrom: ago(60), dateTo: ago(30) }],
    ['by service', { sort: 'serviceCode', direction: 'asc' }],
    ['4 letters, completed', { search: 'нурл', status: 'completed' }],
    ['3 letters, a month', { search: 'ова', dateFrom: ago(40), dateTo: ago(10) }],
    ['IIN and a service', { search: a.iin, serviceCode: 'unemployed-certificate' }],
    ['completed by name', { status: 'completed', sort: 'applicantName', direction: 'asc' }],
    [
      'every filter, by number',
      {
        serviceCode: 'education-document-duplicate',
        status: 'completed',
        decision: 'negative',
        dateFrom: ago(200),
        dateTo: ago(20),
        sort: 'number',
      },
    ],
    ['a combination nobody has', { status: 'received', decision: 'negative' }],
  ];
  return queries.map(([label, q]) => ({ label, query: page(q) }));
}

/**
 * The service's part of the first page: the database opened as createApp
 * opens it (integrity check, pending migrations) and the journal's first
 * page; ms for each. The browser harness adds the app's other services, the
 * page load and the paint for `journal.first_page_ms`.
 */
export async function firstPageService(
  file: string,
  query: JournalQuery,
  scope: { sql: string; params: Record<string, string> } | null = null,
): Promise<{ total: number; opened: number; check: number }> {
  const t = performance.now();
  const o = await openDatabase(file, { backupEveryMs: 0, check: 'background' });
  const opened = performance.now() - t;
  new Journal(o.sqlite, serviceName, { now: () => NOW }).list(query, scope);
  const total = performance.now() - t;
  // Not timed: the integrity check the app runs meanwhile in a worker thread (waited for, so runs do not overlap).
  const checked = await o.check.done;
  if (checked.state !== 'ok') throw new Error(`bench: the integrity check did not pass: ${checked.state}`);
  o.close();
  return { total, opened, check: checked.ms };
}

/** 95th percentile (nearest rank). */
function p95(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.95) - 1)]!;
}

type Scope = { sql: string; params: Record<string, string> } | null;

/** Each query's median time over `runs` rounds (after one round to warm up, when `warm`), within `scope`. */
function timeQueries(
  journal: Journal,
  queries: BenchQuery[],
  runs: number,
  warm: boolean,
  scope: Scope = null,
): number[] {
  if (warm) for (const q of queries) journal.list(q.query, scope);
  const samples = queries.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    queries.forEach((q, i) => {
      const t = performance.now();
      journal.list(q.query, scope);
      samples[i]!.push(performance.now() - t);
    });
  }
  return samples.map(median);
}

/** The demo head's office (head.demo): the executor, clerk and head there see only its applications. */
function headProvider(sqlite: Database.Database): string {
  const id = sqlite
    .prepare("SELECT provider_id FROM user_roles WHERE user_id = 'user-head-demo' AND role = 'head' LIMIT 1")
    .pluck()
    .get() as string | undefined;
  if (!id) throw new Error('bench: the fixture has no demo head');
  return id;
}

/** A database of `APPLICATIONS` applications at the current migrations, built as an upgrade from before journal_search. */
export async function journalFixture(path: string, dir: string): Promise<void> {
  if (existsSync(path)) {
    const s = new Database(path, { readonly: true });
    let kept: 'current' | 'behind' | null = null;
    try {
      const n = s.prepare('SELECT count(*) FROM applications').pluck().get() as number;
      const hasSearch = s.prepare("SELECT 1 FROM sqlite_master WHERE name = 'applications_search'").get();
      if (n === APPLICATIONS && hasSearch)
        kept = pendingMigrations(s, defaultMigrationsFolder()).length === 0 ? 'current' : 'behind';
    } catch {
      // not a fixture: build it again
    } finally {
      s.close();
    }
    if (kept === 'current') return;
    if (kept === 'behind') {
      // Newer migrations since it was built: upgraded as the app would upgrade it.
      const t = performance.now();
      const upgraded = await openDatabase(path, { backupEveryMs: 0, backupDir: join(dir, 'fixture-backups') });
      upgraded.sqlite.pragma('wal_checkpoint(TRUNCATE)');
      upgraded.close();
      rmSync(join(dir, 'fixture-backups'), { recursive: true, force: true });
      console.log(
        `# journal fixture: migrations ${upgraded.applied.join(', ')} in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
      return;
    }
  }
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });

  // The migrations before journal_search: the rows go in without its triggers, as on a workstation before the upgrade.
  const before = join(dir, 'migrations-before-journal-search');
  cpSync(defaultMigrationsFolder(), before, { recursive: true });
  const metaFile = join(before, 'meta', '_journal.json');
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { entries: { idx: number; tag: string }[] };
  const ours = meta.entries.find((e) => e.tag.endsWith('_journal_search'));
  if (!ours) throw new Error('bench: no journal_search migration');
  writeFileSync(metaFile, JSON.stringify({ ...meta, entries: meta.entries.filter((e) => e.idx < ours.idx) }));

  const t0 = performance.now();
  const old = await openDatabase(path, { migrationsFolder: before, backupEveryMs: 0 });
  generateDemo(old.sqlite, {
    applications: APPLICATIONS,
    seed: 42,
    now: NOW,
    services: loadCatalogue(join(ROOT, 'resources', 'services')).services,
  });
  old.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  old.close();
  const t1 = performance.now();
  const upgraded = await openDatabase(path, { backupEveryMs: 0, backupDir: join(dir, 'fixture-backups') });
  upgraded.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  upgraded.close();
  rmSync(join(dir, 'fixture-backups'), { recursive: true, force: true });
  const t2 = performance.now();
  console.log(
    `# journal fixture: ${APPLICATIONS} applications written in ${((t1 - t0) / 1000).toFixed(1)} s, ` +
      `migrations ${upgraded.applied.join(', ')} in ${((t2 - t1) / 1000).toFixed(1)} s, ${(statSync(path).size / 1e6).toFixed(0)} MB`,
  );
}

/** A copy of the fixture without the journal's indexes: what the journal had before them. */
export function baselineCopy(path: string, copy: string): void {
  copyFileSync(path, copy);
  const s = new Database(copy);
  const drop = (type: string, where: string) => {
    const names = s
      .prepare(`SELECT name FROM sqlite_master WHERE type = '${type}' AND ${where}`)
      .pluck()
      .all() as string[];
    for (const name of names) s.exec(`DROP ${type.toUpperCase()} "${name}"`);
  };
  drop('trigger', "tbl_name = 'applications' AND name LIKE 'applications_journal_%'");
  drop('table', "name IN ('applications_search', 'journal_counts', 'journal_provider_counts', 'journal_tags')");
  // Every index of `applications` except those that keep rows unique (constraints, not speed).
  drop('index', "tbl_name = 'applications' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'");
  s.close();
}

export async function benchJournal(report: Report, dir: string, runs: number): Promise<void> {
  const path = process.env.QYZMET_BENCH_JOURNAL_DB ?? join(dir, 'journal-1m.db');
  await journalFixture(path, dir);
  const base = join(dir, 'journal-1m-baseline.db');
  baselineCopy(path, base);

  const open = (file: string) => {
    const s = new Database(file, { readonly: true });
    s.pragma('journal_mode = WAL');
    return s;
  };
  const sqlite = open(path);
  const queries = journalBenchQueries(sqlite);
  // The same pages as the demo head's office sees them (main/auth/permissions.ts scopeSql: its provider only).
  const provider = headProvider(sqlite);
  const scope = scopeSql({ all: false, providerIds: [provider], regionKatos: [] });
  const scopedQueries = journalBenchQueries(sqlite, provider).map((q) => ({ ...q, label: `${q.label}, scoped` }));
  const plans: string[] = [];
  const journal = new Journal(sqlite, serviceName, {
    now: () => NOW,
    onPlan: (p: JournalPlan) => plans.push(p.way),
  });
  if (!journal.indexed) throw new Error('bench: the fixture has no journal indexes');
  const times = timeQueries(journal, queries, Math.max(runs, 3), true);
  const scopedTimes = timeQueries(journal, scopedQueries, Math.max(runs, 3), true, scope);
  sqlite.close();

  const baseSqlite = open(base);
  const plain = new Journal(baseSqlite, serviceName, { now: () => NOW });
  if (plain.indexed) throw new Error('bench: the baseline copy still has the journal indexes');
  const baseTimes = timeQueries(plain, queries, 1, false);
  const baseScopedTimes = timeQueries(plain, scopedQueries, 1, false, scope);
  baseSqlite.close();

  const all = [...queries, ...scopedQueries];
  const allTimes = [...times, ...scopedTimes];
  const allBase = [...baseTimes, ...baseScopedTimes];
  const slowest = all
    .map((q, i) => ({ label: q.label, ms: allTimes[i]!, base: allBase[i]! }))
    .sort((x, y) => y.ms - x.ms)
    .slice(0, 5);
  console.log(
    `# journal: ${queries.length} pages of 100 over every application (p95 ${p95(times).toFixed(1)} ms, plain ${p95(baseTimes).toFixed(0)} ms) ` +
      `and the same ${scopedQueries.length} within ${provider} (p95 ${p95(scopedTimes).toFixed(1)} ms, plain ${p95(baseScopedTimes).toFixed(0)} ms); ` +
      `slowest: ${slowest.map((s) => `${s.label} ${s.ms.toFixed(1)} ms (plain ${s.base.toFixed(0)} ms)`).join('; ')}`,
  );
  report.add('journal.search_p95_ms', p95(allTimes), 'ms', p95(allBase));

  // Opening the database as the app does (the integrity check in the background), and the demo head's first page.
  const firstPage = (file: string) => firstPageService(file, queries[0]!.query, scope);
  const measure = async (file: string) => {
    await firstPage(file); // warm-up; every open here follows a clean close, so it runs the quick integrity check
    const samples: { total: number; opened: number; check: number }[] = [];
    for (let r = 0; r < Math.max(runs, 3); r++) samples.push(await firstPage(file));
    const total = median(samples.map((f) => f.total));
    const opened = median(samples.map((f) => f.opened));
    return { total, opened, list: total - opened, check: median(samples.map((f) => f.check)) };
  };
  const fast = await measure(path);
  const slow = await measure(base);
  console.log(
    `# journal.first_page_service_ms: opening the database ${fast.opened.toFixed(0)} ms, ` +
      `the head's first page ${fast.list.toFixed(1)} ms; without the journal indexes ${slow.opened.toFixed(0)} ms + ${slow.list.toFixed(0)} ms; ` +
      `the quick integrity check after it, in its worker thread: ${fast.check.toFixed(0)} ms`,
  );
  report.add('journal.first_page_service_ms', fast.total, 'ms', slow.total);

  // The same in the browser harness, to the page painted.
  await benchFirstPage(report, dir, path, base, Math.max(runs, 3));
}
