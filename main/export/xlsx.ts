/**
 * A small streaming sheet writer over exceljs's WorkbookWriter (stream.xlsx),
 * shared by the journal export and the monitoring report. Stable API:
 *
 *   await writeSheet(file, {
 *     title: 'Journal',                       // sheet name (cut to 31 chars, []:*?/\ removed)
 *     meta: [['Period', '2024-01-01 – 2024-12-31'], ['Exported', new Date()]],
 *     columns: [{ key: 'number', header: 'No.', type: 'text', width: 18 }, ...],
 *     rows,                                   // Iterable or AsyncIterable of Record<key, value>
 *   }, { onProgress: (rows) => ..., signal });
 *   // → { rows: number of data rows written, file }
 *
 * Sheet layout: the meta lines (label in A, value in B; Date values shown as
 * date-time), one blank row, the header row (bold, filled, frozen, with an
 * autofilter over the table), then the rows.
 *
 * Cell types, so that Excel sorts and sums them:
 *  - 'text': String(value);
 *  - 'number': a finite number (numeric strings are converted), otherwise empty;
 *  - 'date' / 'datetime': a Date, epoch milliseconds, or an ISO string
 *    ('YYYY-MM-DD' is a calendar day). Excel has no time zones: a cell holds
 *    the wall-clock time of the workstation's zone (`timeZone` below).
 *  null / undefined → an empty cell.
 *
 * Rows are committed as they stream and the writer waits for the file to
 * drain, so memory stays bounded whatever the row count.
 *
 * The workbook is written to a temporary file beside `file` and renamed onto
 * it at the end: a cancelled (`signal`) or failed (ENOSPC…) export leaves
 * nothing under `file` (an older file there stays as it was) and removes the
 * temporary file. Failures throw an XlsxError with `code`:
 * 'cancelled' | 'disk_full' | 'no_access' | 'write_failed'.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import ExcelJS from 'exceljs';

export type XlsxColumnType = 'text' | 'number' | 'date' | 'datetime';

export interface XlsxColumn {
  key: string;
  header: string;
  type: XlsxColumnType;
  /** Width in characters. Default 14. */
  width?: number;
}

export interface XlsxSheet {
  title: string;
  /** Lines above the table: [label, value]. A Date value is written as a date-time cell. */
  meta?: readonly (readonly [string, string | number | Date])[];
  columns: readonly XlsxColumn[];
  rows: Iterable<Record<string, unknown>> | AsyncIterable<Record<string, unknown>>;
}

export interface XlsxOptions {
  /** Called with the number of rows written so far (every `progressEvery` rows and at the end). */
  onProgress?: (rows: number) => void;
  /** Aborting it cancels the export: XlsxError 'cancelled', no file left. */
  signal?: AbortSignal;
  /** Rows between progress calls and flushes. Default 1,000. */
  progressEvery?: number;
  /** IANA zone the date cells' wall-clock time is taken in. Default: the workstation's. */
  timeZone?: string;
  /** Opens the temporary file (tests inject a failing stream). Default fs.createWriteStream. */
  openStream?: (path: string) => Writable;
}

export interface XlsxResult {
  rows: number;
  file: string;
}

export type XlsxErrorCode = 'cancelled' | 'disk_full' | 'no_access' | 'write_failed';

export class XlsxError extends Error {
  constructor(
    readonly code: XlsxErrorCode,
    options?: { cause?: unknown },
  ) {
    super(`xlsx export ${code}`, options);
    this.name = 'XlsxError';
  }
}

const DATE_FORMAT = 'dd.mm.yyyy';
const DATETIME_FORMAT = 'dd.mm.yyyy hh:mm';
const NUMBER_FORMAT = '0';

const CELL_STYLES: Record<XlsxColumnType, Partial<ExcelJS.Style>> = {
  text: {},
  number: { numFmt: NUMBER_FORMAT },
  date: { numFmt: DATE_FORMAT },
  datetime: { numFmt: DATETIME_FORMAT },
};

const HEADER_STYLE: Partial<ExcelJS.Style> = {
  font: { bold: true, color: { argb: 'FFFFFFFF' } },
  fill: { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FF1F4E78' } },
  alignment: { vertical: 'middle', wrapText: true },
  border: { bottom: { style: 'thin', color: { argb: 'FF000000' } } },
};

/** Excel sheet names: at most 31 characters, none of []:*?/\ . */
export function sheetName(title: string): string {
  const clean = title.replace(/[[\]:*?/\\]/g, ' ').trim();
  return (clean || 'Sheet').slice(0, 31);
}

/**
 * A Date whose UTC fields are the wall-clock time of `ms` in `timeZone`
 * (exceljs writes a Date's UTC fields into the cell).
 */
function wallClock(ms: number, zone: Intl.DateTimeFormat | null): Date {
  if (!zone) {
    const offset = new Date(ms).getTimezoneOffset();
    return new Date(ms - offset * 60_000);
  }
  const parts: Record<string, number> = {};
  for (const p of zone.formatToParts(ms)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return new Date(
    Date.UTC(
      parts.year!,
      parts.month! - 1,
      parts.day!,
      parts.hour! % 24,
      parts.minute!,
      parts.second!,
      ms % 1000 < 0 ? 0 : ms % 1000,
    ),
  );
}

function cellValue(value: unknown, type: XlsxColumnType, zone: Intl.DateTimeFormat | null): ExcelJS.CellValue {
  if (value === null || value === undefined || value === '') return null;
  switch (type) {
    case 'text':
      return value instanceof Date ? value.toISOString() : String(value);
    case 'number': {
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isFinite(n) ? n : null;
    }
    case 'date':
    case 'datetime': {
      if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
        // A calendar day: no zone to apply.
        return new Date(`${value}T00:00:00Z`);
      }
      const ms =
        value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(String(value));
      if (!Number.isFinite(ms)) return null;
      const wall = wallClock(ms, zone);
      if (type === 'date') wall.setUTCHours(0, 0, 0, 0);
      return wall;
    }
  }
}

/** Characters XML 1.0 does not allow (exceljs drops them too), built from code points for the linter. */
const INVALID_XML = new RegExp(
  `[${String.fromCharCode(0)}-${String.fromCharCode(8)}${String.fromCharCode(11, 12)}${String.fromCharCode(14)}-${String.fromCharCode(31)}\uFFFE\uFFFF]`,
  'g',
);
/** Rendered rows allowed to wait for the zip before the writer waits. */
const BACKLOG_BYTES = 4 * 1024 * 1024;
/** Excel's limit on one cell's text. */
const MAX_TEXT = 32_767;

function escapeText(text: string): string {
  return text.replace(INVALID_XML, '').replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** Column letters of 1-based `n`: 1 → A, 27 → AA. */
function columnLetters(n: number): string {
  let s = '';
  for (let k = n; k > 0; k = Math.floor((k - 1) / 26)) s = String.fromCharCode(65 + ((k - 1) % 26)) + s;
  return s;
}

/** Excel's serial day number of a Date whose UTC fields hold the wall-clock time (exceljs's dateToExcel). */
const excelSerial = (wall: Date) => 25_569 + wall.getTime() / 86_400_000;

/**
 * One data row's XML, as exceljs's row and cell xforms write it (inline
 * strings instead of its t="str"): exceljs's per-cell objects cost a few µs
 * a cell, 100,000 rows of 13 columns several seconds; this costs a tenth.
 */
function rowXml(
  rowNumber: number,
  values: readonly ExcelJS.CellValue[],
  letters: readonly string[],
  styleIds: readonly number[],
): string {
  let xml = `<row r="${rowNumber}" spans="1:${values.length}" x14ac:dyDescent="0.25">`;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    const s = styleIds[i] ? ` s="${styleIds[i]}"` : '';
    const ref = `${letters[i]}${rowNumber}`;
    if (typeof v === 'number') xml += `<c r="${ref}"${s}><v>${v}</v></c>`;
    else if (v instanceof Date) xml += `<c r="${ref}"${s}><v>${excelSerial(v)}</v></c>`;
    else {
      const text = escapeText(String(v).slice(0, MAX_TEXT));
      // Spaces at either end are kept only when the text says so.
      const space = /^\s|\s$/.test(text) ? ' xml:space="preserve"' : '';
      xml += `<c r="${ref}"${s} t="inlineStr"><is><t${space}>${text}</t></is></c>`;
    }
  }
  return xml + '</row>';
}

/** The parts of exceljs's streaming worksheet writer the data rows are written through. */
interface SheetInternals {
  stream: { write(data: string): void };
  startedData: boolean;
  _writeColumns(): void;
  _writeOpenSheetData(): void;
}
interface StylesInternals {
  addStyleModel(style: Partial<ExcelJS.Style>, cellType: ExcelJS.ValueType): number;
}

function classify(err: unknown): XlsxError {
  if (err instanceof XlsxError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new XlsxError('disk_full', { cause: err });
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOENT' || code === 'ENOTDIR')
    return new XlsxError('no_access', { cause: err });
  return new XlsxError('write_failed', { cause: err });
}

/** Writes one sheet to `file` (see the file's comment). */
export async function writeSheet(file: string, sheet: XlsxSheet, options: XlsxOptions = {}): Promise<XlsxResult> {
  const { signal, onProgress } = options;
  const every = Math.max(1, options.progressEvery ?? 1_000);
  const zone = options.timeZone
    ? new Intl.DateTimeFormat('en-US', {
        timeZone: options.timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      })
    : null;
  if (signal?.aborted) throw new XlsxError('cancelled');

  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.part`);
  let out: Writable;
  try {
    out = (options.openStream ?? createWriteStream)(temp);
  } catch (err) {
    throw classify(err);
  }
  // The first stream error (ENOSPC…) ends the export; later ones are the same failure.
  let failure: unknown = null;
  const failed = new Promise<never>((_, reject) => {
    out.on('error', (err) => {
      failure ??= err;
      reject(err);
    });
  });
  failed.catch(() => undefined);
  const aborted = new Promise<never>((_, reject) => {
    signal?.addEventListener('abort', () => reject(new XlsxError('cancelled')), { once: true });
  });
  aborted.catch(() => undefined);
  const check = () => {
    if (failure) throw classify(failure);
    if (signal?.aborted) throw new XlsxError('cancelled');
  };
  /**
   * Lets the zip and the file catch up, so memory holds a few MB of rows
   * whatever their number: exceljs's sheet stream passes its 64 KB buffers on
   * to the zip entry's input without heeding backpressure (and that input, an
   * old-style stream, has no `writableNeedDrain`), so the writer watches the
   * entry's buffered length itself, then the file's.
   */
  let sheetStream: { buffers?: unknown[]; pipes?: Writable[] } | null = null;
  const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const flush = async () => {
    await new Promise<void>((resolve) => setImmediate(() => resolve()));
    for (;;) {
      check();
      const entry = sheetStream?.pipes?.[0] as (Writable & { _writableState?: { length: number } }) | undefined;
      const queued = (entry?._writableState?.length ?? 0) + (sheetStream?.buffers?.length ?? 0) * 65_536;
      if (queued > BACKLOG_BYTES) await Promise.race([pause(2), failed, aborted]);
      else if (out.writableNeedDrain)
        await Promise.race([new Promise<void>((resolve) => out.once('drain', () => resolve())), failed, aborted]);
      else break;
    }
  };

  let written = 0;
  try {
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
      stream: out,
      useStyles: true,
      useSharedStrings: false,
      // The fastest deflate: the sheet's XML is repetitive, level 1 still packs it about tenfold.
      zip: { zlib: { level: 1 } },
    });
    const meta = sheet.meta ?? [];
    const headerRow = meta.length > 0 ? meta.length + 2 : 1;
    const ws = workbook.addWorksheet(sheetName(sheet.title), {
      views: [{ state: 'frozen', xSplit: 0, ySplit: headerRow, activeCell: `A${headerRow + 1}` }],
    });
    ws.columns = sheet.columns.map((c) => ({
      key: c.key,
      width: c.width ?? 14,
    }));

    for (const [label, value] of meta) {
      const row = ws.addRow([label, value instanceof Date ? wallClock(value.getTime(), zone) : value]);
      row.getCell(1).font = { bold: true };
      if (value instanceof Date) row.getCell(2).numFmt = DATETIME_FORMAT;
      row.commit();
    }
    if (meta.length > 0) ws.addRow([]).commit();

    const header = ws.addRow(sheet.columns.map((c) => c.header));
    header.height = 30;
    header.eachCell((cell) => {
      cell.style = HEADER_STYLE;
    });
    header.commit();

    // The data rows go straight into the sheet's stream (rowXml), with the style ids exceljs gives.
    const styleIds = sheet.columns.map((c) =>
      (workbook as unknown as { styles: StylesInternals }).styles.addStyleModel(
        CELL_STYLES[c.type],
        c.type === 'text'
          ? ExcelJS.ValueType.String
          : c.type === 'number'
            ? ExcelJS.ValueType.Number
            : ExcelJS.ValueType.Date,
      ),
    );
    const letters = sheet.columns.map((_, i) => columnLetters(i + 1));
    const internals = ws as unknown as SheetInternals;
    sheetStream = internals.stream as unknown as typeof sheetStream;
    if (!internals.startedData) {
      internals._writeColumns();
      internals._writeOpenSheetData();
      internals.startedData = true;
    }
    for await (const record of sheet.rows as AsyncIterable<Record<string, unknown>>) {
      const values = sheet.columns.map((c) => cellValue(record[c.key], c.type, zone));
      internals.stream.write(rowXml(headerRow + written + 1, values, letters, styleIds));
      written++;
      if (written % every === 0) {
        onProgress?.(written);
        await flush();
      }
    }
    check();

    const lastRow = headerRow + Math.max(written, 0);
    ws.autoFilter = {
      from: { row: headerRow, column: 1 },
      to: { row: lastRow, column: sheet.columns.length },
    };
    ws.commit();
    await Promise.race([workbook.commit(), failed, aborted]);
    // workbook.commit resolves when the zip is finalized; wait for the file itself.
    if (!out.writableFinished) {
      await Promise.race([new Promise<void>((resolve) => out.once('finish', () => resolve())), failed, aborted]);
    }
    await Promise.race([
      new Promise<void>((resolve) => (out.closed ? resolve() : out.once('close', () => resolve()))),
      failed,
    ]);
    check();
    await rename(temp, file);
    onProgress?.(written);
    return { rows: written, file };
  } catch (err) {
    out.destroy();
    await new Promise<void>((resolve) => (out.closed ? resolve() : out.once('close', () => resolve())));
    await unlink(temp).catch(() => undefined);
    throw classify(signal?.aborted ? new XlsxError('cancelled') : (failure ?? err));
  }
}
