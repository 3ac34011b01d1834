/** The journal's table: selectable rows, sortable headers (aria-sort), coloured status and decision, due dates. */
import { useEffect, useRef, type Dispatch, type ReactNode } from 'react';
import type { JournalRow } from '#preload/api.js';
import { IconAlert, IconSortAsc, IconSortDesc, IconSortNone } from '../components/Icons';
import { useI18n, type I18n } from '../i18n/I18nProvider';
import type { MessageKey } from '../i18n/i18n';
import { isDueToday, isOverdue, type JournalAction, type JournalState, type SortColumn } from './query';

type ColumnId =
  | 'index'
  | 'number'
  | 'service'
  | 'iin'
  | 'applicantName'
  | 'submittedAt'
  | 'status'
  | 'decision'
  | 'responsible'
  | 'portalNumber'
  | 'daysWaiting'
  | 'dueAt'
  | 'bin'
  | 'locality';

interface Column {
  id: ColumnId;
  label: MessageKey;
  sort?: SortColumn;
}

const COLUMNS: readonly Column[] = [
  { id: 'index', label: 'journal.columns.index' },
  { id: 'number', label: 'journal.columns.number', sort: 'number' },
  { id: 'service', label: 'journal.columns.service', sort: 'serviceCode' },
  { id: 'iin', label: 'journal.columns.iin' },
  { id: 'applicantName', label: 'journal.columns.applicantName', sort: 'applicantName' },
  { id: 'submittedAt', label: 'journal.columns.submittedAt', sort: 'submittedAt' },
  { id: 'status', label: 'journal.columns.status', sort: 'status' },
  { id: 'decision', label: 'journal.columns.decision', sort: 'decision' },
  { id: 'responsible', label: 'journal.columns.responsible' },
  { id: 'portalNumber', label: 'journal.columns.portalNumber' },
  { id: 'daysWaiting', label: 'journal.columns.daysWaiting' },
  { id: 'dueAt', label: 'journal.columns.dueAt' },
  { id: 'bin', label: 'journal.columns.bin' },
  { id: 'locality', label: 'journal.columns.locality' },
];

/** BIN and locality are for the monitoring role (docs/domain.md#applications-journal); the others see the provider's own journal. */
export function visibleColumns(providerColumns: boolean): readonly Column[] {
  return providerColumns ? COLUMNS : COLUMNS.filter((c) => c.id !== 'bin' && c.id !== 'locality');
}

function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

function None() {
  const { t } = useI18n();
  return <span className="none">{t('common.none')}</span>;
}

function cell(col: ColumnId, row: JournalRow, index: number, i18n: I18n, now: number): ReactNode {
  const { t, language } = i18n;
  switch (col) {
    case 'index':
      return index;
    case 'number':
      return <span className="app-number">{row.number}</span>;
    case 'service': {
      const name = row.serviceName[language];
      return (
        <span className="clamp" title={name}>
          {name}
        </span>
      );
    }
    case 'iin':
      return row.applicantIin;
    case 'applicantName':
      return (
        <span className="clamp" title={row.applicantName}>
          {row.applicantName}
        </span>
      );
    case 'submittedAt':
      return <time dateTime={isoOf(row.submittedAt)}>{i18n.dateTime(row.submittedAt)}</time>;
    case 'status':
      return <span className={`badge status-${row.status}`}>{t(`status.${row.status}`)}</span>;
    case 'decision':
      return <span className={`decision decision-${row.decision}`}>{t(`decision.${row.decision}`)}</span>;
    case 'responsible':
      return row.responsibleName ? (
        <span className="clamp" title={row.responsibleName}>
          {row.responsibleName}
        </span>
      ) : (
        <None />
      );
    case 'portalNumber':
      return row.portalNumber ?? <None />;
    case 'daysWaiting':
      return row.daysWaiting === null ? <None /> : <span className="days-waiting">{row.daysWaiting}</span>;
    case 'dueAt': {
      if (row.dueAt === null) return <None />;
      const overdue = isOverdue(row, now);
      const today = !overdue && isDueToday(row, now);
      const note = overdue ? t('journal.overdue') : today ? t('journal.dueToday') : undefined;
      return (
        <span className={overdue ? 'due due-overdue' : today ? 'due due-today' : 'due'} title={note}>
          <time dateTime={isoOf(row.dueAt)}>{i18n.dateTime(row.dueAt)}</time>
          {note ? (
            <>
              <IconAlert />
              <span className="sr-only">{note}</span>
            </>
          ) : null}
        </span>
      );
    }
    case 'bin':
      return row.providerBin;
    case 'locality':
      return (
        <span className="clamp" title={row.locality}>
          {row.locality}
        </span>
      );
  }
}

function SortIcon({ active, direction }: { active: boolean; direction: 'asc' | 'desc' }) {
  if (!active) return <IconSortNone />;
  return direction === 'asc' ? <IconSortAsc /> : <IconSortDesc />;
}

export interface JournalTableProps {
  rows: readonly JournalRow[];
  state: JournalState;
  dispatch: Dispatch<JournalAction>;
  pageSize: number;
  providerColumns: boolean;
  busy: boolean;
  now: number;
  /** Shown in the body when there are no rows (loading, empty). */
  placeholder: ReactNode;
  /** Opens an application's card. */
  onOpen?: (id: string) => void;
}

export function JournalTable({
  rows,
  state,
  dispatch,
  pageSize,
  providerColumns,
  busy,
  now,
  placeholder,
  onOpen,
}: JournalTableProps) {
  const i18n = useI18n();
  const { t } = i18n;
  const columns = visibleColumns(providerColumns);

  const onPage = rows.map((r) => r.id);
  const selectedOnPage = onPage.filter((id) => state.selected.has(id)).length;
  const all = onPage.length > 0 && selectedOnPage === onPage.length;
  const some = selectedOnPage > 0 && !all;

  const selectAll = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (selectAll.current) selectAll.current.indeterminate = some;
  }, [some]);

  return (
    <table
      className={`journal-table${busy ? ' is-busy' : ''}${providerColumns ? ' with-provider' : ''}`}
      aria-label={t('journal.title')}
      aria-busy={busy}
    >
      <colgroup>
        <col className="col-select" />
        {columns.map((c) => (
          <col key={c.id} className={`col-${c.id}`} />
        ))}
      </colgroup>
      <thead>
        <tr>
          <th scope="col" className="cell-select">
            <input
              ref={selectAll}
              type="checkbox"
              data-testid="journal-select-all"
              checked={all}
              disabled={onPage.length === 0}
              aria-label={t('journal.select.all')}
              title={t('journal.select.all')}
              onChange={() => dispatch({ type: 'selectPage', ids: onPage, selected: !all })}
            />
          </th>
          {columns.map((c) => {
            if (!c.sort) {
              return (
                <th key={c.id} scope="col" className={`th-${c.id}`}>
                  <span className="th-label">{t(c.label)}</span>
                </th>
              );
            }
            const active = state.sort === c.sort;
            const sortColumn = c.sort;
            return (
              <th
                key={c.id}
                scope="col"
                className={`th-${c.id} sortable${active ? ' sorted' : ''}`}
                aria-sort={active ? (state.direction === 'asc' ? 'ascending' : 'descending') : 'none'}
              >
                <button
                  type="button"
                  className="sort-button"
                  data-testid={`sort-${c.id}`}
                  onClick={() => dispatch({ type: 'sort', column: sortColumn })}
                >
                  <span className="th-label">{t(c.label)}</span>
                  <SortIcon active={active} direction={state.direction} />
                </button>
              </th>
            );
          })}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr className="placeholder-row">
            <td colSpan={columns.length + 1}>{placeholder}</td>
          </tr>
        ) : (
          rows.map((row, i) => {
            const selected = state.selected.has(row.id);
            // Overdue and due-today rows stand out (issue 6, Deadlines); selection still shows over them.
            const deadline = isOverdue(row, now) ? 'is-overdue' : isDueToday(row, now) ? 'is-due-today' : null;
            const className = [selected ? 'is-selected' : null, deadline].filter(Boolean).join(' ');
            return (
              <tr
                key={row.id}
                data-testid="journal-row"
                data-id={row.id}
                data-status={row.status}
                data-deadline={deadline ?? undefined}
                className={className || undefined}
              >
                <td className="cell-select">
                  <input
                    type="checkbox"
                    checked={selected}
                    aria-label={t('journal.select.row', { number: row.number })}
                    onChange={() => dispatch({ type: 'toggleRow', id: row.id })}
                  />
                </td>
                {columns.map((c) => (
                  <td key={c.id} className={`td-${c.id}`} data-testid={`cell-${c.id}`}>
                    {c.id === 'number' && onOpen ? (
                      <button
                        type="button"
                        className="app-number-link"
                        data-testid="journal-open"
                        aria-label={t('journal.open', { number: row.number })}
                        onClick={() => onOpen(row.id)}
                      >
                        {row.number}
                      </button>
                    ) : (
                      cell(c.id, row, state.page * pageSize + i + 1, i18n, now)
                    )}
                  </td>
                ))}
              </tr>
            );
          })
        )}
      </tbody>
    </table>
  );
}
