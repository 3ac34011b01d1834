/**
 * The applications journal: one page of applications with search, filters
 * and sorting, as named SQL over the local database (DOMAIN.md §7).
 */
import type Database from 'better-sqlite3';
import type { z } from 'zod';
import type { JournalRow, journalQuery } from '../../preload/api.js';
import { foldForSearch } from '../common/text.js';

type Query = z.output<typeof journalQuery>;
type Localized = { kk: string; ru: string; en: string };

const SORT_SQL: Record<Query['sort'], string> = {
  submittedAt: 'a.submitted_at',
  number: 'a.number',
  applicantName: 'a.applicant_name_norm',
  status: 'a.status',
  decision: 'a.decision',
  serviceCode: 'a.service_code',
};

/** Local calendar day YYYY-MM-DD → [start, end) in ms, in the workstation's time zone. */
function dayStart(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d).getTime();
}

export interface SearchPlan {
  where: string[];
  params: Record<string, string | number>;
}

/**
 * Reads the search box the way a clerk means it: 12 digits are an IIN (or a
 * BIN), a number with dashes is the application number, other digits a portal
 * or application number prefix, anything else a fragment of the name.
 */
export function planSearch(search: string): SearchPlan {
  const s = search.trim();
  if (/^\d{12}$/.test(s)) {
    return { where: ['(a.applicant_iin = @s OR a.applicant_bin = @s)'], params: { s } };
  }
  if (/^\d+(-\d+){1,3}$/.test(s)) {
    return { where: ['a.number >= @s AND a.number < @sEnd'], params: { s, sEnd: s + '\uffff' } };
  }
  if (/^\d+$/.test(s)) {
    return {
      where: [
        '((a.portal_number >= @s AND a.portal_number < @sEnd) OR (a.number >= @s AND a.number < @sEnd) OR a.applicant_iin = @s)',
      ],
      params: { s, sEnd: s + '\uffff' },
    };
  }
  const folded = foldForSearch(s).replace(/[\\%_]/g, (c) => '\\' + c);
  return { where: ["a.applicant_name_norm LIKE @name ESCAPE '\\'"], params: { name: `%${folded}%` } };
}

export class Journal {
  constructor(
    private readonly sqlite: Database.Database,
    private readonly serviceName: (code: string) => Localized,
  ) {}

  list(q: Query): { total: number; rows: JournalRow[] } {
    const where: string[] = ['1 = 1'];
    const params: Record<string, string | number> = {};
    if (q.search) {
      const plan = planSearch(q.search);
      where.push(...plan.where);
      Object.assign(params, plan.params);
    }
    if (q.serviceCode) {
      where.push('a.service_code = @serviceCode');
      params.serviceCode = q.serviceCode;
    }
    if (q.status) {
      where.push('a.status = @status');
      params.status = q.status;
    }
    if (q.decision) {
      where.push('a.decision = @decision');
      params.decision = q.decision;
    }
    if (q.dateFrom) {
      where.push('a.submitted_at >= @from');
      params.from = dayStart(q.dateFrom);
    }
    if (q.dateTo) {
      where.push('a.submitted_at < @to');
      params.to = dayStart(q.dateTo) + 24 * 3600 * 1000;
    }
    const whereSql = where.join(' AND ');
    const order = `${SORT_SQL[q.sort]} ${q.direction === 'asc' ? 'ASC' : 'DESC'}, a.id ${q.direction === 'asc' ? 'ASC' : 'DESC'}`;
    const total = (
      this.sqlite.prepare(`SELECT count(*) AS n FROM applications a WHERE ${whereSql}`).get(params) as { n: number }
    ).n;
    const rows = this.sqlite
      .prepare(
        `SELECT a.id, a.number, a.portal_number AS portalNumber, a.service_code AS serviceCode,
                a.applicant_iin AS applicantIin, a.applicant_name AS applicantName,
                a.submitted_at AS submittedAt, a.status, a.decision, u.full_name AS responsibleName,
                p.bin AS providerBin, a.locality, a.due_at AS dueAt
           FROM applications a
           JOIN providers p ON p.id = a.provider_id
           LEFT JOIN users u ON u.id = a.responsible_user_id
          WHERE ${whereSql}
          ORDER BY ${order}
          LIMIT @limit OFFSET @offset`,
      )
      .all({ ...params, limit: q.pageSize, offset: q.page * q.pageSize }) as Omit<JournalRow, 'serviceName'>[];
    return { total, rows: rows.map((r) => ({ ...r, serviceName: this.serviceName(r.serviceCode) })) };
  }
}
