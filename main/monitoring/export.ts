/**
 * The monitoring report as an Excel sheet (seed 002 §5.6 "Export"), written
 * by `writeSheet` (main/export/xlsx.ts): the period, service, date of the
 * data and export time above; a row per region (its name, KATO code, the six
 * columns and the total, as numbers) and the totals row. The words come
 * from the renderer's catalogues (`labels`), as the journal export's do.
 */
import { MONITORING_COLUMNS, type MonitoringColumn, type MonitoringReport } from '#core/monitoring/report.js';
import { writeSheet, type XlsxOptions, type XlsxResult, type XlsxSheet } from '../export/xlsx.js';

export interface MonitoringLabels {
  sheet: string;
  number: string;
  region: string;
  kato: string;
  columns: Record<MonitoringColumn, string>;
  total: string;
  totalRow: string;
  meta: { period: string; service: string; dataAt: string; exportedAt: string };
  /** The service as the screen names it ('All services' when none). */
  service: string;
  /** How a region outside the classifier is named ({code} filled). */
  unknownRegion: string;
}

const dmy = (iso: string) => iso.split('-').reverse().join('.');

/** The sheet for `report` in `language`. */
export function monitoringSheet(
  report: MonitoringReport,
  labels: MonitoringLabels,
  language: 'kk' | 'ru' | 'en',
  exportedAt: Date,
): XlsxSheet {
  const rows: Record<string, unknown>[] = report.rows.map((r, i) => ({
    number: i + 1,
    region: r.name ? r.name[language] : labels.unknownRegion.replace('{code}', r.kato),
    kato: r.kato,
    ...r.counts,
    total: r.total,
  }));
  rows.push({ number: null, region: labels.totalRow, kato: null, ...report.totals.counts, total: report.totals.total });
  return {
    title: labels.sheet,
    meta: [
      [labels.meta.period, `${dmy(report.from)} – ${dmy(report.to)}`],
      [labels.meta.service, labels.service],
      ...(report.dataAt !== null ? [[labels.meta.dataAt, new Date(report.dataAt)] as const] : []),
      [labels.meta.exportedAt, exportedAt],
    ],
    columns: [
      { key: 'number', header: labels.number, type: 'number', width: 6 },
      { key: 'region', header: labels.region, type: 'text', width: 36 },
      { key: 'kato', header: labels.kato, type: 'text', width: 12 },
      ...MONITORING_COLUMNS.map((c) => ({ key: c, header: labels.columns[c], type: 'number' as const, width: 14 })),
      { key: 'total', header: labels.total, type: 'number', width: 14 },
    ],
    rows,
  };
}

/** Writes the report to `file` (nothing is left under it when it fails: writeSheet). */
export function writeMonitoringReport(
  file: string,
  report: MonitoringReport,
  labels: MonitoringLabels,
  language: 'kk' | 'ru' | 'en',
  options: XlsxOptions & { now?: () => number } = {},
): Promise<XlsxResult> {
  const { now, ...xlsx } = options;
  return writeSheet(file, monitoringSheet(report, labels, language, new Date((now ?? Date.now)())), xlsx);
}
