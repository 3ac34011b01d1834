/**
 * "Export to Excel" of the journal toolbar: every application of the current
 * search and filters (main writes the file: main/export), with progress and
 * Cancel. The sheet's words come from the catalogues, in the interface's
 * language. In the app main asks where to save; in the browser harness the
 * user types the file's full path here.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { API_GLOBAL, DECISION_VALUES, STATUS_VALUES, type CallInput, type CallOutput } from '#preload/api.js';
import { EXPORT_COLUMNS } from '#preload/contract/export.js';
import { call, CallFailure } from '../api/client';
import type { Catalogue } from '../app/hooks';
import { ErrorBanner } from '../components/Banner';
import { useI18n, type I18n } from '../i18n/I18nProvider';
import { toQuery, type JournalState } from './query';

type Progress = CallOutput<'export.progress'>;
type ExportInput = CallInput<'journal.export'>;

export const EXPORT_POLL_MS = 300;

/** The journal's query without paging, and the filters worded for the sheet. */
function exportRequest(
  state: JournalState,
  services: Catalogue['services'],
  { t, language }: I18n,
): Omit<ExportInput, 'path'> | null {
  const q = toQuery(state);
  if (!q) return null;
  const { page: _page, pageSize: _size, ...query } = q;
  const filters: string[] = [];
  if (query.search) filters.push(`${t('journal.search.label')}: ${query.search}`);
  if (query.serviceCode) {
    const name = services.find((s) => s.code === query.serviceCode)?.name[language] ?? query.serviceCode;
    filters.push(`${t('journal.filters.service')}: ${name}`);
  }
  if (query.status) filters.push(`${t('journal.filters.status')}: ${t(`status.${query.status}`)}`);
  if (query.decision) filters.push(`${t('journal.filters.decision')}: ${t(`decision.${query.decision}`)}`);
  if (query.overdue) filters.push(t('journal.filters.overdue'));
  return {
    query,
    language,
    labels: {
      sheet: t('journal.export.sheet'),
      columns: Object.fromEntries(EXPORT_COLUMNS.map((c) => [c, t(`journal.columns.${c}`)])) as Record<
        (typeof EXPORT_COLUMNS)[number],
        string
      >,
      status: Object.fromEntries(STATUS_VALUES.map((s) => [s, t(`status.${s}`)])) as Record<
        (typeof STATUS_VALUES)[number],
        string
      >,
      decision: Object.fromEntries(DECISION_VALUES.map((d) => [d, t(`decision.${d}`)])) as Record<
        (typeof DECISION_VALUES)[number],
        string
      >,
      meta: {
        period: t('journal.export.meta.period'),
        exportedAt: t('journal.export.meta.exportedAt'),
        filters: t('journal.export.meta.filters'),
        rows: t('journal.export.meta.rows'),
        any: t('journal.export.meta.any'),
      },
      filters: filters.join('; '),
    },
  };
}

export function ExportButton({ state, services }: { state: JournalState; services: Catalogue['services'] }) {
  const i18n = useI18n();
  const { t } = i18n;
  const id = useId();
  /** The app's preload asks main for a save dialog; the harness has none: the path is typed here. */
  const inApp = typeof window !== 'undefined' && API_GLOBAL in window;
  const [asking, setAsking] = useState(false);
  const [path, setPath] = useState('');
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<unknown>(null);
  const live = useRef(true);
  useEffect(
    () => () => {
      live.current = false;
    },
    [],
  );

  const running = progress?.state === 'running';
  useEffect(() => {
    if (!running || !progress) return;
    const timer = setInterval(() => {
      call('export.progress', { exportId: progress.exportId }).then(
        (p) => live.current && setProgress(p),
        (e: unknown) => live.current && setError(e),
      );
    }, EXPORT_POLL_MS);
    return () => clearInterval(timer);
  }, [running, progress]);

  const start = (target?: string) => {
    const request = exportRequest(state, services, i18n);
    if (!request) return;
    setError(null);
    setAsking(false);
    call('journal.export', { ...request, ...(target ? { path: target } : {}) }).then(
      (p) => live.current && setProgress(p.exportId === '' ? null : p),
      (e: unknown) => live.current && setError(e),
    );
  };
  const cancel = () => {
    if (!progress) return;
    call('export.cancel', { exportId: progress.exportId }).then(
      (p) => live.current && setProgress(p),
      (e: unknown) => live.current && setError(e),
    );
  };

  return (
    <div className="field field-export" data-testid="journal-export">
      {running ? (
        <div className="export-progress" role="status">
          <label htmlFor={`${id}-progress`}>
            {t('journal.export.running', { rows: progress.rows, total: progress.total ?? 0 })}
          </label>
          <progress id={`${id}-progress`} value={progress.rows} max={Math.max(1, progress.total ?? 0)} />
          <button type="button" className="button button-quiet" data-testid="journal-export-cancel" onClick={cancel}>
            {t('journal.export.cancel')}
          </button>
        </div>
      ) : asking ? (
        <div className="export-path">
          <label htmlFor={`${id}-path`}>{t('journal.export.path')}</label>
          <input
            id={`${id}-path`}
            data-testid="journal-export-path"
            value={path}
            placeholder="/home/user/journal.xlsx"
            spellCheck={false}
            onChange={(e) => setPath(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                start(path.trim());
              }
            }}
          />
          <button
            type="button"
            className="button"
            data-testid="journal-export-save"
            disabled={path.trim() === ''}
            onClick={() => start(path.trim())}
          >
            {t('journal.export.save')}
          </button>
          <button type="button" className="button button-quiet" onClick={() => setAsking(false)}>
            {t('journal.export.cancel')}
          </button>
        </div>
      ) : (
        <button
          type="button"
          className="button"
          data-testid="journal-export-button"
          disabled={toQuery(state) === null}
          onClick={() => (inApp ? start() : setAsking(true))}
        >
          {t('journal.export.button')}
        </button>
      )}
      {progress?.state === 'done' ? (
        <p role="status" data-testid="journal-export-done">
          {t('journal.export.done', { file: progress.fileName ?? '', rows: progress.rows })}
        </p>
      ) : progress?.state === 'cancelled' ? (
        <p role="status">{t('journal.export.cancelled')}</p>
      ) : null}
      {progress?.state === 'failed' && progress.error ? (
        <ErrorBanner error={new CallFailure(progress.error)} testId="journal-export-error" />
      ) : error ? (
        <ErrorBanner error={error} testId="journal-export-error" />
      ) : null}
    </div>
  );
}
