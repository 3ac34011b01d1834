/**
 * The journal's Excel export: merged into the contract in preload/api.ts.
 * `journal.export` starts writing every application of the journal's current
 * search and filters (not only the page) to an .xlsx file in the background
 * and answers at once; the toolbar polls `export.progress` and may
 * `export.cancel`. The sheet speaks the user's language: its words come from
 * the renderer's catalogues (`labels`), its data from main.
 *
 * The file: in Electron, main asks with a save dialog and `path` is ignored;
 * in the browser harness `path` names it (absolute, ending in .xlsx, checked
 * in main).
 */
import { z } from 'zod';
import { DECISIONS, STATUSES } from '#core/vocabulary.js';
import { MONITORING_COLUMNS } from '#core/monitoring/report.js';
import type { CallSpec } from './call.js';

/** The exported columns, in the journal table's order (BIN and locality only for scopes wider than one provider). */
export const EXPORT_COLUMNS = [
  'number',
  'service',
  'iin',
  'applicantName',
  'submittedAt',
  'status',
  'decision',
  'responsible',
  'portalNumber',
  'daysWaiting',
  'dueAt',
  'bin',
  'locality',
] as const;
export type ExportColumn = (typeof EXPORT_COLUMNS)[number];

const word = z.string().max(200);

export const exportLabels = z.strictObject({
  /** The sheet's name (cut to Excel's 31 characters). */
  sheet: word,
  columns: z.record(z.enum(EXPORT_COLUMNS), word),
  status: z.record(z.enum(STATUSES), word),
  decision: z.record(z.enum(DECISIONS), word),
  /** Labels of the lines above the table, and the word for "no limit" (a period with no dates). */
  meta: z.strictObject({ period: word, exportedAt: word, filters: word, rows: word, any: word }),
  /** The search and filters as the toolbar words them ('' when none). */
  filters: z.string().max(1000),
});
export type ExportLabels = z.infer<typeof exportLabels>;

/** The journal's query (preload/api.ts journalQuery) without paging: every matching application is exported. */
export const exportQuery = z.strictObject({
  search: z.string().trim().max(100).optional(),
  serviceCode: z.string().max(64).optional(),
  status: z.enum(STATUSES).optional(),
  decision: z.enum(DECISIONS).optional(),
  dateFrom: z.iso.date().optional(),
  dateTo: z.iso.date().optional(),
  overdue: z.boolean().optional(),
  /** A monitoring figure's filters, as journal.list takes them. */
  regionKato: z
    .string()
    .regex(/^\d{9}$/)
    .optional(),
  reportColumn: z.enum(MONITORING_COLUMNS).optional(),
  sort: z.enum(['submittedAt', 'number', 'applicantName', 'status', 'decision', 'serviceCode']).default('submittedAt'),
  direction: z.enum(['asc', 'desc']).default('desc'),
});

export const exportProgress = z.strictObject({
  /** '' when nothing was started (the save dialog was closed). */
  exportId: z.string(),
  state: z.enum(['running', 'done', 'cancelled', 'failed']),
  rows: z.int().min(0),
  /** Applications to write (known once the query has run). */
  total: z.int().min(0).nullable(),
  /** The file's name (without its folder) once done. */
  fileName: z.string().nullable(),
  /** Why it failed: a code and a message key of the catalogues (errors.export*). */
  error: z.strictObject({ code: z.string(), messageKey: z.string() }).nullable(),
});
export type ExportProgress = z.infer<typeof exportProgress>;

const exportId = z.strictObject({ exportId: z.string().max(100) });

export const exportContract = {
  'journal.export': {
    // Writes a file for the user (refused, like every write, once the database check has failed).
    kind: 'write',
    input: z.strictObject({
      query: exportQuery,
      language: z.enum(['kk', 'ru', 'en']),
      labels: exportLabels,
      path: z.string().max(1024).optional(),
    }),
    output: exportProgress,
  },
  'export.progress': { kind: 'poll', input: exportId, output: exportProgress },
  // Only ends something held in memory (call.ts 'read'): still possible once the database check has failed.
  'export.cancel': { kind: 'read', input: exportId, output: exportProgress },
} as const satisfies Record<string, CallSpec>;
