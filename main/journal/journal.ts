/**
 * The applications journal: one page of applications with search, filters
 * and sorting, over the local database (docs/domain.md#applications-journal), fast at a million rows.
 *
 * Migration 0003 (journal_search) gives it:
 *  - one covering index per sort order (submitted, number, name) holding
 *    every filter column, walked in order with the filters checked in the
 *    index ("walk");
 *  - ways to a small set of candidates ("collect": read them, check the
 *    rest, sort): a trigram full-text index over the folded names with
 *    one-token tags for status, decision and service; the IIN, BIN, portal
 *    and number indexes; a filter index (status, decision, service, date)
 *    sought with IN lists; a partial index of open applications by deadline;
 *  - exact counts per (service, status, decision), kept by triggers.
 *
 * For each page it counts the candidates of every way in (capped, cheap),
 * estimates what a walk and each collect would cost, and runs the cheapest.
 * Every plan returns the same rows in the same order: the sort key, then the
 * walk index's other columns, then rowid, all in the sort's direction. The
 * sorts by status, decision and service take each value in turn (status in
 * the workflow's order), newest first within it.
 *
 * Totals are exact up to `totalCap` (10,000; searches `searchTotalCap`,
 * 1,000); above, `totalCapped` says "at least". Filters by status, decision
 * and service alone are counted exactly at any size, from the count table.
 *
 * A page scoped to one provider (the staff of an office: migrations 0005
 * and 0006) is planned the same way on that provider's part: its walk
 * indexes (`applications_scope_*`, led by the provider), the filter and
 * deadline indexes (led by the provider; the whole journal seeks them with
 * an IN list of providers), its count table (`journal_provider_counts`); the
 * full-text and number ways find candidates over every provider, and the
 * provider is checked on their rows. Other scopes (several providers,
 * regions) take `scopedRun`.
 *
 * On a database without those indexes (before the migration, or the
 * benchmark's baseline) it runs the same query as one plain SQL statement.
 */
import type Database from 'better-sqlite3';
import type { z } from 'zod';
import { DECISIONS, FINISHED_STATUSES, type Status } from '#core/vocabulary.js';
import type { JournalRow, journalQuery } from '#preload/api.js';
import { ftsPhrase, nameMatch, parseSearch, prefixEnd, searchCondition, type SearchSpec } from './search.js';

/** The contract's query, plus `overdue` (see the report: the contract gains it). */
export type JournalQuery = z.output<typeof journalQuery> & { overdue?: boolean | undefined };

export interface JournalPage {
  /** Applications that match; a lower bound when `totalCapped`. */
  total: number;
  /** More than `total` match (counting stopped at the cap). */
  totalCapped: boolean;
  rows: JournalRow[];
}

type Localized = { kk: string; ru: string; en: string };

export interface JournalOptions {
  /** The clock of "overdue". Default Date.now. */
  now?: () => number;
  /** Count matches up to this many; above it the total is capped. Default 10,000. */
  totalCap?: number;
  /** The same for searches (a search that finds more is one to narrow down). Default 1,000. */
  searchTotalCap?: number;
  /** Called with the plan of each page (tests, the benchmark). */
  onPlan?: (plan: JournalPlan) => void;
  /** Ignore migration 0003's indexes: one plain statement per page (tests, the benchmark's baseline). */
  plain?: boolean;
  /**
   * Working days an open application has waited (core/calendar: the days of
   * acceptance do not count); default: none shown.
   */
  daysWaiting?: (fromMs: number, nowMs: number) => number;
}

/** Finished statuses: never overdue. The partial index of migration 0003 spells the same list. */
export { FINISHED_STATUSES };
const FINISHED_SQL = `(${FINISHED_STATUSES.map((s) => `'${s}'`).join(', ')})`;

/** The order of the status sort: the workflow's. Unknown values go last, alphabetically. */
export const STATUS_ORDER = [
  'received',
  'in_processing',
  'external_processing',
  'on_signing',
  'completed',
  'completed_with_error',
] as const satisfies readonly Status[];
/** The order of the decision sort: the domain's. */
export const DECISION_ORDER = DECISIONS;

export const JOURNAL_INDEXES = {
  filter: 'applications_journal_filter_idx',
  submitted: 'applications_journal_submitted_idx',
  number: 'applications_journal_number_idx',
  name: 'applications_journal_name_idx',
  due: 'applications_journal_due_idx',
} as const;

/** The walk indexes of one provider's journal (migration 0005): the same columns, led by the provider. */
export const SCOPE_INDEXES = {
  submitted: 'applications_scope_submitted_idx',
  number: 'applications_scope_number_idx',
  name: 'applications_scope_name_idx',
} as const;

type WalkSort = 'submittedAt' | 'number' | 'applicantName';
type Dim = 'status' | 'decision' | 'serviceCode';
/** 'scope': the page is one provider's (its counts are kept like the filters', so it counts as one). */
type Pred = Dim | 'date' | 'overdue' | 'search' | 'scope';

const DIM_COLUMN: Record<Dim, string> = { status: 'status', decision: 'decision', serviceCode: 'service_code' };
const DIM_TAG: Record<Dim, { dim: string; column: string }> = {
  status: { dim: 'status', column: 'st' },
  decision: { dim: 'decision', column: 'de' },
  serviceCode: { dim: 'service', column: 'sv' },
};

/** The sort key and its tie-breakers: the walk index's columns in order, then rowid. */
const ORDER_COLUMNS: Record<WalkSort, readonly string[]> = {
  submittedAt: [
    'a.submitted_at',
    'a.status',
    'a.decision',
    'a.service_code',
    'a.due_at',
    'a.applicant_name_norm',
    'a.rowid',
  ],
  number: ['a.number', 'a.submitted_at', 'a.status', 'a.decision', 'a.service_code', 'a.due_at', 'a.rowid'],
  applicantName: [
    'a.applicant_name_norm',
    'a.submitted_at',
    'a.status',
    'a.decision',
    'a.service_code',
    'a.due_at',
    'a.rowid',
  ],
};

/** Which table columns each journal index holds (besides rowid). */
const INDEX_COLUMNS: Record<string, ReadonlySet<string>> = {
  [JOURNAL_INDEXES.filter]: new Set([
    'provider_id',
    'status',
    'decision',
    'service_code',
    'submitted_at',
    'due_at',
    'applicant_name_norm',
  ]),
  [JOURNAL_INDEXES.submitted]: new Set([
    'submitted_at',
    'status',
    'decision',
    'service_code',
    'due_at',
    'applicant_name_norm',
  ]),
  [JOURNAL_INDEXES.number]: new Set(['number', 'submitted_at', 'status', 'decision', 'service_code', 'due_at']),
  [JOURNAL_INDEXES.name]: new Set([
    'applicant_name_norm',
    'submitted_at',
    'status',
    'decision',
    'service_code',
    'due_at',
  ]),
  [JOURNAL_INDEXES.due]: new Set([
    'provider_id',
    'due_at',
    'status',
    'decision',
    'service_code',
    'submitted_at',
    'applicant_name_norm',
  ]),
};

INDEX_COLUMNS[SCOPE_INDEXES.submitted] = new Set(['provider_id', ...INDEX_COLUMNS[JOURNAL_INDEXES.submitted]!]);
INDEX_COLUMNS[SCOPE_INDEXES.number] = new Set(['provider_id', ...INDEX_COLUMNS[JOURNAL_INDEXES.number]!]);
INDEX_COLUMNS[SCOPE_INDEXES.name] = new Set(['provider_id', ...INDEX_COLUMNS[JOURNAL_INDEXES.name]!]);

const WALK_INDEX: Record<WalkSort, string> = {
  submittedAt: JOURNAL_INDEXES.submitted,
  number: JOURNAL_INDEXES.number,
  applicantName: JOURNAL_INDEXES.name,
};
const SCOPE_WALK_INDEX: Record<WalkSort, string> = {
  submittedAt: SCOPE_INDEXES.submitted,
  number: SCOPE_INDEXES.number,
  applicantName: SCOPE_INDEXES.name,
};

// Cost model: microseconds per row, measured at 10^6 rows with SQLite's
// default 16 MB page cache (bench/journal.ts). Only their ratios matter.
/** Walk: stepping over an index entry, filters checked in the index. */
const W_STEP = 0.08;
/** Walk: the same with the name checked in the index (instr over the folded name). */
const W_STEP_NAME = 0.16;
/** Reading the table row of an index entry, to check what the index does not hold. */
const C_LOOKUP = 1.3;
/** Counting index entries with nothing to check. */
const C_BARE = 0.02;
/** Counting rows out of the full-text index. */
const C_FTS = 0.4;
/** Counting candidates read from the table by rowid and checked there. */
const C_ROW = 1.25;
/** Collecting candidates read from the table by rowid: check, sort. */
const K_ROW = 2.8;
/** Listing a rowid out of an index into JavaScript. */
const C_LIST = 0.15;
/** Collecting candidates from a covering index: check, sort. */
const K_INDEX = 0.2;

/** A scoped page lists every match of the whole journal when there are at most this many (Journal.scopedRun). */
const SCOPE_COLLECT = 5_000;
/** Candidates counted to size a way in that reads the table: it may collect up to this many. */
const ROW_CAP = 3_000;
/** The same for the covering indexes (date range, overdue), where a candidate costs far less. */
const INDEX_CAP = 20_000;

/** One page query without a sort by status, decision or service. */
interface Spec {
  sort: WalkSort;
  desc: boolean;
  eq: Partial<Record<Dim, string>>;
  from: number | null;
  to: number | null;
  overdue: boolean;
  search: SearchSpec | null;
  /** One provider's journal (a scope of that provider alone), or null: every application. */
  provider: string | null;
}

type Params = Record<string, string | number>;

/** A way to the matching rows: a set of candidates (or an index walked in order) and what it guarantees. */
interface Way {
  label: 'fts' | 'search' | 'filter' | 'overdue' | 'walk' | 'intersect';
  /** `applications a` with its index choice. */
  source: string;
  /** Conditions that define this way's rows. */
  terms: string[];
  params: Params;
  /** Predicates those terms guarantee. */
  enforced: ReadonlySet<Pred>;
  /** Predicates the candidates are drawn by, exactly or as a superset (its share of rows estimates theirs). */
  narrows: ReadonlySet<Pred>;
  /** Candidates: exact when `exact`, otherwise an estimate (at least the cap counted). */
  n: number;
  exact: boolean;
  /** The candidates' rowids, when read already (a collect reads them again by rowid). */
  ids?: number[];
  /** The index a collect reads (its costs depend on what else it holds). */
  index?: string;
  /** Cost of collecting one candidate (walk: of stepping over one entry). */
  collect: number;
  /** Cost of counting one candidate while checking what is left. */
  count: number;
  /** Cost of counting one candidate when nothing is left to check. */
  bare: number;
}

interface Run {
  rids: number[];
  total: number;
  capped: boolean;
}

/** What the planner chose, for tests and the benchmark. */
export interface JournalPlan {
  /**
   * How the page was read: 'walk' (the sort's index in order) or a collect
   * ('fts', 'search', 'filter', 'overdue'); 'parts' for the sorts by status,
   * decision or service, 'none' when nothing can match, 'plain' without the
   * indexes.
   */
  way: string;
  /** The ways considered with their candidates. */
  ways: { label: string; n: number; exact: boolean }[];
}

/** Local calendar day YYYY-MM-DD → its start in ms, in the workstation's time zone. */
function dayStart(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d).getTime();
}

function orderSql(sort: WalkSort, desc: boolean): string {
  const dir = desc ? 'DESC' : 'ASC';
  return ORDER_COLUMNS[sort].map((c) => `${c} ${dir}`).join(', ');
}

/** Columns a predicate reads. */
function predColumns(spec: Spec, pred: Pred): string[] {
  switch (pred) {
    case 'status':
    case 'decision':
    case 'serviceCode':
      return [DIM_COLUMN[pred]];
    case 'date':
      return ['submitted_at'];
    case 'overdue':
      return ['due_at', 'status'];
    case 'scope':
      return ['provider_id'];
    case 'search':
      if (spec.search?.kind === 'name') return ['applicant_name_norm'];
      if (spec.search?.kind === 'number') return ['number'];
      return ['applicant_iin', 'applicant_bin', 'portal_number', 'number'];
  }
}

function activePreds(spec: Spec): Pred[] {
  const out: Pred[] = [];
  for (const d of ['status', 'decision', 'serviceCode'] as const) if (spec.eq[d] !== undefined) out.push(d);
  if (spec.from !== null || spec.to !== null) out.push('date');
  if (spec.overdue) out.push('overdue');
  if (spec.search) out.push('search');
  if (spec.provider !== null) out.push('scope');
  return out;
}

/** Predicates the count tables answer exactly. */
const isEq = (p: Pred) => p === 'status' || p === 'decision' || p === 'serviceCode' || p === 'scope';

function isSubset<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/**
 * The provider of a scope of exactly one provider, as scopeSql
 * (main/auth/permissions.ts) spells it; null for any other scope.
 */
export function oneProvider(scope: { sql: string; params: Record<string, string> }): string | null {
  const keys = Object.keys(scope.params);
  if (keys.length !== 1 || keys[0] !== 'scopeP0') return null;
  return scope.sql === '(a.provider_id IN (@scopeP0))' ? scope.params.scopeP0! : null;
}

/** ORDER BY of a parts sort: the dimension's values in their own order (statuses, decisions), then `tail`. */
function partsOrder(partDim: keyof typeof DIM_COLUMN, desc: boolean, tail: string): string {
  const col = `a.${DIM_COLUMN[partDim]}`;
  const known: readonly string[] = partDim === 'status' ? STATUS_ORDER : partDim === 'decision' ? DECISION_ORDER : [];
  const dir = desc ? 'DESC' : 'ASC';
  const rank =
    known.length > 0
      ? `CASE ${col} ${known.map((v, k) => `WHEN '${v}' THEN ${k}`).join(' ')} ELSE ${known.length} END ${dir}, `
      : '';
  return `${rank}${col} ${dir}, ${tail}`;
}

/** Order of a dimension's values in its sort. */
function valueOrder(dim: Dim): (a: string, b: string) => number {
  const known: readonly string[] = dim === 'status' ? STATUS_ORDER : dim === 'decision' ? DECISION_ORDER : [];
  const rank = (v: string) => {
    const i = known.indexOf(v);
    return i < 0 ? known.length : i;
  };
  return (a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

export class Journal {
  private readonly now: () => number;
  private readonly totalCap: number;
  private readonly searchTotalCap: number;
  private readonly onPlan: ((plan: JournalPlan) => void) | undefined;
  private readonly daysWaiting: ((fromMs: number, nowMs: number) => number) | undefined;
  /** Whether migration 0003's indexes are there; otherwise one plain statement per page. */
  readonly indexed: boolean;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    private readonly sqlite: Database.Database,
    private readonly serviceName: (code: string) => Localized,
    options: JournalOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.daysWaiting = options.daysWaiting;
    this.totalCap = options.totalCap ?? 10_000;
    this.searchTotalCap = options.searchTotalCap ?? 1_000;
    this.onPlan = options.onPlan;
    const names = new Set(
      (
        sqlite.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')").all() as { name: string }[]
      ).map((r) => r.name),
    );
    this.indexed =
      options.plain !== true &&
      [
        'applications_search',
        'journal_counts',
        'journal_provider_counts',
        'journal_tags',
        'applications_bin_idx',
        ...Object.values(JOURNAL_INDEXES),
        ...Object.values(SCOPE_INDEXES),
      ].every((n) => names.has(n));
    if (this.indexed) {
      sqlite.exec(
        'CREATE VIRTUAL TABLE IF NOT EXISTS temp.applications_search_vocab USING fts5vocab(main, applications_search, col)',
      );
    }
  }

  /** A prepared statement, kept: the planner's statements repeat with a few shapes. */
  private st(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= 500) this.statements.clear();
      statement = this.sqlite.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * One page of the journal and how many applications match (see the file's
   * comment for the plans). `scope` (from the login's roles:
   * main/auth/permissions.ts scopeSql) narrows it to the user's providers or
   * regions. A scope of one provider is planned like the whole journal, on
   * that provider's part of the indexes and counts (migration 0006); other
   * scopes take `scopedRun`.
   */
  list(q: JournalQuery, scope?: { sql: string; params: Record<string, string> } | null): JournalPage {
    const search = parseSearch(q.search);
    const spec: Spec = {
      sort: q.sort === 'number' || q.sort === 'applicantName' ? q.sort : 'submittedAt',
      desc: q.direction !== 'asc',
      eq: {
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(q.decision !== undefined ? { decision: q.decision } : {}),
        ...(q.serviceCode !== undefined ? { serviceCode: q.serviceCode } : {}),
      },
      from: q.dateFrom ? dayStart(q.dateFrom) : null,
      to: q.dateTo ? dayStart(q.dateTo) + 24 * 3600 * 1000 : null,
      overdue: q.overdue === true,
      search,
      provider: null,
    };
    const offset = q.page * q.pageSize;
    const limit = q.pageSize;
    const partDim: Dim | null =
      q.sort === 'status'
        ? 'status'
        : q.sort === 'decision'
          ? 'decision'
          : q.sort === 'serviceCode'
            ? 'serviceCode'
            : null;
    const cap = search ? Math.min(this.totalCap, this.searchTotalCap) : this.totalCap;

    const provider = scope && this.indexed ? oneProvider(scope) : null;
    if (provider !== null) spec.provider = provider;

    let run: Run;
    if (scope && scope.sql !== '1 = 1' && provider === null)
      run = this.scopedRun(spec, partDim, offset, limit, scope, cap);
    else if (!this.indexed) run = this.plainRun(spec, partDim, offset, limit);
    else if (partDim) run = this.partsRun(spec, partDim, offset, limit, cap);
    else run = this.run(spec, offset, limit, cap, true);
    const page: JournalPage = { total: run.total, totalCapped: run.capped, rows: this.fetchRows(run.rids) };
    return page;
  }

  /**
   * Every application `q` matches within `scope` (its page and page size
   * ignored), in the journal's order, as chunks of `chunk` rows: the Excel
   * export (main/export/journal-export.ts). The matching rowids are listed in
   * one statement (8 bytes a row), then the rows are read chunk by chunk, so
   * no statement stays open between chunks: the connection stays free for
   * the other calls while the export waits on the disk.
   */
  exportRows(
    q: Omit<JournalQuery, 'page' | 'pageSize'>,
    scope?: { sql: string; params: Record<string, string> } | null,
    chunk = 1_000,
  ): { total: number; chunks: Generator<JournalRow[], void, undefined> } {
    const spec: Spec = {
      sort: q.sort === 'number' || q.sort === 'applicantName' ? q.sort : 'submittedAt',
      desc: q.direction !== 'asc',
      eq: {
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(q.decision !== undefined ? { decision: q.decision } : {}),
        ...(q.serviceCode !== undefined ? { serviceCode: q.serviceCode } : {}),
      },
      from: q.dateFrom ? dayStart(q.dateFrom) : null,
      to: q.dateTo ? dayStart(q.dateTo) + 24 * 3600 * 1000 : null,
      overdue: q.overdue === true,
      search: parseSearch(q.search),
      provider: null,
    };
    const partDim: Dim | null =
      q.sort === 'status'
        ? 'status'
        : q.sort === 'decision'
          ? 'decision'
          : q.sort === 'serviceCode'
            ? 'serviceCode'
            : null;
    const table: Way = {
      label: 'walk',
      source: 'applications a',
      terms: [],
      params: {},
      enforced: new Set(),
      narrows: new Set(),
      n: Infinity,
      exact: false,
      collect: 0,
      count: 0,
      bare: 0,
    };
    const plain = this.where(spec, activePreds(spec), table);
    const scoped = scope && scope.sql !== '1 = 1';
    const where = scoped ? `(${plain.where}) AND ${scope.sql}` : plain.where;
    const params = scoped ? { ...plain.params, ...scope.params } : plain.params;
    let order = orderSql(spec.sort, spec.desc);
    if (partDim) {
      // The parts sorts (partsRun): each value in its order, newest first within it.
      order = partsOrder(partDim, spec.desc, orderSql('submittedAt', spec.desc));
    }
    const rids = this.sqlite
      .prepare(`SELECT a.rowid FROM applications a WHERE ${where} ORDER BY ${order}`)
      .pluck()
      .all(params) as number[];
    // The rows as fetchRows reads them, with the provider's BIN and the responsible's name from maps
    // (a few thousand rows) rather than two joins per application.
    const bins = new Map(this.sqlite.prepare('SELECT id, bin FROM providers').raw().all() as [string, string][]);
    const names = new Map(this.sqlite.prepare('SELECT id, full_name FROM users').raw().all() as [string, string][]);
    const read = this.sqlite.prepare(
      `SELECT a.id, a.number, a.portal_number AS portalNumber, a.service_code AS serviceCode,
              a.applicant_iin AS applicantIin, a.applicant_name AS applicantName,
              a.submitted_at AS submittedAt, a.status, a.decision, a.responsible_user_id AS responsible,
              a.provider_id AS providerId, a.locality, a.due_at AS dueAt
         FROM json_each(@ids) j CROSS JOIN applications a ON a.rowid = j.value
        ORDER BY j.key`,
    );
    const now = this.now();
    const fetch = (from: number): JournalRow[] =>
      (
        read.all({ ids: JSON.stringify(rids.slice(from, from + chunk)) }) as (Omit<
          JournalRow,
          'serviceName' | 'daysWaiting' | 'responsibleName' | 'providerBin'
        > & { responsible: string | null; providerId: string })[]
      ).map(({ responsible, providerId, ...r }) => ({
        ...r,
        serviceName: this.serviceName(r.serviceCode),
        responsibleName: responsible === null ? null : (names.get(responsible) ?? null),
        providerBin: bins.get(providerId) ?? '',
        daysWaiting:
          this.daysWaiting && !(FINISHED_STATUSES as readonly string[]).includes(r.status)
            ? this.daysWaiting(r.submittedAt, now)
            : null,
      }));
    return {
      total: rids.length,
      chunks: (function* () {
        for (let i = 0; i < rids.length; i += chunk) yield fetch(i);
      })(),
    };
  }

  // ------------------------------------------------------------ rows ---

  private fetchRows(rids: number[]): JournalRow[] {
    if (rids.length === 0) return [];
    const rows = this.st(
      `SELECT a.id, a.number, a.portal_number AS portalNumber, a.service_code AS serviceCode,
                a.applicant_iin AS applicantIin, a.applicant_name AS applicantName,
                a.submitted_at AS submittedAt, a.status, a.decision, u.full_name AS responsibleName,
                p.bin AS providerBin, a.locality, a.due_at AS dueAt
           FROM json_each(@ids) j
           CROSS JOIN applications a ON a.rowid = j.value
           JOIN providers p ON p.id = a.provider_id
           LEFT JOIN users u ON u.id = a.responsible_user_id
          ORDER BY j.key`,
    ).all({ ids: JSON.stringify(rids) }) as Omit<JournalRow, 'serviceName' | 'daysWaiting'>[];
    const now = this.now();
    return rows.map((r) => ({
      ...r,
      serviceName: this.serviceName(r.serviceCode),
      daysWaiting:
        this.daysWaiting && !(FINISHED_STATUSES as readonly string[]).includes(r.status)
          ? this.daysWaiting(r.submittedAt, now)
          : null,
    }));
  }

  // ------------------------------------------------- count table, tags ---

  /** The count table: of every application, or of one provider's (migration 0006). */
  private countsTable(
    provider: string | null,
  ): { service_code: string; status: string; decision: string; n: number }[] {
    const rows =
      provider === null
        ? this.st('SELECT service_code, status, decision, n FROM journal_counts WHERE n > 0').all()
        : this.st(
            'SELECT service_code, status, decision, n FROM journal_provider_counts WHERE provider_id = ? AND n > 0',
          ).all(provider);
    return rows as { service_code: string; status: string; decision: string; n: number }[];
  }

  /** Providers with applications that meet these equal-to filters (the filter and deadline indexes lead with them). */
  private providersWith(eq: Spec['eq']): string[] {
    return this.st(
      `SELECT DISTINCT provider_id FROM journal_provider_counts
        WHERE n > 0 AND (@status IS NULL OR status = @status) AND (@decision IS NULL OR decision = @decision)
          AND (@service IS NULL OR service_code = @service)`,
    )
      .pluck()
      .all({ status: eq.status ?? null, decision: eq.decision ?? null, service: eq.serviceCode ?? null }) as string[];
  }

  /** Exact number of applications with these equal-to filters (within one provider's, when given), from the count tables. */
  private eqCount(eq: Spec['eq'], provider: string | null): number {
    let n = 0;
    for (const r of this.countsTable(provider)) {
      if (eq.status !== undefined && r.status !== eq.status) continue;
      if (eq.decision !== undefined && r.decision !== eq.decision) continue;
      if (eq.serviceCode !== undefined && r.service_code !== eq.serviceCode) continue;
      n += r.n;
    }
    return n;
  }

  /** The full-text token of each (dimension, value): U+4E00 + the tag's id, three times (migration 0003). */
  private tags(): Map<string, string> {
    const rows = this.st('SELECT id, dim, value FROM journal_tags').all() as {
      id: number;
      dim: string;
      value: string;
    }[];
    return new Map(rows.map((r) => [`${r.dim}\u0000${r.value}`, String.fromCodePoint(0x4e00 + r.id).repeat(3)]));
  }

  /**
   * Tokens of the name column that start with `prefix`, from the index's
   * vocabulary (which counts every token's rows as it goes: ~10 ms at a
   * million rows). Kept until the database changes: `data_version` moves when
   * another connection writes, `total_changes()` when this one does.
   */
  private tokensStartingWith = (prefix: string): string[] => {
    const version = `${this.sqlite.pragma('data_version', { simple: true }) as number}:${
      this.st('SELECT total_changes()').pluck().get() as number
    }`;
    if (version !== this.vocabularyVersion) {
      this.vocabulary.clear();
      this.vocabularyVersion = version;
    }
    let tokens = this.vocabulary.get(prefix);
    if (!tokens) {
      tokens = this.st("SELECT term FROM temp.applications_search_vocab WHERE col = 'name' AND term >= ? AND term < ?")
        .pluck()
        .all(prefix, prefixEnd(prefix)) as string[];
      this.vocabulary.set(prefix, tokens);
    }
    return tokens;
  };
  private readonly vocabulary = new Map<string, string[]>();
  private vocabularyVersion = '';

  // ------------------------------------------------------------ parts ---

  /**
   * Sorting by status, decision or service: the applications of each value in
   * turn (in the value's order), each part in the submitted order.
   */
  private partsRun(base: Spec, dim: Dim, offset: number, limit: number, totalCap: number): Run {
    const fixed = base.eq[dim];
    const column = dim === 'status' ? 'status' : dim === 'decision' ? 'decision' : 'service_code';
    let values = [...new Set(this.countsTable(base.provider).map((r) => r[column]))].sort(valueOrder(dim));
    if (fixed !== undefined) values = values.filter((v) => v === fixed);
    if (base.desc) values.reverse();
    this.onPlan?.({ way: 'parts', ways: values.map((v) => ({ label: v, n: 0, exact: false })) });

    const rids: number[] = [];
    let before = 0;
    const need = offset + limit;
    const enough = Math.max(totalCap, need);
    for (const [i, value] of values.entries()) {
      const part: Spec = { ...base, sort: 'submittedAt', eq: { ...base.eq, [dim]: value } };
      const wanted = rids.length < limit;
      const r = this.run(
        part,
        wanted ? Math.max(0, offset - before) : 0,
        wanted ? limit - rids.length : 0,
        Math.max(1, enough - before),
        false,
      );
      if (wanted) rids.push(...r.rids);
      before += r.total;
      if (r.capped) return { rids, total: before, capped: true };
      if (before >= enough && rids.length >= limit && i < values.length - 1) {
        // "More than the total" holds when a later part has a row; otherwise the total is exact.
        const more = values
          .slice(i + 1)
          .some(
            (v) => this.run({ ...base, sort: 'submittedAt', eq: { ...base.eq, [dim]: v } }, 0, 0, 1, false).total > 0,
          );
        return { rids, total: before, capped: more };
      }
    }
    return { rids, total: before, capped: false };
  }

  // ------------------------------------------------------- one query ---

  /** A page (`limit` 0: count only) and the total, counted up to `cap`. */
  private run(spec: Spec, offset: number, limit: number, cap: number, report: boolean): Run {
    const preds = activePreds(spec);
    const onlyEq = preds.every(isEq);
    if (onlyEq && limit === 0) return { rids: [], total: this.eqCount(spec.eq, spec.provider), capped: false };
    // The applications the page is drawn from (one provider's, when scoped), and their share of all.
    const universe = this.eqCount({}, spec.provider);
    const scopeShare = spec.provider === null ? 1 : universe / Math.max(1, this.eqCount({}, null));
    // A way's candidates within the scope: those of a way that does not keep to it spread over every provider.
    const inScope = (w: Way) => (w.enforced.has('scope') || spec.provider === null ? w.n : w.n * scopeShare);
    const ways = universe === 0 ? null : this.ways(spec);
    if (ways === null || ways.some((w) => w.exact && w.n === 0)) {
      if (report) this.onPlan?.({ way: 'none', ways: ways?.map(({ label, n, exact }) => ({ label, n, exact })) ?? [] });
      return { rids: [], total: 0, capped: false };
    }

    // Share of a way's candidates that meet every predicate, filters taken as independent.
    const share = (way: Way) =>
      Math.max(
        1e-9,
        ways.reduce(
          (d, w) => (w === way || isSubset(w.narrows, way.enforced) ? d : d * Math.min(1, inScope(w) / universe)),
          spec.provider !== null && !way.enforced.has('scope') ? scopeShare : 1,
        ),
      );
    const density = this.density(spec, ways, universe, inScope, scopeShare);
    for (const w of ways) {
      if (w.index) {
        Object.assign(
          w,
          this.indexCosts(
            w.index,
            spec,
            preds.filter((p) => !w.enforced.has(p)),
            density,
          ),
        );
      }
    }
    const walk = this.walkWay(spec, preds, ways, density);
    const countCost = (w: Way): number => {
      if (preds.every((p) => w.enforced.has(p))) return Math.min(w.n, cap) * w.bare;
      // Rowid order follows submission: a full-text way meets a date range in one stretch, not evenly.
      const early = !(w.label === 'fts' && !w.enforced.has('date') && preds.includes('date'));
      return (early ? Math.min(w.n, cap / share(w)) : w.n) * w.count;
    };
    const counter = onlyEq ? null : [walk, ...ways].reduce((a, b) => (countCost(b) < countCost(a) ? b : a));
    const walkCost =
      (limit > 0 ? Math.min(walk.n, (offset + limit) / share(walk)) * walk.collect : 0) +
      (counter ? countCost(counter) : 0);

    let best: Way = walk;
    let bestCost = walkCost;
    for (const w of ways) {
      if (!w.exact) continue;
      const residual = preds.some((p) => !w.enforced.has(p));
      const cost = (limit > 0 ? w.n * w.collect : 0) + w.n * (residual ? w.count : w.bare);
      if (cost < bestCost) {
        best = w;
        bestCost = cost;
      }
    }

    // Two ways that list their rowids from an index alone, each long, may meet in a short list.
    const listable = ways
      .filter((w) => (w.label === 'filter' || w.label === 'overdue' || w.label === 'search') && w.n <= INDEX_CAP)
      .sort((x, y) => x.n - y.n);
    if (listable.length >= 2) {
      const [x, y] = listable as [Way, Way];
      const meet = universe * Math.min(1, inScope(x) / universe) * Math.min(1, inScope(y) / universe) || 1;
      const cost = (x.n + y.n) * C_LIST + meet * (K_ROW + C_ROW);
      if (cost < bestCost) {
        const met = this.intersect(spec, x, y);
        if (met) best = met;
      }
    }
    if (report) this.onPlan?.({ way: best.label, ways: ways.map(({ label, n, exact }) => ({ label, n, exact })) });

    if (best !== walk && best.ids) {
      // Collect a short list of rowids: checked and sorted in one pass, paged here.
      const all = this.select(spec, preds, best, 0, -1);
      return { rids: limit > 0 ? all.slice(offset, offset + limit) : [], total: all.length, capped: false };
    }
    if (best !== walk) {
      // Collect: every candidate read, checked and sorted; the total is exact.
      const total = onlyEq ? this.eqCount(spec.eq, spec.provider) : this.count(spec, preds, best, null);
      const rids = limit > 0 && offset < total ? this.select(spec, preds, best, offset, limit) : [];
      return { rids, total, capped: false };
    }

    // Walk: the page in the index's order, then the total.
    const rids = limit > 0 ? this.select(spec, preds, walk, offset, limit) : [];
    if (limit > 0 && rids.length < limit && (rids.length > 0 || offset === 0)) {
      return { rids, total: offset + rids.length, capped: false };
    }
    if (counter === null) return { rids, total: this.eqCount(spec.eq, spec.provider), capped: false };
    const counted = this.count(spec, preds, counter, cap + 1);
    const capped = counted > cap;
    return { rids, total: Math.max(capped ? cap : counted, rids.length > 0 ? offset + rids.length : 0), capped };
  }

  /** Rows of a way that meet every predicate, in the sort's order. */
  private select(spec: Spec, preds: Pred[], way: Way, offset: number, limit: number): number[] {
    const { source, where, params } = this.where(spec, preds, way);
    return this.st(
      `SELECT a.rowid FROM ${source} WHERE ${where} ORDER BY ${orderSql(spec.sort, spec.desc)} LIMIT @limit OFFSET @offset`,
    )
      .pluck()
      .all({ ...params, limit, offset }) as number[];
  }

  /** Rows of a way that meet every predicate, counted up to `cap` (all when null). */
  private count(spec: Spec, preds: Pred[], way: Way, cap: number | null): number {
    const bare = preds.every((p) => way.enforced.has(p));
    if (bare && way.ids) return cap === null ? way.ids.length : Math.min(cap, way.ids.length);
    if (bare && way.label === 'search' && cap !== null) {
      const found = this.searchRanges(spec.search!, cap);
      return found.complete ? Math.min(cap, found.ids.length) : cap;
    }
    if (bare && way.label === 'fts') {
      const inner = 'SELECT rowid FROM applications_search WHERE applications_search MATCH @match';
      return this.st(cap === null ? `SELECT count(*) FROM (${inner})` : `SELECT count(*) FROM (${inner} LIMIT @cap)`)
        .pluck()
        .get(cap === null ? { match: way.params.match! } : { match: way.params.match!, cap }) as number;
    }
    const { source, where, params } = this.where(spec, preds, way);
    const inner = `SELECT 1 FROM ${source} WHERE ${where}`;
    return this.st(cap === null ? `SELECT count(*) FROM (${inner})` : `SELECT count(*) FROM (${inner} LIMIT @cap)`)
      .pluck()
      .get(cap === null ? params : { ...params, cap }) as number;
  }

  /** FROM and WHERE of a way: its own terms and every predicate it does not guarantee. */
  private where(spec: Spec, preds: Pred[], way: Way): { source: string; where: string; params: Params } {
    // Candidates read already: by rowid from their list.
    const source = way.ids ? 'json_each(@ids) c CROSS JOIN applications a ON a.rowid = c.value' : way.source;
    const terms = way.ids ? [] : [...way.terms];
    const params: Params = way.ids ? { ids: JSON.stringify(way.ids) } : { ...way.params };
    // Through a chosen index, the rest are checks, not constraints ("+"): an equal-to term on a later
    // column of the walked index would otherwise make SQLite sort the page instead of reading it in order.
    const a = way.source.includes('INDEXED BY') ? '+a' : 'a';
    for (const p of preds) {
      if (way.enforced.has(p)) continue;
      switch (p) {
        case 'status':
        case 'decision':
        case 'serviceCode':
          terms.push(`${a}.${DIM_COLUMN[p]} = @eq_${p}`);
          params[`eq_${p}`] = spec.eq[p]!;
          break;
        case 'date':
          terms.push(...this.dateTerms(spec, params, a));
          break;
        case 'overdue':
          terms.push(`${a}.status NOT IN ${FINISHED_SQL}`, `${a}.due_at < @now`);
          params.now = this.now();
          break;
        case 'scope':
          terms.push(`${a}.provider_id = @provider`);
          params.provider = spec.provider!;
          break;
        case 'search': {
          const c = searchCondition(spec.search!);
          terms.push(c.sql);
          Object.assign(params, c.params);
          break;
        }
      }
    }
    return { source, where: terms.length > 0 ? terms.join(' AND ') : '1 = 1', params };
  }

  private dateTerms(spec: Spec, params: Params, a = 'a'): string[] {
    const terms: string[] = [];
    if (spec.from !== null) {
      terms.push(`${a}.submitted_at >= @dateFrom`);
      params.dateFrom = spec.from;
    }
    if (spec.to !== null) {
      terms.push(`${a}.submitted_at < @dateTo`);
      params.dateTo = spec.to;
    }
    return terms;
  }

  // ------------------------------------------------------------- ways ---

  /** Whether an index holds every column these predicates (and the sort key, when asked) read. */
  private covers(index: string, spec: Spec, residual: Pred[], sortKey: boolean): boolean {
    const columns = INDEX_COLUMNS[index]!;
    const needed = residual.flatMap((p) => predColumns(spec, p));
    if (sortKey) needed.push(...ORDER_COLUMNS[spec.sort].filter((c) => c !== 'a.rowid').map((c) => c.slice(2)));
    return needed.every((c) => columns.has(c));
  }

  /**
   * Cost of stepping over one entry of an index with these predicates left to
   * check: those the index holds are checked first, and only the entries that
   * pass them cost a read of the table row for the others.
   */
  private stepCost(index: string, spec: Spec, residual: Pred[], density: (p: Pred) => number): number {
    const { inIndex, passing } = this.inIndexShare(index, spec, residual, density);
    const step = inIndex.includes('search') ? W_STEP_NAME : W_STEP;
    return inIndex.length === residual.length ? step : step + C_LOOKUP * passing;
  }

  /** The predicates an index can check itself, and the share of its entries that pass them. */
  private inIndexShare(index: string, spec: Spec, residual: Pred[], density: (p: Pred) => number) {
    const columns = INDEX_COLUMNS[index]!;
    const inIndex = residual.filter((p) => predColumns(spec, p).every((c) => columns.has(c)));
    return { inIndex, passing: inIndex.reduce((d, p) => d * density(p), 1) };
  }

  /** The ways in that find candidates (all but the walk), each with its candidates counted; null when nothing can match. */
  private ways(spec: Spec): Way[] | null {
    const ways: Way[] = [];
    const eqDims = (['status', 'decision', 'serviceCode'] as const).filter((d) => spec.eq[d] !== undefined);
    const counts = this.countsTable(spec.provider);
    // The filter and deadline indexes lead with the provider: the scope's, or every provider's with these filters.
    const providerTerm = (params: Params, enforced: Set<Pred>): string | null => {
      if (spec.provider !== null) {
        params.provider = spec.provider;
        enforced.add('scope');
        return 'a.provider_id = @provider';
      }
      const providers = this.providersWith(spec.eq);
      if (providers.length === 0) return null;
      providers.forEach((v, i) => (params[`p_${i}`] = v));
      return `a.provider_id IN (${providers.map((_, i) => `@p_${i}`).join(', ')})`;
    };

    // Full text: the name words, and the equal-to filters as tags.
    const words = spec.search?.kind === 'name' ? spec.search.words : null;
    if (words) {
      const tags = this.tags();
      const parts: string[] = [];
      for (const d of eqDims) {
        const tag = tags.get(`${DIM_TAG[d].dim}\u0000${spec.eq[d]}`);
        if (tag === undefined) return null; // no application has ever had this value
        parts.push(`${DIM_TAG[d].column} : ${ftsPhrase(tag)}`);
      }
      const m = nameMatch(words, this.tokensStartingWith, this.rarity);
      if (m === null) return null;
      parts.push(m.match);
      const match = parts.join(' AND ');
      const enforced = new Set<Pred>(eqDims);
      if (m.exact) enforced.add('search');
      const ids = this.st('SELECT rowid FROM applications_search WHERE applications_search MATCH @match LIMIT @cap')
        .pluck()
        .all({ match, cap: ROW_CAP + 1 }) as number[];
      ways.push({
        label: 'fts',
        // Streamed out of the full-text index, each row read by rowid (an IN list would be built in full first).
        source: 'applications_search s CROSS JOIN applications a ON a.rowid = s.rowid',
        terms: ['s.applications_search MATCH @match'],
        params: { match },
        enforced,
        narrows: new Set<Pred>([...eqDims, 'search']),
        ...this.sized(ids),
        collect: K_ROW,
        count: C_ROW,
        bare: C_FTS,
      });
    }

    // Digits and numbers: ranges of the IIN, BIN, portal and number indexes.
    if (spec.search && spec.search.kind !== 'name') {
      const found = this.searchRanges(spec.search, ROW_CAP);
      ways.push({
        label: 'search',
        source: 'applications a NOT INDEXED',
        terms: [],
        params: {},
        enforced: new Set<Pred>(['search']),
        narrows: new Set<Pred>(['search']),
        // All the ranges read to the end: the candidates themselves. Otherwise their sizes, counted up to a cap.
        ...(found.complete ? { n: found.ids.length, exact: true, ids: found.ids } : { n: found.n, exact: false }),
        collect: K_ROW,
        count: found.complete ? C_ROW : Infinity,
        // Counting it alone reads each range up to the cap.
        bare: C_BARE,
      });
    }

    // Equal-to filters and dates: seeks into the filter index, the other dimensions as IN lists;
    // dates alone: the range of the submitted index.
    if (eqDims.length > 0 || spec.from !== null || spec.to !== null) {
      const params: Params = {};
      const terms: string[] = [];
      const enforced = new Set<Pred>(eqDims);
      const index =
        eqDims.length > 0
          ? JOURNAL_INDEXES.filter
          : spec.provider === null
            ? JOURNAL_INDEXES.submitted
            : SCOPE_INDEXES.submitted;
      if (eqDims.length > 0 || spec.provider !== null) {
        const term = providerTerm(params, enforced);
        if (term === null) return null;
        terms.push(term);
      }
      if (eqDims.length > 0) {
        for (const d of ['status', 'decision', 'serviceCode'] as const) {
          const values =
            spec.eq[d] !== undefined
              ? [spec.eq[d]]
              : [
                  ...new Set(
                    counts
                      .filter(
                        (r) =>
                          (spec.eq.status === undefined || r.status === spec.eq.status) &&
                          (spec.eq.decision === undefined || r.decision === spec.eq.decision) &&
                          (spec.eq.serviceCode === undefined || r.service_code === spec.eq.serviceCode),
                      )
                      .map((r) => (d === 'status' ? r.status : d === 'decision' ? r.decision : r.service_code)),
                  ),
                ];
          if (values.length === 0) return null;
          terms.push(`a.${DIM_COLUMN[d]} IN (${values.map((_, i) => `@f_${d}_${i}`).join(', ')})`);
          values.forEach((v, i) => (params[`f_${d}_${i}`] = v));
        }
      }
      terms.push(...this.dateTerms(spec, params));
      const source = `applications a INDEXED BY ${index}`;
      if (spec.from !== null || spec.to !== null) enforced.add('date');
      const size =
        spec.from === null && spec.to === null
          ? { n: this.eqCount(spec.eq, spec.provider), exact: true }
          : this.sizeRange(source, terms, params, () => this.dateShare(spec) * this.eqCount(spec.eq, spec.provider));
      ways.push({
        label: 'filter',
        source,
        terms,
        params,
        enforced,
        narrows: enforced,
        ...size,
        index,
        collect: K_INDEX,
        count: W_STEP,
        bare: C_BARE,
      });
    }

    // Overdue: the open applications by deadline.
    if (spec.overdue) {
      const source = `applications a INDEXED BY ${JOURNAL_INDEXES.due}`;
      const params: Params = { now: this.now() };
      const enforced = new Set<Pred>(['overdue']);
      const term = providerTerm(params, enforced);
      if (term === null) return null;
      const terms = [term, `a.status NOT IN ${FINISHED_SQL}`, 'a.due_at < @now'];
      ways.push({
        label: 'overdue',
        source,
        terms,
        params,
        enforced,
        narrows: enforced,
        ...this.sizeRange(source, terms, params, () => INDEX_CAP + 1),
        index: JOURNAL_INDEXES.due,
        collect: K_INDEX,
        count: W_STEP,
        bare: C_BARE,
      });
    }
    return ways;
  }

  /**
   * The rowids two ways share, each listed from its index alone (up to
   * INDEX_CAP; null when one is longer): a way of its own that guarantees
   * what both do.
   */
  private intersect(spec: Spec, x: Way, y: Way): Way | null {
    const list = (w: Way): number[] | null => {
      if (w.ids) return w.ids;
      if (w.label === 'search') {
        const found = this.searchRanges(spec.search!, INDEX_CAP);
        return found.complete ? found.ids : null;
      }
      const rows = this.st(`SELECT a.rowid FROM ${w.source} WHERE ${w.terms.join(' AND ')} LIMIT @cap`)
        .pluck()
        .all({ ...w.params, cap: INDEX_CAP + 1 }) as number[];
      return rows.length > INDEX_CAP ? null : rows;
    };
    const a = list(x);
    const b = a && list(y);
    if (!a || !b) return null;
    const first = new Set(a);
    const ids = b.filter((id) => first.has(id));
    return {
      label: 'intersect',
      source: 'applications a NOT INDEXED',
      terms: [],
      params: {},
      enforced: new Set([...x.enforced, ...y.enforced]),
      narrows: new Set([...x.narrows, ...y.narrows]),
      n: ids.length,
      exact: true,
      ids,
      collect: K_ROW,
      count: C_ROW,
      bare: 0,
    };
  }

  /**
   * Rowids of a digit or number search: each index range read up to `cap`
   * rows (a UNION would be built in full before its first row), the same row
   * found twice kept once. `complete` when every range ended before its cap.
   */
  private searchRanges(search: SearchSpec, cap: number): { ids: number[]; complete: boolean; n: number } {
    const lo = search.kind === 'digits' ? search.digits : search.kind === 'number' ? search.prefix : '';
    const ranges: [string, string][] =
      search.kind === 'digits'
        ? [
            ['applicant_iin', 'applications_iin_idx'],
            ['applicant_bin', 'applications_bin_idx'],
            ['portal_number', 'applications_portal_idx'],
            ['number', JOURNAL_INDEXES.number],
          ]
        : [['number', JOURNAL_INDEXES.number]];
    const ids = new Set<number>();
    let complete = true;
    let n = 0;
    for (const [column, index] of ranges) {
      const where = `${column} >= @lo AND ${column} < @hi`;
      const params = { lo, hi: prefixEnd(lo) };
      const rows = this.st(`SELECT rowid FROM applications INDEXED BY ${index} WHERE ${where} LIMIT @cap`)
        .pluck()
        .all({ ...params, cap: cap + 1 }) as number[];
      for (const id of rows) ids.add(id);
      if (rows.length <= cap) continue;
      // A long range: its size, counted in the index up to INDEX_CAP, to size the search.
      complete = false;
      n += this.st(`SELECT count(*) FROM (SELECT 1 FROM applications INDEXED BY ${index} WHERE ${where} LIMIT @cap)`)
        .pluck()
        .get({ ...params, cap: INDEX_CAP }) as number;
    }
    return { ids: [...ids], complete, n: complete ? ids.size : Math.max(n, ids.size) };
  }

  /**
   * Candidates read up to ROW_CAP + 1: all of them, or too many; then an
   * estimate from how far into the rowids the last one lies.
   */
  private sized(ids: number[]): { n: number; exact: boolean; ids?: number[] } {
    if (ids.length <= ROW_CAP) return { n: ids.length, exact: true, ids };
    const last = Math.max(...ids);
    const top = this.st('SELECT max(rowid) FROM applications').pluck().get() as number;
    return { n: Math.max(ids.length, (ids.length * top) / Math.max(1, last)), exact: false };
  }

  /**
   * How common a trigram of names is, cheaply: the share of rowids up to its
   * 64th row (rows are spread evenly over rowids whatever their names).
   */
  private rarity = (token: string): number => {
    const rowids = this.st('SELECT rowid FROM applications_search WHERE applications_search MATCH @match LIMIT 64')
      .pluck()
      .all({ match: `name : ${ftsPhrase(token)}` }) as number[];
    const last = rowids.at(-1);
    return rowids.length < 64 || last === undefined ? rowids.length * 1e-9 : 64 / last;
  };

  /** Entries of an index range, counted up to INDEX_CAP; above it, `estimate()`. */
  private sizeRange(source: string, terms: string[], params: Params, estimate: () => number) {
    const n = this.st(`SELECT count(*) FROM (SELECT 1 FROM ${source} WHERE ${terms.join(' AND ')} LIMIT @cap)`)
      .pluck()
      .get({ ...params, cap: INDEX_CAP + 1 }) as number;
    return n <= INDEX_CAP ? { n, exact: true } : { n: Math.max(n, estimate()), exact: false };
  }

  private indexCosts(index: string, spec: Spec, residual: Pred[], density: (p: Pred) => number) {
    const step = this.stepCost(index, spec, residual, density);
    // Entries that pass what the index checks are read from the table when it must check more, or sort by what it lacks.
    const { passing } = this.inIndexShare(index, spec, residual, density);
    const sorted = this.covers(index, spec, residual, true) ? K_INDEX : K_ROW * passing;
    return { collect: step + sorted, count: step };
  }

  /** Share of the applications a predicate lets through, from the ways' counts (or a guess). */
  private density(
    spec: Spec,
    ways: Way[],
    universe: number,
    inScope: (w: Way) => number,
    scopeShare: number,
  ): (p: Pred) => number {
    return (p: Pred) => {
      switch (p) {
        case 'scope':
          return scopeShare;
        case 'status':
        case 'decision':
        case 'serviceCode':
          return this.eqCount({ [p]: spec.eq[p] }, spec.provider) / universe;
        case 'date':
          return this.dateShare(spec);
        case 'overdue': {
          const w = ways.find((x) => x.label === 'overdue');
          return w ? Math.min(1, inScope(w) / universe) : 0.05;
        }
        case 'search': {
          const w = ways.find((x) => x.label === 'fts' || x.label === 'search');
          return w ? Math.min(1, inScope(w) / universe) : 0.05;
        }
      }
    };
  }

  /** Share of the applications submitted in the date range, taking them as spread evenly. */
  private dateShare(spec: Spec): number {
    // Two statements: SQLite answers a lone min() or max() from the index, not both at once.
    const r = {
      lo: this.st('SELECT min(submitted_at) FROM applications').pluck().get() as number | null,
      hi: this.st('SELECT max(submitted_at) FROM applications').pluck().get() as number | null,
    };
    if (r.lo === null || r.hi === null) return 0;
    const from = Math.max(spec.from ?? r.lo, r.lo);
    const to = Math.min(spec.to ?? r.hi + 1, r.hi + 1);
    return Math.max(0, Math.min(1, (to - from) / (r.hi + 1 - r.lo)));
  }

  /** The walk: the sort's index in order, a range on its first column when a filter gives one. */
  private walkWay(spec: Spec, preds: Pred[], ways: Way[], density: (p: Pred) => number): Way {
    const index = (spec.provider === null ? WALK_INDEX : SCOPE_WALK_INDEX)[spec.sort];
    const terms: string[] = [];
    const params: Params = {};
    const enforced = new Set<Pred>();
    if (spec.provider !== null) {
      // The provider's part of its walk index.
      terms.push('a.provider_id = @provider');
      params.provider = spec.provider;
      enforced.add('scope');
    }
    let n = Infinity;
    let exact = false;
    if (spec.sort === 'submittedAt' && (spec.from !== null || spec.to !== null)) {
      terms.push(...this.dateTerms(spec, params));
      enforced.add('date');
      // The walk's range holds every row of those dates: the filter way's count without equal-to filters.
      const filter = ways.find((w) => w.label === 'filter');
      if (filter && Object.keys(spec.eq).length === 0) {
        n = filter.n;
        exact = filter.exact;
      } else {
        n = this.dateShare(spec) * this.eqCount({}, spec.provider);
      }
    }
    if (spec.sort === 'number' && spec.search?.kind === 'number') {
      terms.push('a.number >= @searchLo AND a.number < @searchHi');
      params.searchLo = spec.search.prefix;
      params.searchHi = prefixEnd(spec.search.prefix);
      enforced.add('search');
    }
    const step = this.stepCost(
      index,
      spec,
      preds.filter((p) => !enforced.has(p)),
      density,
    );
    return {
      label: 'walk',
      source: `applications a INDEXED BY ${index}`,
      terms,
      params,
      enforced,
      narrows: enforced,
      n,
      exact,
      collect: step,
      count: step,
      bare: C_BARE,
    };
  }

  // ----------------------------------------------------------- scoped ---

  /**
   * A page within a scope (the user's providers or regions). When the whole
   * journal holds few matches (a search, a narrow filter: up to
   * SCOPE_COLLECT), the planner lists them all in the page's order and the
   * scope keeps its own, in that order; the total is exact. Otherwise one
   * statement with the scope as a condition, SQLite walking the provider's
   * indexes, its count capped like the planner's.
   */
  private scopedRun(
    spec: Spec,
    partDim: Dim | null,
    offset: number,
    limit: number,
    scope: { sql: string; params: Record<string, string> },
    cap: number,
  ): Run {
    if (this.indexed && activePreds(spec).length > 0) {
      const all = (lim: number) =>
        partDim ? this.partsRun(spec, partDim, 0, lim, SCOPE_COLLECT) : this.run(spec, 0, lim, SCOPE_COLLECT, false);
      const counted = all(0);
      if (!counted.capped && counted.total <= SCOPE_COLLECT) {
        const listed = counted.total === 0 ? counted : all(SCOPE_COLLECT);
        if (!listed.capped && listed.rids.length === listed.total) {
          const kept = this.st(
            `SELECT j.value FROM json_each(@ids) j CROSS JOIN applications a ON a.rowid = j.value
              WHERE ${scope.sql} ORDER BY j.key`,
          )
            .pluck()
            .all({ ids: JSON.stringify(listed.rids), ...scope.params }) as number[];
          return { rids: kept.slice(offset, offset + limit), total: kept.length, capped: false };
        }
      }
    }
    return this.plainRun(spec, partDim, offset, limit, scope, cap);
  }

  // ------------------------------------------------------------ plain ---

  /** Without migration 0003's indexes: one statement for the page, one for an exact count. */
  private plainRun(
    spec: Spec,
    partDim: Dim | null,
    offset: number,
    limit: number,
    scope?: { sql: string; params: Record<string, string> },
    /** Count up to this many (the scoped journal, like the planner's); exact when absent. */
    cap?: number,
  ): Run {
    this.onPlan?.({ way: 'plain', ways: [] });
    const preds = activePreds(spec);
    const table: Way = {
      label: 'walk',
      source: 'applications a',
      terms: [],
      params: {},
      enforced: new Set(),
      narrows: new Set(),
      n: Infinity,
      exact: false,
      collect: 0,
      count: 0,
      bare: 0,
    };
    const plain = this.where(spec, preds, table);
    const where = scope ? `(${plain.where}) AND ${scope.sql}` : plain.where;
    const params = scope ? { ...plain.params, ...scope.params } : plain.params;
    let order = orderSql(spec.sort, spec.desc);
    if (partDim) order = partsOrder(partDim, spec.desc, order);
    const rids = this.st(
      `SELECT a.rowid FROM applications a WHERE ${where} ORDER BY ${order} LIMIT @limit OFFSET @offset`,
    )
      .pluck()
      .all({ ...params, limit, offset }) as number[];
    if (cap === undefined) {
      const total = this.st(`SELECT count(*) FROM applications a WHERE ${where}`).pluck().get(params) as number;
      return { rids, total, capped: false };
    }
    // A capped count stops early: a provider's whole journal need not be counted for its first page.
    const counted = this.st(`SELECT count(*) FROM (SELECT 1 FROM applications a WHERE ${where} LIMIT @countTo)`)
      .pluck()
      .get({ ...params, countTo: cap + 1 }) as number;
    const capped = counted > cap;
    return { rids, total: Math.max(capped ? cap : counted, rids.length > 0 ? offset + rids.length : 0), capped };
  }
}
