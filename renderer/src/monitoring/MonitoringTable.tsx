/**
 * The report as the seed's table (seed 002 §5.6): a row per region with its
 * KATO code, the six columns and the region's total, the totals row; each
 * non-zero figure a button that opens the journal filtered to it. Then the
 * overdue applications per step. Pure: renders what it is given.
 */
import { MONITORING_COLUMNS, type MonitoringColumn, type MonitoringReport } from '#core/monitoring/report.js';
import { useI18n } from '../i18n/I18nProvider';

/** What a click on a figure asks for: the applications of a region (or all) in a column (or all). */
export interface Figure {
  kato: string | null;
  column: MonitoringColumn | null;
}

export function regionName(
  row: { kato: string; name: { kk: string; ru: string; en: string } | null },
  language: 'kk' | 'ru' | 'en',
  unknown: (code: string) => string,
): string {
  return row.name ? row.name[language] : unknown(row.kato);
}

export function MonitoringTable({
  report,
  onFigure,
}: {
  report: MonitoringReport;
  onFigure?: (figure: Figure) => void;
}) {
  const { t, number, language } = useI18n();
  const cell = (value: number, figure: Figure, testId: string) =>
    value > 0 && onFigure ? (
      <button
        type="button"
        className="figure"
        data-testid={testId}
        title={t('monitoring.openFigure', { count: number(value) })}
        onClick={() => onFigure(figure)}
      >
        {number(value)}
      </button>
    ) : (
      <span data-testid={testId}>{number(value)}</span>
    );
  return (
    <>
      <table className="monitoring-table" data-testid="monitoring-table" aria-label={t('monitoring.title')}>
        <thead>
          <tr>
            <th scope="col">{t('monitoring.number')}</th>
            <th scope="col">{t('monitoring.region')}</th>
            {MONITORING_COLUMNS.map((c) => (
              <th key={c} scope="col" className="num">
                {t(`monitoring.column.${c}`)}
              </th>
            ))}
            <th scope="col" className="num">
              {t('monitoring.total')}
            </th>
          </tr>
        </thead>
        <tbody>
          {report.rows.map((row, i) => (
            <tr key={row.kato} data-testid={`monitoring-row-${row.kato}`}>
              <td>{i + 1}</td>
              <th scope="row">
                {regionName(row, language, (code) => t('monitoring.unknownRegion', { code }))}{' '}
                <span className="kato">[{row.kato}]</span>
              </th>
              {MONITORING_COLUMNS.map((c) => (
                <td key={c} className="num">
                  {cell(row.counts[c], { kato: row.kato, column: c }, `figure-${row.kato}-${c}`)}
                </td>
              ))}
              <td className="num">{cell(row.total, { kato: row.kato, column: null }, `figure-${row.kato}-total`)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr data-testid="monitoring-totals">
            <td />
            <th scope="row">{t('monitoring.totalRow')}</th>
            {MONITORING_COLUMNS.map((c) => (
              <td key={c} className="num">
                {cell(report.totals.counts[c], { kato: null, column: c }, `figure-all-${c}`)}
              </td>
            ))}
            <td className="num">{cell(report.totals.total, { kato: null, column: null }, 'figure-all-total')}</td>
          </tr>
        </tfoot>
      </table>
      <OverdueSteps report={report} />
    </>
  );
}

export function OverdueSteps({ report }: { report: MonitoringReport }) {
  const { t, number } = useI18n();
  return (
    <section className="monitoring-overdue" data-testid="monitoring-overdue" aria-labelledby="monitoring-overdue-title">
      <h2 id="monitoring-overdue-title">{t('monitoring.overdue.title')}</h2>
      {report.overdue.length === 0 ? (
        <p>{t('monitoring.overdue.none')}</p>
      ) : (
        <table className="monitoring-table">
          <thead>
            <tr>
              <th scope="col">{t('monitoring.overdue.service')}</th>
              <th scope="col">{t('monitoring.overdue.step')}</th>
              <th scope="col" className="num">
                {t('monitoring.overdue.count')}
              </th>
            </tr>
          </thead>
          <tbody>
            {report.overdue.map((o) => (
              <tr key={`${o.serviceCode}/${o.step}`}>
                <td>{o.serviceCode}</td>
                <td>{o.step}</td>
                <td className="num">{number(o.count)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
