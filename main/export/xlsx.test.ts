/**
 * The streaming sheet writer, read back with exceljs: real dates and numbers,
 * the frozen and filtered header, the meta lines; a cancel half-way and a
 * disk that fills leave nothing under the chosen name and no temporary file.
 */
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sheetName, writeSheet, XlsxError, type XlsxColumn } from './xlsx.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-xlsx-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COLUMNS: XlsxColumn[] = [
  { key: 'name', header: 'Name', type: 'text', width: 20 },
  { key: 'iin', header: 'IIN', type: 'text' },
  { key: 'at', header: 'At', type: 'datetime' },
  { key: 'day', header: 'Day', type: 'date' },
  { key: 'n', header: 'N', type: 'number', width: 8 },
];
const T0 = Date.UTC(2026, 2, 14, 9, 45, 30);

function* rows(count: number, onRow?: (i: number) => void) {
  for (let i = 0; i < count; i++) {
    onRow?.(i);
    yield { name: `Әлия ${i}`, iin: '010203400123', at: T0 + i * 60_000, day: '2026-03-14', n: i % 7 === 0 ? null : i };
  }
}

async function read(file: string): Promise<ExcelJS.Worksheet> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  return wb.worksheets[0]!;
}

const leftovers = (name: string) => readdirSync(dir).filter((f) => f.includes(name));

describe('writeSheet', () => {
  it('writes real dates and numbers, a frozen styled header with an autofilter, widths and the meta lines', async () => {
    const file = join(dir, 'types.xlsx');
    const seen: number[] = [];
    const exported = new Date(Date.UTC(2026, 2, 15, 12, 0));
    const result = await writeSheet(
      file,
      {
        title: 'Journal: 2026/03',
        meta: [
          ['Period', '01.03.2026 – 31.03.2026'],
          ['Exported', exported],
        ],
        columns: COLUMNS,
        rows: rows(2_500),
      },
      { timeZone: 'UTC', progressEvery: 1_000, onProgress: (n) => seen.push(n) },
    );
    expect(result.rows).toBe(2_500);
    expect(seen).toEqual([1_000, 2_000, 2_500]);

    const ws = await read(file);
    expect(ws.name).toBe('Journal  2026 03');
    expect(ws.getCell('A1').value).toBe('Period');
    expect(ws.getCell('B1').value).toBe('01.03.2026 – 31.03.2026');
    expect(ws.getCell('B2').value).toEqual(exported);
    // Header on row 4 (two meta lines, one blank), frozen under it, filtered over the whole table.
    expect(ws.getRow(4).values).toEqual([undefined, 'Name', 'IIN', 'At', 'Day', 'N']);
    expect(ws.getCell('A4').font?.bold).toBe(true);
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 4 });
    expect(ws.autoFilter).toBe('A4:E2504');
    expect(ws.getColumn(1).width).toBe(20);
    expect(ws.getColumn(5).width).toBe(8);

    const first = ws.getRow(5);
    expect(first.getCell(1).value).toBe('Әлия 0');
    expect(first.getCell(2).value).toBe('010203400123'); // text: the leading zero stays
    expect(first.getCell(3).value).toBeInstanceOf(Date);
    expect((first.getCell(3).value as Date).getTime()).toBe(T0);
    expect(first.getCell(3).numFmt).toBe('dd.mm.yyyy hh:mm');
    expect(first.getCell(4).value).toEqual(new Date('2026-03-14T00:00:00Z'));
    expect(first.getCell(4).numFmt).toBe('dd.mm.yyyy');
    expect(first.getCell(5).value).toBeNull();
    const tenth = ws.getRow(5 + 10);
    expect(tenth.getCell(5).value).toBe(10);
    expect(tenth.getCell(5).type).toBe(ExcelJS.ValueType.Number);
    expect((tenth.getCell(3).value as Date).getTime()).toBe(T0 + 10 * 60_000);
    expect(ws.getRow(2504).getCell(1).value).toBe('Әлия 2499');
    expect(leftovers('types.xlsx.')).toEqual([]);
  });

  it('takes the wall-clock time of the zone asked for (Excel has no zones)', async () => {
    const file = join(dir, 'zone.xlsx');
    await writeSheet(
      file,
      { title: 'z', columns: [{ key: 'at', header: 'At', type: 'datetime' }], rows: [{ at: T0 }] },
      { timeZone: 'Asia/Almaty' },
    );
    const ws = await read(file);
    // No meta: the header is row 1 and the table starts on row 2.
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(ws.getCell('A2').value).toEqual(new Date(T0 + 5 * 3_600_000));
  });

  it('takes an async iterable of rows', async () => {
    const file = join(dir, 'async.xlsx');
    async function* slow() {
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve) => setImmediate(() => resolve()));
        yield { name: `r${i}`, n: String(i * 2) };
      }
    }
    await writeSheet(file, { title: 'a', columns: COLUMNS, rows: slow() });
    const ws = await read(file);
    expect(ws.getCell('A4').value).toBe('r2');
    expect(ws.getCell('E4').value).toBe(4);
  });

  it('cancelled half-way: no file under the chosen name, an older file there untouched, no temporary file', async () => {
    const file = join(dir, 'cancel.xlsx');
    writeFileSync(file, 'the export of last week');
    const controller = new AbortController();
    let produced = 0;
    const run = writeSheet(
      file,
      {
        title: 'c',
        columns: COLUMNS,
        rows: rows(100_000, (i) => {
          produced = i;
          if (i === 5_000) controller.abort();
        }),
      },
      { signal: controller.signal, progressEvery: 500 },
    );
    await expect(run).rejects.toMatchObject({ name: 'XlsxError', code: 'cancelled' });
    expect(produced).toBeLessThan(6_000);
    expect(readFileSync(file, 'utf8')).toBe('the export of last week');
    expect(leftovers('cancel.xlsx.')).toEqual([]);
  });

  it('a disk that fills during the export (ENOSPC): disk_full, no half file, no temporary file', async () => {
    const file = join(dir, 'full.xlsx');
    let opened: string | null = null;
    const openStream = (path: string) => {
      opened = path;
      const stream = createWriteStream(path);
      let bytes = 0;
      const full = (size: number, write: () => void, cb: (err?: Error | null) => void) => {
        bytes += size;
        if (bytes > 64 * 1024) cb(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
        else write();
      };
      const write = stream._write.bind(stream);
      const writev = stream._writev?.bind(stream);
      stream._write = (chunk: Buffer, enc, cb) => full(chunk.length, () => write(chunk, enc, cb), cb);
      if (writev) {
        stream._writev = (chunks, cb) =>
          full(
            chunks.reduce((n, c) => n + (c.chunk as Buffer).length, 0),
            () => writev(chunks, cb),
            cb,
          );
      }
      return stream;
    };
    const run = writeSheet(file, { title: 'f', columns: COLUMNS, rows: rows(50_000) }, { openStream });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XlsxError);
    expect((err as XlsxError).code).toBe('disk_full');
    expect(opened).not.toBeNull();
    expect(existsSync(opened!)).toBe(false);
    expect(existsSync(file)).toBe(false);
    expect(leftovers('full.xlsx')).toEqual([]);
  });

  it('a folder that is not there: no_access, nothing written', async () => {
    const file = join(dir, 'missing', 'x.xlsx');
    await expect(writeSheet(file, { title: 'm', columns: COLUMNS, rows: rows(10) })).rejects.toMatchObject({
      code: 'no_access',
    });
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('escapes markup and drops characters XML cannot hold; keeps edge spaces', async () => {
    const file = join(dir, 'escape.xlsx');
    const name = ' ТОО «Ақ & Көк» <b>\u0001 ';
    await writeSheet(file, { title: 'e', columns: COLUMNS, rows: [{ name, iin: '</t></is>' }] });
    const ws = await read(file);
    expect(ws.getCell('A2').value).toBe(' ТОО «Ақ & Көк» <b> ');
    expect(ws.getCell('B2').value).toBe('</t></is>');
  });

  it('cleans sheet names for Excel (31 characters, none of []:*?/\\)', () => {
    expect(sheetName('a/b\\c[d]e:f*g?h')).toBe('a b c d e f g h');
    expect(sheetName('x'.repeat(40))).toHaveLength(31);
    expect(sheetName('  ')).toBe('Sheet');
  });
});
