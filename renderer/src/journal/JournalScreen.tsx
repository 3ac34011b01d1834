/**
 * The applications journal (docs/domain.md#applications-journal): search and filters, a sortable,
 * selectable table of one page of 50, paging, and honest loading, empty and
 * error states. Rows come from `journal.list`; services from `catalogue.list`.
 */
import { useEffect, useReducer, useRef, useState } from 'react';
import type { CallOutput, JournalQuery } from '#preload/api.js';
import { call } from '../api/client';
import { useCatalogue, useNow } from '../app/hooks';
import { Banner, ErrorBanner } from '../components/Banner';
import { IconRefresh } from '../components/Icons';
import { useI18n } from '../i18n/I18nProvider';
import { SignDialog } from '../signing/SignDialog';
import { AssignDialog } from './AssignDialog';
import { JournalTable } from './JournalTable';
import { JournalToolbar } from './JournalToolbar';
import { Pagination } from './Pagination';
import { hasFilters, initialJournalState, journalReducer, pageCount, PAGE_SIZE, toQuery, type Filters } from './query';

type JournalPage = CallOutput<'journal.list'>;

interface Result {
  /** The request this answers (its query as JSON plus the reload count). */
  key: string | null;
  data: JournalPage | null;
  error: unknown;
}

export function JournalScreen({
  providerColumns,
  onOpen,
  headOf,
  preset,
}: {
  providerColumns: boolean;
  onOpen?: (id: string) => void;
  /** The provider the user heads: "Assign responsible" chooses from its staff. */
  headOf?: string | null;
  /** Filters to apply when `nonce` changes (a monitoring figure opened here), with the figure's words. */
  preset?: { filters: Partial<Filters>; nonce: number; label: string } | null;
}) {
  const { t } = useI18n();
  const [state, dispatch] = useReducer(journalReducer, initialJournalState);
  const [reloads, setReloads] = useState(0);
  const [signing, setSigning] = useState<string[] | null>(null);
  const [assigning, setAssigning] = useState<string[] | null>(null);
  const [result, setResult] = useState<Result>({ key: null, data: null, error: null });
  const { catalogue, error: catalogueError } = useCatalogue();
  const now = useNow();

  // A monitoring figure: its filters replace the current ones.
  const presetNonce = preset?.nonce ?? null;
  useEffect(() => {
    if (!preset) return;
    dispatch({ type: 'resetFilters' });
    dispatch({ type: 'filter', patch: preset.filters });
    // Only a new figure (nonce) applies; the filters may change afterwards.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [presetNonce]);
  const figureShown = state.filters.regionKato !== '' || state.filters.reportColumn !== '';

  const query = toQuery(state);
  const key = query ? `${JSON.stringify(query)}#${reloads}` : null;

  useEffect(() => {
    if (key === null) return;
    let live = true;
    const q = JSON.parse(key.slice(0, key.lastIndexOf('#'))) as JournalQuery;
    call('journal.list', q).then(
      (data) => {
        if (!live) return;
        // The page ran out from under us (fewer applications than before): show the last one there is.
        if (data.rows.length === 0 && data.total > 0 && q.page > 0) {
          dispatch({ type: 'page', page: pageCount(data.total, q.pageSize) - 1 });
        }
        setResult({ key, data, error: null });
      },
      (error: unknown) => {
        if (live) setResult({ key, data: null, error });
      },
    );
    return () => {
      live = false;
    };
  }, [key]);

  // A new page, sort or filter starts at the top of the table.
  const tableWrap = useRef<HTMLDivElement>(null);
  const view = `${state.page}|${state.sort}|${state.direction}|${JSON.stringify(state.filters)}`;
  useEffect(() => {
    if (tableWrap.current) tableWrap.current.scrollTop = 0;
  }, [view]);

  const loading = key !== null && result.key !== key;
  const data = result.data;
  const rows = data?.rows ?? [];
  const total = data ? data.total : null;
  const pages = pageCount(total ?? 0);
  const filtered = hasFilters(state.filters);
  const problems = catalogue?.problems ?? [];

  const placeholder =
    loading || (!data && !result.error) ? (
      <div className="table-message" data-testid="journal-loading" role="status">
        <span className="spinner" aria-hidden="true" />
        {t('journal.loading')}
      </div>
    ) : result.error ? null : (
      <div className="table-message" data-testid="journal-empty" role="status">
        <span>{filtered ? t('journal.emptyFiltered') : t('journal.empty')}</span>
        {filtered ? (
          <button type="button" className="button button-quiet" onClick={() => dispatch({ type: 'resetFilters' })}>
            {t('journal.filters.reset')}
          </button>
        ) : null}
      </div>
    );

  return (
    <section className="journal" data-testid="journal" aria-labelledby="journal-title">
      <div className="journal-head">
        <h1 id="journal-title">{t('journal.title')}</h1>
        <div className="journal-actions">
          <span
            className={state.selected.size > 0 ? 'selection-count' : 'selection-count is-empty'}
            data-testid="journal-selected-count"
            aria-live="polite"
          >
            {t('journal.selected', { count: state.selected.size })}
          </span>
          {state.selected.size > 0 ? (
            <button type="button" className="button button-quiet" onClick={() => dispatch({ type: 'clearSelection' })}>
              {t('journal.selection.clear')}
            </button>
          ) : null}
          <button
            type="button"
            className="button"
            data-testid="journal-sign"
            disabled={state.selected.size === 0}
            onClick={() => setSigning([...state.selected])}
          >
            {t('sign.action')}
          </button>
          <button
            type="button"
            className="button"
            data-testid="journal-assign"
            disabled={state.selected.size === 0 || !headOf}
            onClick={() => setAssigning([...state.selected])}
          >
            {t('journal.assign')}
          </button>
          <button
            type="button"
            className="button"
            data-testid="journal-refresh"
            onClick={() => setReloads((n) => n + 1)}
            disabled={loading}
          >
            <IconRefresh />
            {t('journal.refresh')}
          </button>
        </div>
      </div>

      {assigning && headOf ? (
        <AssignDialog
          applicationIds={assigning}
          providerId={headOf}
          onClose={(assigned) => {
            setAssigning(null);
            if (assigned > 0) setReloads((n) => n + 1);
          }}
        />
      ) : null}
      {signing ? (
        <SignDialog
          applicationIds={signing}
          onClose={(signed) => {
            setSigning(null);
            if (signed > 0) setReloads((n) => n + 1);
          }}
        />
      ) : null}

      <JournalToolbar state={state} dispatch={dispatch} services={catalogue?.services ?? []} />

      <div className="banners">
        {figureShown && preset ? (
          <Banner
            kind="info"
            title={preset.label}
            testId="journal-figure"
            actions={
              <button
                type="button"
                className="button button-quiet"
                onClick={() => dispatch({ type: 'filter', patch: { regionKato: '', reportColumn: '' } })}
              >
                {t('journal.figure.clear')}
              </button>
            }
          />
        ) : null}
        {problems.length > 0 ? (
          <Banner kind="warning" title={t('catalogue.problems')} testId="catalogue-problems">
            <ul className="problem-list">
              {problems.map((p, i) => (
                <li key={`${p.file}:${p.field}:${i}`}>
                  {t('catalogue.problem', { file: p.file, field: p.field, message: p.message })}
                </li>
              ))}
            </ul>
          </Banner>
        ) : null}
        {catalogueError && !result.error ? (
          <ErrorBanner error={catalogueError} title="catalogue.loadFailed" testId="catalogue-error" />
        ) : null}
        {result.error && !loading ? (
          <ErrorBanner
            error={result.error}
            title="journal.loadFailed"
            testId="journal-error"
            actions={
              <button type="button" className="button" onClick={() => setReloads((n) => n + 1)}>
                {t('journal.retry')}
              </button>
            }
          />
        ) : null}
      </div>

      <div className="table-wrap" ref={tableWrap}>
        {loading && rows.length > 0 ? <div className="progress" role="presentation" /> : null}
        <JournalTable
          rows={rows}
          state={state}
          dispatch={dispatch}
          pageSize={PAGE_SIZE}
          providerColumns={providerColumns}
          busy={loading}
          now={now}
          placeholder={placeholder}
          {...(onOpen ? { onOpen } : {})}
        />
      </div>

      <Pagination
        page={state.page}
        pages={pages}
        total={total}
        capped={data?.totalCapped ?? false}
        onPage={(page) => dispatch({ type: 'page', page })}
      />
    </section>
  );
}
