import { describe, expect, it } from 'vitest';
import {
  initialJournalState,
  isDueToday,
  isOverdue,
  journalReducer,
  pageCount,
  PAGE_SIZE,
  toQuery,
  type JournalState,
} from './query';

const s0 = initialJournalState;

describe('journal state', () => {
  it('asks for the first page of 50, newest first, without filters', () => {
    expect(toQuery(s0)).toEqual({ page: 0, pageSize: 50, sort: 'submittedAt', direction: 'desc' });
  });

  it('puts every filter into the query and trims the search', () => {
    const s = journalReducer(s0, {
      type: 'filter',
      patch: {
        search: '  Әбдіғаппаров ',
        serviceCode: 'edu-duplicate',
        status: 'received',
        decision: 'none',
        dateFrom: '2026-01-01',
        dateTo: '2026-01-31',
        overdue: 'overdue',
      },
    });
    expect(toQuery(s)).toEqual({
      page: 0,
      pageSize: PAGE_SIZE,
      sort: 'submittedAt',
      direction: 'desc',
      search: 'Әбдіғаппаров',
      serviceCode: 'edu-duplicate',
      status: 'received',
      decision: 'none',
      dateFrom: '2026-01-01',
      dateTo: '2026-01-31',
      overdue: true,
    });
  });

  it('asks nothing for an inverted date range', () => {
    const s = journalReducer(s0, { type: 'filter', patch: { dateFrom: '2026-02-01', dateTo: '2026-01-31' } });
    expect(toQuery(s)).toBeNull();
  });

  it('goes back to the first page and drops the selection when a filter changes', () => {
    let s: JournalState = journalReducer(s0, { type: 'page', page: 4 });
    s = journalReducer(s, { type: 'toggleRow', id: 'a' });
    s = journalReducer(s, { type: 'filter', patch: { status: 'on_signing' } });
    expect(s.page).toBe(0);
    expect(s.selected.size).toBe(0);
  });

  it('keeps the state when a filter is set to what it already is', () => {
    expect(journalReducer(s0, { type: 'filter', patch: { search: '' } })).toBe(s0);
  });

  it('toggles the direction on the same column and starts a new column with its default', () => {
    let s = journalReducer(s0, { type: 'sort', column: 'submittedAt' });
    expect([s.sort, s.direction]).toEqual(['submittedAt', 'asc']);
    s = journalReducer(s, { type: 'sort', column: 'applicantName' });
    expect([s.sort, s.direction]).toEqual(['applicantName', 'asc']);
    s = journalReducer(s, { type: 'sort', column: 'applicantName' });
    expect([s.sort, s.direction]).toEqual(['applicantName', 'desc']);
  });

  it('selects and unselects a whole page, keeping other pages’ selection', () => {
    let s = journalReducer(s0, { type: 'toggleRow', id: 'x' });
    s = journalReducer(s, { type: 'selectPage', ids: ['a', 'b'], selected: true });
    expect([...s.selected].sort()).toEqual(['a', 'b', 'x']);
    s = journalReducer(s, { type: 'selectPage', ids: ['a', 'b'], selected: false });
    expect([...s.selected]).toEqual(['x']);
    s = journalReducer(s, { type: 'toggleRow', id: 'x' });
    expect(s.selected.size).toBe(0);
  });

  it('resets the filters and the search box', () => {
    let s = journalReducer(s0, { type: 'filter', patch: { decision: 'negative', search: '9404' } });
    s = journalReducer(s, { type: 'searchText', text: '9404' });
    s = journalReducer(s, { type: 'resetFilters' });
    expect(s.filters).toEqual(s0.filters);
    expect(s.searchText).toBe('');
  });
});

describe('pages and deadlines', () => {
  it('counts pages, at least one', () => {
    expect(pageCount(0)).toBe(1);
    expect(pageCount(50)).toBe(1);
    expect(pageCount(51)).toBe(2);
    expect(pageCount(5000)).toBe(100);
  });

  it('marks open applications past their due time as overdue', () => {
    expect(isOverdue({ dueAt: 100, status: 'in_processing' }, 200)).toBe(true);
    expect(isOverdue({ dueAt: 300, status: 'in_processing' }, 200)).toBe(false);
    expect(isOverdue({ dueAt: 100, status: 'completed' }, 200)).toBe(false);
    expect(isOverdue({ dueAt: 100, status: 'completed_with_error' }, 200)).toBe(false);
    expect(isOverdue({ dueAt: null, status: 'received' }, 200)).toBe(false);
  });

  it('tells an application due later today from one due tomorrow, overdue or finished', () => {
    const now = new Date(2026, 10, 23, 10, 0).getTime(); // local time
    const at = (d: number, h: number, m = 0) => new Date(2026, 10, d, h, m).getTime();
    expect(isDueToday({ dueAt: at(23, 18), status: 'in_processing' }, now)).toBe(true);
    expect(isDueToday({ dueAt: at(23, 23, 59), status: 'received' }, now)).toBe(true);
    expect(isDueToday({ dueAt: at(24, 0, 0), status: 'received' }, now)).toBe(false);
    expect(isDueToday({ dueAt: at(23, 9), status: 'in_processing' }, now)).toBe(false); // overdue already
    expect(isDueToday({ dueAt: at(23, 18), status: 'completed' }, now)).toBe(false);
    expect(isDueToday({ dueAt: null, status: 'received' }, now)).toBe(false);
  });
});
