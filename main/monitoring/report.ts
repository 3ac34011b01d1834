/**
 * The monitoring report over the local database: the applications this
 * workstation holds (its provider's share, as sync brings it), within the
 * caller's scope (main/auth/permissions.ts). One grouped statement for the
 * columns (over migration 0008's daily counts when present, else over the
 * applications) and one for the overdue steps; core/monitoring/report.ts
 * turns the groups into rows by its column table.
 */
import type Database from 'better-sqlite3';
import { FINISHED_STATUSES } from '#core/vocabulary.js';
import {
  buildReport,
  periodBounds,
  type CountCell,
  type MonitoringQuery,
  type MonitoringReport,
} from '#core/monitoring/report.js';
import type { RegionEntry } from '#core/monitoring/regions.js';
import { scopeSql, type DataScope } from '../auth/permissions.js';

const FINISHED_SQL = `(${FINISHED_STATUSES.map((s) => `'${s}'`).join(', ')})`;

export interface MonitoringOptions {
  /** The classifier's regions (core/node/region-loader.ts). */
  regions: readonly RegionEntry[];
  /** The calendar's UTC offset: the period's days are its days. */
  utcOffsetMinutes: number;
  /** The clock of "overdue". */
  now: () => number;
  /** Ignore migration 0008's count table and index: read the applications (tests, the benchmark's baseline). */
  plain?: boolean;
}

/** The days of monitoring_counts (migration 0008): of UTC+5. */
const COUNTS_OFFSET_MINUTES = 300;
const DUE_INDEX = 'applications_monitoring_due_idx';
const DAY_MS = 24 * 3600 * 1000;
const dayOf = (ms: number) => Math.floor((ms + COUNTS_OFFSET_MINUTES * 60_000) / DAY_MS);

export class LocalMonitoring {
  private readonly statements = new Map<string, Database.Statement>();
  private hasCounts: boolean | undefined;

  constructor(
    private readonly sqlite: Database.Database,
    private readonly options: MonitoringOptions,
  ) {}

  private st(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size >= 100) this.statements.clear();
      this.statements.set(sql, (s = this.sqlite.prepare(sql)));
    }
    return s;
  }

  /** Whether migration 0008's count table and index are there (and the calendar's days are theirs, UTC+5). */
  private counted(): boolean {
    if (this.options.plain === true || this.options.utcOffsetMinutes !== COUNTS_OFFSET_MINUTES) return false;
    this.hasCounts ??=
      (this.sqlite
        .prepare("SELECT count(*) FROM sqlite_master WHERE name IN ('monitoring_counts', ?)")
        .pluck()
        .get(DUE_INDEX) as number) === 2;
    return this.hasCounts;
  }

  /** The report for `query` within `scope`. */
  report(query: MonitoringQuery, scope: DataScope): MonitoringReport {
    const { fromMs, toMs } = periodBounds(query.from, query.to, this.options.utcOffsetMinutes);
    const counted = this.counted();
    const service = query.serviceCode !== undefined ? ' AND a.service_code = @service' : '';
    const within = scopeSql(scope, 'a');
    const params: Record<string, string | number> = {
      fromMs,
      toMs,
      ...within.params,
      ...(query.serviceCode !== undefined ? { service: query.serviceCode } : {}),
    };
    // The period is whole days of UTC+5, so the count table's days cover it exactly.
    const cells = (
      counted
        ? this.st(
            `SELECT a.region_kato AS regionKato, a.status, a.decision, sum(a.n) AS n
               FROM monitoring_counts a
              WHERE a.day >= @fromDay AND a.day < @toDay AND ${within.sql}${service}
              GROUP BY a.region_kato, a.status, a.decision`,
          ).all({ ...params, fromDay: dayOf(fromMs), toDay: dayOf(toMs) })
        : this.st(
            `SELECT a.region_kato AS regionKato, a.status, a.decision, count(*) AS n
               FROM applications a
              WHERE a.submitted_at >= @fromMs AND a.submitted_at < @toMs AND ${within.sql}${service}
              GROUP BY a.region_kato, a.status, a.decision`,
          ).all(params)
    ) as CountCell[];
    // Overdue as the journal's filter has it: not finished, past the current step's deadline. SQLite would
    // walk the submission index over the whole period; the partial index holds only open applications.
    const overdue = this.st(
      `SELECT a.service_code AS serviceCode, coalesce(a.current_step, '') AS step, count(*) AS n
         FROM applications a${counted ? ` INDEXED BY ${DUE_INDEX}` : ''}
        WHERE a.status NOT IN ${FINISHED_SQL} AND a.due_at < @now
          AND a.submitted_at >= @fromMs AND a.submitted_at < @toMs AND ${within.sql}${service}
        GROUP BY a.service_code, a.current_step`,
    ).all({ ...params, now: this.options.now() }) as { serviceCode: string; step: string; n: number }[];
    return buildReport({
      query,
      cells,
      overdue,
      regions: this.options.regions,
      everyRegion: scope.all,
      source: 'local',
      reach: scope.all ? 'country' : scope.regionKatos.length > 0 ? 'region' : 'provider',
      dataAt: this.lastSync(),
    });
  }

  /** When this workstation last brought data from the server (null: never, e.g. a demo database). */
  private lastSync(): number | null {
    const at = this.st('SELECT max(last_pull_at) FROM sync_state').pluck().get() as number | null;
    return at ?? null;
  }
}
