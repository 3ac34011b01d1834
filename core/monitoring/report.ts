/**
 * The monitoring report (seed 002 §5.6): for a period and optionally one
 * service, a row per region (KATO) with the applications received in the
 * period counted by where they stand now, a totals row, and the open
 * applications past their step's deadline, per step.
 *
 * Built here from grouped counts so that the workstation (its local share,
 * main/monitoring/report.ts) and the central server (country-wide,
 * server/src/routes/monitoring.ts) give the same figures for the same rows.
 * Plain data and zod schemas: the renderer and the contract load it too.
 */
import { z } from 'zod';
import type { Decision, Status } from '../vocabulary.js';

/** The report's columns, in the seed's order ("Всего по региону" is their sum). */
export const MONITORING_COLUMNS = [
  'received',
  'inProcessing',
  'onSigning',
  'positive',
  'negative',
  'transferred',
] as const;
export type MonitoringColumn = (typeof MONITORING_COLUMNS)[number];

/**
 * Which application counts in which column: its current status, and for a
 * finished one its decision. The one table every count and every journal
 * link follows. The seed's columns partition the applications received in
 * the period (its totals are the sums of the columns):
 *  - Received (Поступило): not yet taken into work;
 *  - In processing, On signing: the executor's and the head's stages;
 *  - Positive / Negative: completed with that decision; an application an
 *    external system completed with an error ended without the service
 *    rendered, so it counts as Negative;
 *  - Transferred (Передано в ИС ОО): handed to another information system.
 * `decision: null` matches any decision. A completed application with no
 * decision (the workflow never leaves one) is in no column and not counted.
 */
export const COLUMN_RULES: readonly { column: MonitoringColumn; status: Status; decision: Decision | null }[] = [
  { column: 'received', status: 'received', decision: null },
  { column: 'inProcessing', status: 'in_processing', decision: null },
  { column: 'onSigning', status: 'on_signing', decision: null },
  { column: 'positive', status: 'completed', decision: 'positive' },
  { column: 'negative', status: 'completed', decision: 'negative' },
  { column: 'negative', status: 'completed_with_error', decision: null },
  { column: 'transferred', status: 'external_processing', decision: null },
];

/** The column an application in `status` with `decision` counts in, or null. */
export function columnOf(status: string, decision: string): MonitoringColumn | null {
  for (const r of COLUMN_RULES) {
    if (r.status === status && (r.decision === null || r.decision === decision)) return r.column;
  }
  return null;
}

/** The (status, decision) pairs of a column, for a query's condition (the journal's link to a figure). */
export function columnRules(column: MonitoringColumn): { status: Status; decision: Decision | null }[] {
  return COLUMN_RULES.filter((r) => r.column === column).map(({ status, decision }) => ({ status, decision }));
}

/** An SQL condition selecting the applications of `column` (alias `a`; statuses and decisions are fixed words). */
export function columnSql(column: MonitoringColumn, alias = 'a'): string {
  const parts = columnRules(column).map((r) =>
    r.decision === null
      ? `${alias}.status = '${r.status}'`
      : `(${alias}.status = '${r.status}' AND ${alias}.decision = '${r.decision}')`,
  );
  return `(${parts.join(' OR ')})`;
}

// ------------------------------------------------------------ period ---

const DAY_MS = 24 * 3600 * 1000;

/**
 * The period's bounds: applications submitted from the start of day `from`
 * (inclusive) to the end of day `to` (inclusive: the start of the next day,
 * exclusive), days of the calendar's zone (UTC offset in minutes; Kazakhstan
 * UTC+5), so the workstation and the server draw the same line.
 */
export function periodBounds(from: string, to: string, utcOffsetMinutes: number): { fromMs: number; toMs: number } {
  const start = (date: string) => {
    const [y, m, d] = date.split('-').map(Number) as [number, number, number];
    return Date.UTC(y, m - 1, d) - utcOffsetMinutes * 60_000;
  };
  return { fromMs: start(from), toMs: start(to) + DAY_MS };
}

// ------------------------------------------------------------ shapes ---

const count = z.int().min(0);
const counts = z.strictObject(
  Object.fromEntries(MONITORING_COLUMNS.map((c) => [c, count])) as Record<MonitoringColumn, typeof count>,
);
export type MonitoringCounts = z.infer<typeof counts>;

export const monitoringQuery = z
  .strictObject({
    /** The period, YYYY-MM-DD, both days included. */
    from: z.iso.date(),
    to: z.iso.date(),
    /** One service, or every service. */
    serviceCode: z.string().max(64).optional(),
  })
  .refine((q) => q.from <= q.to, { message: 'from must not be after to', path: ['to'] });
export type MonitoringQuery = z.infer<typeof monitoringQuery>;

export const monitoringRow = z.strictObject({
  kato: z.string(),
  /** The classifier's names; null for a code not in it (shown as the code). */
  name: z.strictObject({ kk: z.string(), ru: z.string(), en: z.string() }).nullable(),
  counts,
  total: count,
});
export type MonitoringRow = z.infer<typeof monitoringRow>;

export const monitoringReport = z.strictObject({
  from: z.iso.date(),
  to: z.iso.date(),
  serviceCode: z.string().nullable(),
  /** One row per region, in KATO order; codes outside the classifier last. */
  rows: z.array(monitoringRow),
  totals: z.strictObject({ counts, total: count }),
  /** Open applications of the report past their step's deadline, per service and step (most first). */
  overdue: z.array(z.strictObject({ serviceCode: z.string(), step: z.string(), count })),
  /** Where the figures come from, and whose they are. */
  source: z.enum(['local', 'server']),
  reach: z.enum(['provider', 'region', 'country']),
  /** When the data was current: the last sync (local), the server's time (server); null before any sync. */
  dataAt: z.number().nullable(),
});
export type MonitoringReport = z.infer<typeof monitoringReport>;

/** One group of the grouped query: applications of a region with a status and decision. */
export interface CountCell {
  regionKato: string;
  status: string;
  decision: string;
  n: number;
}

const zero = (): MonitoringCounts => Object.fromEntries(MONITORING_COLUMNS.map((c) => [c, 0])) as MonitoringCounts;
const sum = (c: MonitoringCounts) => MONITORING_COLUMNS.reduce((s, k) => s + c[k], 0);

/**
 * The report from the grouped counts. `regions` is the classifier; with
 * `everyRegion` each of its regions gets a row (zeros included: the
 * country-wide view), otherwise only regions with applications.
 */
export function buildReport(input: {
  query: MonitoringQuery;
  cells: readonly CountCell[];
  overdue: readonly { serviceCode: string; step: string; n: number }[];
  regions: readonly { kato: string; nameKk: string; nameRu: string; nameEn: string }[];
  everyRegion: boolean;
  source: MonitoringReport['source'];
  reach: MonitoringReport['reach'];
  dataAt: number | null;
}): MonitoringReport {
  const byKato = new Map<string, MonitoringCounts>();
  if (input.everyRegion) for (const r of input.regions) byKato.set(r.kato, zero());
  for (const cell of input.cells) {
    const column = columnOf(cell.status, cell.decision);
    if (column === null) continue;
    let c = byKato.get(cell.regionKato);
    if (!c) byKato.set(cell.regionKato, (c = zero()));
    c[column] += cell.n;
  }
  const names = new Map(input.regions.map((r) => [r.kato, { kk: r.nameKk, ru: r.nameRu, en: r.nameEn }]));
  const order = new Map(input.regions.map((r, i) => [r.kato, i]));
  const rank = (kato: string) => order.get(kato) ?? input.regions.length;
  const rows = [...byKato.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([kato, c]) => ({ kato, name: names.get(kato) ?? null, counts: c, total: sum(c) }));
  const totals = zero();
  for (const r of rows) for (const k of MONITORING_COLUMNS) totals[k] += r.counts[k];
  const overdue = input.overdue
    .filter((o) => o.n > 0)
    .map((o) => ({ serviceCode: o.serviceCode, step: o.step, count: o.n }))
    .sort((a, b) => b.count - a.count || a.serviceCode.localeCompare(b.serviceCode) || a.step.localeCompare(b.step));
  return {
    from: input.query.from,
    to: input.query.to,
    serviceCode: input.query.serviceCode ?? null,
    rows,
    totals: { counts: totals, total: sum(totals) },
    overdue,
    source: input.source,
    reach: input.reach,
    dataAt: input.dataAt,
  };
}
