/**
 * The monitoring screen (seed 002 §5.6): period and service, the figures of
 * this workstation or of the central server, as a table or a chart, with the
 * date of the data. A figure opens the journal filtered to it.
 */
import { useEffect, useState } from 'react';
import type { MonitoringColumn, MonitoringReport } from '#core/monitoring/report.js';
import { call } from '../api/client';
import { useCatalogue } from '../app/hooks';
import { Banner, ErrorBanner } from '../components/Banner';
import { useI18n } from '../i18n/I18nProvider';
import { DateField } from '../journal/DateField';
import { MonitoringChart } from './MonitoringChart';
import { MonitoringTable, regionName, type Figure } from './MonitoringTable';
import './monitoring.css';

/** The journal's filters a figure stands for. */
export interface FigureFilters {
  regionKato: string;
  reportColumn: MonitoringColumn | '';
  dateFrom: string;
  dateTo: string;
  serviceCode: string;
}

const pad = (n: number) => String(n).padStart(2, '0');
const isoDay = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

export function MonitoringScreen({
  onOpenJournal,
}: {
  /** Opens the journal with these filters; `label` names the figure. */
  onOpenJournal?: (filters: FigureFilters, label: string) => void;
}) {
  const { t, dateTime, language } = useI18n();
  const { catalogue } = useCatalogue();
  const [from, setFrom] = useState(() => `${new Date().getFullYear()}-01-01`);
  const [to, setTo] = useState(() => isoDay(new Date()));
  const [serviceCode, setServiceCode] = useState('');
  const [source, setSource] = useState<'local' | 'server'>('local');
  const [view, setView] = useState<'table' | 'chart'>('table');
  const [result, setResult] = useState<{ key: string; report: MonitoringReport | null; error: unknown }>({
    key: '',
    report: null,
    error: null,
  });
  const invalid = from === '' || to === '' || from > to;
  const key = invalid ? '' : JSON.stringify({ from, to, serviceCode, source });

  useEffect(() => {
    if (key === '') return;
    let live = true;
    call('monitoring.report', { from, to, source, ...(serviceCode ? { serviceCode } : {}) }).then(
      (report) => live && setResult({ key, report, error: null }),
      (error: unknown) => live && setResult({ key, report: null, error }),
    );
    return () => {
      live = false;
    };
    // `key` says everything the call depends on.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  const loading = key !== '' && result.key !== key;
  const report = result.key === key ? result.report : null;
  const onFigure =
    onOpenJournal && report
      ? (f: Figure) => {
          const row = f.kato === null ? null : report.rows.find((r) => r.kato === f.kato);
          const region = row
            ? `${regionName(row, language, (code) => t('monitoring.unknownRegion', { code }))} [${row.kato}]`
            : t('monitoring.totalRow');
          const column = f.column ? t(`monitoring.column.${f.column}`) : t('monitoring.total');
          onOpenJournal(
            { regionKato: f.kato ?? '', reportColumn: f.column ?? '', dateFrom: from, dateTo: to, serviceCode },
            t('journal.figure.label', { region, column }),
          );
        }
      : undefined;

  return (
    <section className="monitoring" data-testid="monitoring" aria-labelledby="monitoring-title">
      <div className="journal-head">
        <h1 id="monitoring-title">{t('monitoring.title')}</h1>
        <div className="segmented" role="group" aria-label={t('monitoring.view.label')}>
          {(['table', 'chart'] as const).map((v) => (
            <button
              key={v}
              type="button"
              className="button"
              data-testid={`monitoring-view-${v}`}
              aria-pressed={view === v}
              onClick={() => setView(v)}
            >
              {t(`monitoring.view.${v}`)}
            </button>
          ))}
        </div>
      </div>
      <div className="toolbar" role="search" aria-label={t('monitoring.title')}>
        <div className="field field-date">
          <label htmlFor="monitoring-from">{t('monitoring.from')}</label>
          <DateField id="monitoring-from" value={from} onChange={setFrom} invalid={invalid} testId="monitoring-from" />
        </div>
        <div className="field field-date">
          <label htmlFor="monitoring-to">{t('monitoring.to')}</label>
          <DateField id="monitoring-to" value={to} onChange={setTo} invalid={invalid} testId="monitoring-to" />
        </div>
        <div className="field field-service">
          <label htmlFor="monitoring-service">{t('monitoring.service')}</label>
          <select
            id="monitoring-service"
            data-testid="monitoring-service"
            value={serviceCode}
            onChange={(e) => setServiceCode(e.target.value)}
          >
            <option value="">{t('monitoring.allServices')}</option>
            {(catalogue?.services ?? []).map((s) => (
              <option key={s.code} value={s.code}>
                {s.name[language]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="monitoring-source">{t('monitoring.source.label')}</label>
          <select
            id="monitoring-source"
            data-testid="monitoring-source"
            value={source}
            onChange={(e) => setSource(e.target.value === 'server' ? 'server' : 'local')}
          >
            <option value="local">{t('monitoring.source.local')}</option>
            <option value="server">{t('monitoring.source.server')}</option>
          </select>
        </div>
      </div>

      <div className="banners">
        {invalid ? <Banner kind="warning" title={t('monitoring.periodInvalid')} testId="monitoring-invalid" /> : null}
        {result.error && result.key === key ? (
          <ErrorBanner error={result.error} title="monitoring.loadFailed" testId="monitoring-error" />
        ) : null}
      </div>

      {loading ? (
        <div className="table-message" role="status" data-testid="monitoring-loading">
          <span className="spinner" aria-hidden="true" />
          {t('monitoring.loading')}
        </div>
      ) : null}

      {report ? (
        <>
          <p className="monitoring-meta" data-testid="monitoring-data-at">
            {t(`monitoring.reach.${report.reach}`)} ·{' '}
            {report.dataAt === null
              ? t('monitoring.dataAt.never')
              : t('monitoring.dataAt', { time: dateTime(report.dataAt) })}
          </p>
          {report.totals.total === 0 ? <p data-testid="monitoring-empty">{t('monitoring.empty')}</p> : null}
          {view === 'table' ? (
            <div className="table-wrap">
              <MonitoringTable report={report} {...(onFigure ? { onFigure } : {})} />
            </div>
          ) : (
            <MonitoringChart report={report} {...(onFigure ? { onFigure } : {})} />
          )}
        </>
      ) : null}
    </section>
  );
}
