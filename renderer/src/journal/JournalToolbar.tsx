/** Search (debounced 250 ms, Enter at once, Esc clears), the filters of the journal, and its Excel export. */
import { useEffect, useId, useMemo, useRef, type Dispatch } from 'react';
import { DECISION_VALUES, STATUS_VALUES } from '#preload/api.js';
import type { Catalogue } from '../app/hooks';
import { IconClose, IconSearch } from '../components/Icons';
import { useI18n } from '../i18n/I18nProvider';
import { LOCALES } from '../i18n/i18n';
import { DateField } from './DateField';
import { ExportButton } from './ExportButton';
import {
  dateRangeInvalid,
  hasFilters,
  type Decision,
  type JournalAction,
  type JournalState,
  type Status,
} from './query';

export const SEARCH_DEBOUNCE_MS = 250;

export function JournalToolbar({
  state,
  dispatch,
  services,
}: {
  state: JournalState;
  dispatch: Dispatch<JournalAction>;
  services: Catalogue['services'];
}) {
  const { t, language } = useI18n();
  const id = useId();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);

  const applySearch = (text: string) => {
    clearTimeout(timer.current);
    dispatch({ type: 'filter', patch: { search: text.trim() } });
  };
  const onSearchText = (text: string) => {
    dispatch({ type: 'searchText', text });
    clearTimeout(timer.current);
    timer.current = setTimeout(() => dispatch({ type: 'filter', patch: { search: text.trim() } }), SEARCH_DEBOUNCE_MS);
  };
  const clearSearch = () => {
    dispatch({ type: 'searchText', text: '' });
    applySearch('');
  };

  const sortedServices = useMemo(() => {
    const collator = new Intl.Collator(LOCALES[language]);
    return [...services].sort((a, b) => collator.compare(a.name[language], b.name[language]));
  }, [services, language]);

  const f = state.filters;
  const rangeInvalid = dateRangeInvalid(f);
  const anything = hasFilters(f) || state.searchText !== '';

  return (
    <form
      className="toolbar"
      role="search"
      aria-label={t('journal.filters.label')}
      onSubmit={(e) => e.preventDefault()}
    >
      <div className="field field-search">
        <label htmlFor={`${id}-search`}>{t('journal.search.label')}</label>
        <div className="search-box">
          <IconSearch />
          <input
            id={`${id}-search`}
            type="search"
            data-testid="journal-search"
            value={state.searchText}
            maxLength={100}
            placeholder={t('journal.search.placeholder')}
            title={t('journal.search.placeholder')}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => onSearchText(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                applySearch(e.currentTarget.value);
              } else if (e.key === 'Escape' && e.currentTarget.value !== '') {
                e.preventDefault();
                clearSearch();
              }
            }}
          />
          {state.searchText ? (
            <button
              type="button"
              className="icon-button search-clear"
              onClick={clearSearch}
              aria-label={t('journal.search.clear')}
              title={t('journal.search.clear')}
            >
              <IconClose />
            </button>
          ) : null}
        </div>
      </div>

      <div className="field field-service">
        <label htmlFor={`${id}-service`}>{t('journal.filters.service')}</label>
        <select
          id={`${id}-service`}
          data-testid="journal-filter-service"
          value={f.serviceCode}
          onChange={(e) => dispatch({ type: 'filter', patch: { serviceCode: e.target.value } })}
        >
          <option value="">{t('common.all')}</option>
          {sortedServices.map((s) => (
            <option key={s.code} value={s.code}>
              {s.name[language]}
            </option>
          ))}
        </select>
      </div>

      <div className="field field-status">
        <label htmlFor={`${id}-status`}>{t('journal.filters.status')}</label>
        <select
          id={`${id}-status`}
          data-testid="journal-filter-status"
          value={f.status}
          onChange={(e) => dispatch({ type: 'filter', patch: { status: e.target.value as Status | '' } })}
        >
          <option value="">{t('common.all')}</option>
          {STATUS_VALUES.map((s) => (
            <option key={s} value={s}>
              {t(`status.${s}`)}
            </option>
          ))}
        </select>
      </div>

      <div className="field field-decision">
        <label htmlFor={`${id}-decision`}>{t('journal.filters.decision')}</label>
        <select
          id={`${id}-decision`}
          data-testid="journal-filter-decision"
          value={f.decision}
          onChange={(e) => dispatch({ type: 'filter', patch: { decision: e.target.value as Decision | '' } })}
        >
          <option value="">{t('common.all')}</option>
          {DECISION_VALUES.map((d) => (
            <option key={d} value={d}>
              {t(`decision.${d}`)}
            </option>
          ))}
        </select>
      </div>

      <label className="checkbox-field field-overdue">
        <input
          type="checkbox"
          data-testid="journal-filter-overdue"
          checked={f.overdue === 'overdue'}
          onChange={(e) => dispatch({ type: 'filter', patch: { overdue: e.target.checked ? 'overdue' : '' } })}
        />
        {t('journal.filters.overdue')}
      </label>

      <div className="field field-date">
        <label htmlFor={`${id}-from`}>{t('journal.filters.dateFrom')}</label>
        <DateField
          key={`from-${state.resets}`}
          id={`${id}-from`}
          testId="journal-filter-date-from"
          value={f.dateFrom}
          max={f.dateTo || undefined}
          invalid={rangeInvalid}
          describedBy={rangeInvalid ? `${id}-range` : undefined}
          onChange={(dateFrom) => dispatch({ type: 'filter', patch: { dateFrom } })}
        />
      </div>

      <div className="field field-date">
        <label htmlFor={`${id}-to`}>{t('journal.filters.dateTo')}</label>
        <DateField
          key={`to-${state.resets}`}
          id={`${id}-to`}
          testId="journal-filter-date-to"
          value={f.dateTo}
          min={f.dateFrom || undefined}
          invalid={rangeInvalid}
          describedBy={rangeInvalid ? `${id}-range` : undefined}
          onChange={(dateTo) => dispatch({ type: 'filter', patch: { dateTo } })}
        />
      </div>

      <div className="field field-reset">
        <button
          type="button"
          className="button button-quiet"
          data-testid="journal-filter-reset"
          disabled={!anything}
          onClick={() => {
            clearTimeout(timer.current);
            dispatch({ type: 'resetFilters' });
          }}
        >
          {t('journal.filters.reset')}
        </button>
      </div>

      <ExportButton state={state} services={services} />

      {rangeInvalid ? (
        <p className="field-error" id={`${id}-range`} role="alert">
          {t('journal.filters.dateRangeInvalid')}
        </p>
      ) : null}
    </form>
  );
}
