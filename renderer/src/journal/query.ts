/**
 * The journal's state (filters, page, sort, selection) as a reducer, and the
 * `journal.list` query it asks for. Pure: the screen renders what this says.
 */
import { FINISHED_STATUSES } from '#core/vocabulary.js';
import type { MonitoringColumn } from '#core/monitoring/report.js';
import type { DECISION_VALUES, JournalQuery, JournalRow, JOURNAL_SORT_COLUMNS, STATUS_VALUES } from '#preload/api.js';

export const PAGE_SIZE = 50;

export type SortColumn = (typeof JOURNAL_SORT_COLUMNS)[number];
export type Direction = 'asc' | 'desc';
export type Status = (typeof STATUS_VALUES)[number];
export type Decision = (typeof DECISION_VALUES)[number];

export interface Filters {
  /** The search as applied (the box's text after the debounce). */
  search: string;
  serviceCode: string;
  status: Status | '';
  decision: Decision | '';
  /** YYYY-MM-DD or ''. */
  dateFrom: string;
  dateTo: string;
  /** 'overdue': open applications past their step's deadline only. */
  overdue: '' | 'overdue';
  /** A monitoring figure (renderer/src/monitoring): the applicants' region (KATO) and the report's column. */
  regionKato: string;
  reportColumn: MonitoringColumn | '';
}

export interface JournalState {
  /** What is typed in the search box; it becomes `filters.search` after the debounce (or Enter). */
  searchText: string;
  filters: Filters;
  page: number;
  sort: SortColumn;
  direction: Direction;
  /** Ids of the selected applications; kept across pages and sorting, dropped when the filters change. */
  selected: ReadonlySet<string>;
  /** Counts "Reset filters" presses: fields keyed by it drop half-typed text. */
  resets: number;
}

export const NO_FILTERS: Filters = {
  search: '',
  serviceCode: '',
  status: '',
  decision: '',
  dateFrom: '',
  dateTo: '',
  overdue: '',
  regionKato: '',
  reportColumn: '',
};

export const initialJournalState: JournalState = {
  searchText: '',
  filters: NO_FILTERS,
  page: 0,
  sort: 'submittedAt',
  direction: 'desc',
  selected: new Set(),
  resets: 0,
};

export type JournalAction =
  | { type: 'searchText'; text: string }
  | { type: 'filter'; patch: Partial<Filters> }
  | { type: 'resetFilters' }
  | { type: 'page'; page: number }
  | { type: 'sort'; column: SortColumn }
  | { type: 'toggleRow'; id: string }
  | { type: 'selectPage'; ids: readonly string[]; selected: boolean }
  | { type: 'clearSelection' };

/** Newest first for dates; A→Z for the rest. */
export function defaultDirection(column: SortColumn): Direction {
  return column === 'submittedAt' ? 'desc' : 'asc';
}

export function hasFilters(f: Filters): boolean {
  return Object.values(f).some((v) => v !== '');
}

function sameFilters(a: Filters, b: Filters): boolean {
  return (Object.keys(a) as (keyof Filters)[]).every((k) => a[k] === b[k]);
}

export function journalReducer(state: JournalState, action: JournalAction): JournalState {
  switch (action.type) {
    case 'searchText':
      return action.text === state.searchText ? state : { ...state, searchText: action.text };
    case 'filter': {
      const filters = { ...state.filters, ...action.patch };
      if (sameFilters(filters, state.filters)) return state;
      return { ...state, filters, page: 0, selected: new Set() };
    }
    case 'resetFilters':
      if (!hasFilters(state.filters)) return { ...state, searchText: '', resets: state.resets + 1 };
      return { ...state, searchText: '', filters: NO_FILTERS, page: 0, selected: new Set(), resets: state.resets + 1 };
    case 'page': {
      const page = Math.max(0, Math.floor(action.page));
      return page === state.page ? state : { ...state, page };
    }
    case 'sort': {
      const direction =
        state.sort === action.column ? (state.direction === 'asc' ? 'desc' : 'asc') : defaultDirection(action.column);
      return { ...state, sort: action.column, direction, page: 0 };
    }
    case 'toggleRow': {
      const selected = new Set(state.selected);
      if (!selected.delete(action.id)) selected.add(action.id);
      return { ...state, selected };
    }
    case 'selectPage': {
      const selected = new Set(state.selected);
      for (const id of action.ids) {
        if (action.selected) selected.add(id);
        else selected.delete(id);
      }
      return { ...state, selected };
    }
    case 'clearSelection':
      return state.selected.size === 0 ? state : { ...state, selected: new Set() };
  }
}

/** A date range whose start is after its end asks for nothing. */
export function dateRangeInvalid(f: Filters): boolean {
  return f.dateFrom !== '' && f.dateTo !== '' && f.dateFrom > f.dateTo;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The `journal.list` input for this state; null when the filters cannot be asked (an inverted date range). */
export function toQuery(state: JournalState): JournalQuery | null {
  const f = state.filters;
  if (dateRangeInvalid(f)) return null;
  const q: JournalQuery = { page: state.page, pageSize: PAGE_SIZE, sort: state.sort, direction: state.direction };
  const search = f.search.trim().slice(0, 100);
  if (search) q.search = search;
  if (f.serviceCode) q.serviceCode = f.serviceCode;
  if (f.status) q.status = f.status;
  if (f.decision) q.decision = f.decision;
  if (ISO_DATE.test(f.dateFrom)) q.dateFrom = f.dateFrom;
  if (ISO_DATE.test(f.dateTo)) q.dateTo = f.dateTo;
  if (f.overdue === 'overdue') q.overdue = true;
  if (f.regionKato) q.regionKato = f.regionKato;
  if (f.reportColumn) q.reportColumn = f.reportColumn;
  return q;
}

export function pageCount(total: number, pageSize = PAGE_SIZE): number {
  return Math.max(1, Math.ceil(total / pageSize));
}

const CLOSED: ReadonlySet<Status> = new Set<Status>(FINISHED_STATUSES);

/** Past its due time and not yet finished. */
export function isOverdue(row: Pick<JournalRow, 'dueAt' | 'status'>, now: number): boolean {
  return row.dueAt !== null && row.dueAt < now && !CLOSED.has(row.status);
}

/** Due later today (the workstation's calendar day) and not yet finished. */
export function isDueToday(row: Pick<JournalRow, 'dueAt' | 'status'>, now: number): boolean {
  if (row.dueAt === null || row.dueAt < now || CLOSED.has(row.status)) return false;
  const due = new Date(row.dueAt);
  const today = new Date(now);
  return (
    due.getFullYear() === today.getFullYear() &&
    due.getMonth() === today.getMonth() &&
    due.getDate() === today.getDate()
  );
}
