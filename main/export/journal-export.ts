/**
 * The journal's Excel export: every application of the current search and
 * filters within the user's scope (not only the page), with the columns the
 * journal table shows, written by `writeSheet` (./xlsx.ts) in the
 * background. Rows come from the Journal in chunks (Journal.exportRows), so
 * memory stays bounded and the database stays free for other calls.
 *
 * One export runs at a time per user; its progress and Cancel are the
 * starter's alone (another user asking gets `notFound`).
 */
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute } from 'node:path';
import type { z } from 'zod';
import type { ExportColumn, ExportLabels, ExportProgress, exportQuery } from '#preload/contract/export.js';
import { ServiceError } from '../rpc.js';
import type { Journal } from '../journal/journal.js';
import { writeSheet, XlsxError, type XlsxColumn, type XlsxOptions } from './xlsx.js';

export type ExportQuery = z.output<typeof exportQuery>;
type Language = 'kk' | 'ru' | 'en';

export interface ExportRequest {
  query: ExportQuery;
  language: Language;
  labels: ExportLabels;
  /** The target when no save dialog is injected (the harness). */
  path?: string | undefined;
}

export interface JournalExporterOptions {
  journal: Journal;
  /**
   * Electron's save dialog (main/shell), given a suggested file name; null
   * when the user closes it. Absent: the path comes with the call.
   */
  chooseSavePath?: ((suggestedName: string) => Promise<string | null>) | undefined;
  now?: () => number;
  /** The zone of the sheet's date cells (default: the workstation's). */
  timeZone?: string;
  /** Passed to writeSheet (tests: a failing stream, small progress steps). */
  writer?: Pick<XlsxOptions, 'openStream' | 'progressEvery'>;
}

/** The SQL scope of the caller (main/auth/permissions.ts scopeSql) and whether it spans several providers. */
export interface ExportScope {
  sql: { sql: string; params: Record<string, string> };
  wide: boolean;
}

/** Finished exports kept for their last poll. */
const KEEP_FINISHED = 20;

const COLUMN_TYPES: Record<ExportColumn, { type: XlsxColumn['type']; width: number }> = {
  number: { type: 'text', width: 20 },
  service: { type: 'text', width: 48 },
  iin: { type: 'text', width: 15 },
  applicantName: { type: 'text', width: 32 },
  submittedAt: { type: 'datetime', width: 17 },
  status: { type: 'text', width: 18 },
  decision: { type: 'text', width: 16 },
  responsible: { type: 'text', width: 28 },
  portalNumber: { type: 'text', width: 20 },
  daysWaiting: { type: 'number', width: 12 },
  dueAt: { type: 'datetime', width: 17 },
  bin: { type: 'text', width: 15 },
  locality: { type: 'text', width: 28 },
};

interface Job {
  id: string;
  owner: string;
  controller: AbortController;
  progress: ExportProgress;
  done: Promise<void>;
}

/** The target the harness names: an absolute path of an .xlsx file in an existing folder. */
export function checkTarget(path: string | undefined): string {
  const bad = () => new ServiceError('export_bad_path', 'errors.exportBadPath');
  if (!path || path.includes('\0') || !isAbsolute(path) || extname(path).toLowerCase() !== '.xlsx') throw bad();
  if (basename(path).startsWith('.')) throw bad();
  try {
    if (!statSync(dirname(path)).isDirectory()) throw bad();
  } catch {
    throw bad();
  }
  return path;
}

const MESSAGE_KEYS: Record<XlsxError['code'], string> = {
  cancelled: 'errors.exportCancelled',
  disk_full: 'errors.exportDiskFull',
  no_access: 'errors.exportNoAccess',
  write_failed: 'errors.exportWriteFailed',
};

function dayText(date: string): string {
  const [y, m, d] = date.split('-');
  return `${d}.${m}.${y}`;
}

export class JournalExporter {
  private readonly jobs = new Map<string, Job>();
  private readonly now: () => number;

  constructor(private readonly options: JournalExporterOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Starts an export for `owner` (a user id) and answers at once with its first progress. */
  async start(request: ExportRequest, owner: string, scope: ExportScope): Promise<ExportProgress> {
    for (const job of this.jobs.values()) {
      if (job.owner === owner && job.progress.state === 'running') {
        throw new ServiceError('export_busy', 'errors.exportBusy');
      }
    }
    let target: string;
    if (this.options.chooseSavePath) {
      const stamp = new Date(this.now()).toISOString().slice(0, 10);
      const chosen = await this.options.chooseSavePath(`${request.labels.sheet || 'journal'} ${stamp}.xlsx`);
      if (chosen === null) {
        return { exportId: '', state: 'cancelled', rows: 0, total: null, fileName: null, error: null };
      }
      target = checkTarget(extname(chosen).toLowerCase() === '.xlsx' ? chosen : `${chosen}.xlsx`);
    } else {
      target = checkTarget(request.path);
    }

    const { total, chunks } = this.options.journal.exportRows(request.query, scope.sql);
    const id = randomUUID();
    const controller = new AbortController();
    const progress: ExportProgress = {
      exportId: id,
      state: 'running',
      rows: 0,
      total,
      fileName: null,
      error: null,
    };
    const job: Job = { id, owner, controller, progress, done: Promise.resolve() };
    this.jobs.set(id, job);
    this.prune();

    job.done = writeSheet(
      target,
      {
        title: request.labels.sheet,
        meta: this.meta(request, total),
        columns: this.columns(request.labels, scope.wide),
        rows: this.records(chunks, request),
      },
      {
        ...this.options.writer,
        ...(this.options.timeZone ? { timeZone: this.options.timeZone } : {}),
        signal: controller.signal,
        onProgress: (rows) => {
          progress.rows = rows;
        },
      },
    ).then(
      (result) => {
        progress.rows = result.rows;
        progress.state = 'done';
        progress.fileName = basename(target);
      },
      (err: unknown) => {
        const failure = err instanceof XlsxError ? err : new XlsxError('write_failed', { cause: err });
        if (failure.code === 'cancelled') {
          progress.state = 'cancelled';
        } else {
          progress.state = 'failed';
          progress.error = { code: `export_${failure.code}`, messageKey: MESSAGE_KEYS[failure.code] };
        }
      },
    );
    return { ...progress };
  }

  progress(id: string, owner: string): ExportProgress {
    return { ...this.job(id, owner).progress };
  }

  /** Cancels a running export (a finished one stays as it is). */
  cancel(id: string, owner: string): ExportProgress {
    const job = this.job(id, owner);
    if (job.progress.state === 'running') job.controller.abort();
    return { ...job.progress };
  }

  /** Resolves when the export has finished (tests, shutdown). */
  async settled(id: string): Promise<ExportProgress | null> {
    const job = this.jobs.get(id);
    if (!job) return null;
    await job.done;
    return { ...job.progress };
  }

  /** Cancels every running export and waits for them (logout, quit). */
  async cancelAll(): Promise<void> {
    for (const job of this.jobs.values()) if (job.progress.state === 'running') job.controller.abort();
    await Promise.all([...this.jobs.values()].map((j) => j.done));
  }

  private job(id: string, owner: string): Job {
    const job = this.jobs.get(id);
    if (!job || job.owner !== owner) throw new ServiceError('notFound', 'errors.exportNotFound');
    return job;
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.progress.state !== 'running');
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(j.id);
  }

  private columns(labels: ExportLabels, wide: boolean): XlsxColumn[] {
    return (Object.keys(COLUMN_TYPES) as ExportColumn[])
      .filter((c) => wide || (c !== 'bin' && c !== 'locality'))
      .map((key) => ({ key, header: labels.columns[key], ...COLUMN_TYPES[key] }));
  }

  private meta(request: ExportRequest, total: number): [string, string | number | Date][] {
    const { labels, query } = request;
    const period = `${query.dateFrom ? dayText(query.dateFrom) : labels.meta.any} – ${
      query.dateTo ? dayText(query.dateTo) : labels.meta.any
    }`;
    const meta: [string, string | number | Date][] = [
      [labels.meta.period, period],
      [labels.meta.exportedAt, new Date(this.now())],
      [labels.meta.rows, total],
    ];
    if (labels.filters.trim() !== '') meta.push([labels.meta.filters, labels.filters.trim()]);
    return meta;
  }

  private *records(
    chunks: Iterable<ReturnType<Journal['list']>['rows']>,
    { language, labels }: ExportRequest,
  ): Generator<Record<ExportColumn, unknown>> {
    for (const chunk of chunks) {
      for (const r of chunk) {
        yield {
          number: r.number,
          service: r.serviceName[language],
          iin: r.applicantIin,
          applicantName: r.applicantName,
          submittedAt: r.submittedAt,
          status: labels.status[r.status],
          decision: labels.decision[r.decision],
          responsible: r.responsibleName,
          portalNumber: r.portalNumber,
          daysWaiting: r.daysWaiting,
          dueAt: r.dueAt,
          bin: r.providerBin,
          locality: r.locality,
        };
      }
    }
  }
}
