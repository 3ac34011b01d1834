/**
 * The journal's Excel export through dispatch and the gate: every row of the
 * search within the caller's scope, read back with exceljs; the path the
 * renderer names is checked; Cancel and a full disk leave no half file; an
 * export is its starter's alone.
 */
import { createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallOutput } from '#preload/api.js';
import { dispatch, type Handlers } from '../rpc.js';
import { Journal } from '../journal/journal.js';
import { journalHandlers } from '../journal/handlers.js';
import { addUser, harness, TEST_PASSWORD, testDatabase, testIin, type Harness, type TestDb } from '../auth/testing.js';
import { JournalExporter } from './journal-export.js';
import { exportLabels } from './testing.js';

let db: TestDb;
let out: string;
let journal: Journal;

beforeAll(async () => {
  db = await testDatabase(1_200);
  out = mkdtempSync(join(db.dir, 'out-'));
  journal = new Journal(db.sqlite, (code) => ({ kk: `kk ${code}`, ru: `ru ${code}`, en: `en ${code}` }), {
    now: db.clock.now,
    daysWaiting: (from, now) => Math.floor((now - from) / 86_400_000),
  });
  const p0 = db.providers[0]!.id;
  addUser(db, { id: 'x-clerk', login: 'x.clerk', iin: testIin(301), roles: [{ role: 'clerk', providerId: p0 }] });
  addUser(db, { id: 'x-head', login: 'x.head', iin: testIin(302), roles: [{ role: 'head', providerId: p0 }] });
  addUser(db, { id: 'x-mon', login: 'x.mon', iin: testIin(303), roles: [{ role: 'monitoring', providerId: '' }] });
});
afterAll(() => db.close());

interface Caller {
  h: Harness;
  exporter: JournalExporter;
  run: <T = CallOutput<'journal.export'>>(channel: string, input: unknown) => Promise<T>;
  fail: (channel: string, input: unknown) => Promise<{ code: string; messageKey: string }>;
}

/** A logged-in user with the journal's handlers behind the gate; `exporter` shared when given. */
async function as(login: string, exporter?: JournalExporter): Promise<Caller> {
  const h = harness(db);
  await h.call('auth.loginPassword', { login, password: TEST_PASSWORD });
  const ex = exporter ?? new JournalExporter({ journal, timeZone: 'UTC', now: db.clock.now });
  const handlers: Handlers = {
    ...h.handlers,
    ...journalHandlers(journal, (p) => h.gate.scopeFor(p, 'journal.list'), { exporter: ex }),
  };
  const raw = (channel: string, input: unknown) =>
    dispatch(handlers, channel as 'journal.export', input, { transport: 'bridge' });
  return {
    h,
    exporter: ex,
    run: async (channel, input) => {
      const r = await raw(channel, input);
      if (!r.ok) throw new Error(`${channel}: ${JSON.stringify(r.error)}`);
      return r.value as never;
    },
    fail: async (channel, input) => {
      const r = await raw(channel, input);
      if (r.ok) throw new Error(`${channel} succeeded`);
      return r.error;
    },
  };
}

const request = (path: string, query: Record<string, unknown> = {}) => ({
  query,
  language: 'ru',
  labels: { ...exportLabels('ru'), filters: 'Статус: все' },
  path,
});

async function sheet(file: string): Promise<ExcelJS.Worksheet> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  return wb.worksheets[0]!;
}

const headers = (ws: ExcelJS.Worksheet, row: number) => (ws.getRow(row).values as unknown[]).slice(1);

describe('journal.export', () => {
  it('exports every application of the search (not only the page), in the journal order, with real types', async () => {
    const head = await as('x.head');
    const file = join(out, 'head.xlsx');
    const started = await head.run('journal.export', request(file, { sort: 'number', direction: 'asc' }));
    expect(started.state).toBe('running');
    const done = await head.exporter.settled(started.exportId);
    expect(done).toMatchObject({ state: 'done', fileName: 'head.xlsx', error: null });

    const p0 = db.providers[0]!.id;
    const count = db.sqlite.prepare('SELECT count(*) FROM applications WHERE provider_id = ?').pluck().get(p0);
    expect(done!.rows).toBe(count);
    expect(done!.total).toBe(count);
    expect(count).toBeGreaterThan(50); // more than one page of the journal

    const ws = await sheet(file);
    // Meta: period, export time (a date), the number of applications, the filters; then a blank row and the header.
    expect(headers(ws, 1)).toEqual(['Period', '… – …']);
    const exportedAt = ws.getCell('B2').value;
    expect(exportedAt).toBeInstanceOf(Date);
    expect(Math.abs((exportedAt as Date).getTime() - db.clock.now())).toBeLessThan(1_000);
    expect(headers(ws, 3)).toEqual(['Applications', count]);
    expect(headers(ws, 4)).toEqual(['Filters', 'Статус: все']);
    expect(headers(ws, 6)).toEqual([
      'ru:number',
      'ru:service',
      'ru:iin',
      'ru:applicantName',
      'ru:submittedAt',
      'ru:status',
      'ru:decision',
      'ru:responsible',
      'ru:portalNumber',
      'ru:daysWaiting',
      'ru:dueAt',
    ]);
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 6 });
    expect(ws.autoFilter).toBe(`A6:K${6 + (count as number)}`);

    const page = journal.list(
      { page: 0, pageSize: 500, sort: 'number', direction: 'asc' },
      {
        sql: '(a.provider_id IN (@scopeP0))',
        params: { scopeP0: p0 },
      },
    ).rows;
    for (const i of [0, 1, 17, page.length - 1]) {
      const r = page[i]!;
      const row = ws.getRow(7 + i);
      expect(row.getCell(1).value).toBe(r.number);
      expect(row.getCell(2).value).toBe(r.serviceName.ru);
      expect(row.getCell(3).value).toBe(r.applicantIin);
      expect(row.getCell(4).value).toBe(r.applicantName);
      const submitted = row.getCell(5).value;
      expect(submitted).toBeInstanceOf(Date);
      expect(Math.abs((submitted as Date).getTime() - r.submittedAt)).toBeLessThan(1_000);
      expect(row.getCell(6).value).toBe(`ru:${r.status}`);
      expect(row.getCell(7).value).toBe(`ru:${r.decision}`);
      expect(row.getCell(8).value).toBe(r.responsibleName);
      const days = row.getCell(10).value;
      if (r.daysWaiting === null) expect(days).toBeNull();
      else expect(days).toBe(r.daysWaiting);
      const due = row.getCell(11).value;
      if (r.dueAt === null) expect(due).toBeNull();
      else expect(Math.abs((due as Date).getTime() - r.dueAt)).toBeLessThan(1_000);
    }
    expect(page.some((r) => r.daysWaiting !== null)).toBe(true);
  });

  it('keeps to the filters: a status filter exports only that status', async () => {
    const head = await as('x.head');
    const file = join(out, 'filtered.xlsx');
    const started = await head.run('journal.export', request(file, { status: 'completed' }));
    const done = await head.exporter.settled(started.exportId);
    const ws = await sheet(file);
    const statuses = new Set<unknown>();
    for (let i = 0; i < done!.rows; i++) statuses.add(ws.getRow(7 + i).getCell(6).value);
    expect(done!.rows).toBeGreaterThan(0);
    expect([...statuses]).toEqual(['ru:completed']);
  });

  it('attack: a clerk exports the journal with no filters to get other offices’ applications — only their provider’s rows', async () => {
    const clerk = await as('x.clerk');
    const file = join(out, 'clerk.xlsx');
    const started = await clerk.run('journal.export', request(file));
    const done = await clerk.exporter.settled(started.exportId);
    const mine = new Set(
      db.sqlite.prepare('SELECT number FROM applications WHERE provider_id = ?').pluck().all(db.providers[0]!.id),
    );
    const all = db.sqlite.prepare('SELECT count(*) FROM applications').pluck().get() as number;
    expect(all).toBeGreaterThan(mine.size);
    expect(done!.rows).toBe(mine.size);
    const ws = await sheet(file);
    for (let i = 0; i < done!.rows; i++) expect(mine.has(ws.getRow(7 + i).getCell(1).value)).toBe(true);
    // No BIN or locality columns for one provider's journal.
    expect(headers(ws, 6)).not.toContain('ru:bin');
  });

  it('a country-wide monitoring officer exports every application, with BIN and locality', async () => {
    const mon = await as('x.mon');
    const file = join(out, 'mon.xlsx');
    const done = await mon.exporter.settled((await mon.run('journal.export', request(file))).exportId);
    expect(done!.rows).toBe(db.sqlite.prepare('SELECT count(*) FROM applications').pluck().get());
    const ws = await sheet(file);
    expect(headers(ws, 6).slice(-2)).toEqual(['ru:bin', 'ru:locality']);
    expect(String(ws.getRow(7).getCell(12).value)).toMatch(/^\d{12}$/);
  });

  it('attack: the renderer names a file that is not an absolute .xlsx path in an existing folder — refused', async () => {
    const head = await as('x.head');
    for (const path of [
      undefined,
      'relative.xlsx',
      join(out, 'x.csv'),
      join(out, '.bashrc.xlsx'),
      join(out, 'no-such-dir', 'x.xlsx'),
      `${join(out, 'a')}\0.xlsx`,
    ]) {
      const error = await head.fail('journal.export', { ...request(''), path });
      expect(error, String(path)).toMatchObject({ code: 'export_bad_path', messageKey: 'errors.exportBadPath' });
    }
    expect(readdirSync(out).filter((f) => !f.endsWith('.xlsx') || f.startsWith('.'))).toEqual([]);
  });

  it('Cancel: the export stops, no file under the chosen name, no temporary file', async () => {
    const exporter = new JournalExporter({ journal, writer: { progressEvery: 10 } });
    const head = await as('x.head', exporter);
    const file = join(out, 'cancelled.xlsx');
    const started = await head.run('journal.export', request(file));
    const cancelled = await head.run('export.cancel', { exportId: started.exportId });
    expect(['running', 'cancelled']).toContain(cancelled.state);
    const done = await exporter.settled(started.exportId);
    expect(done).toMatchObject({ state: 'cancelled', error: null });
    expect(done!.rows).toBeLessThan(done!.total!);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(out).filter((f) => f.includes('cancelled'))).toEqual([]);
    expect(await head.run('export.progress', { exportId: started.exportId })).toMatchObject({ state: 'cancelled' });
  });

  it('a disk that fills (ENOSPC): failed with export_disk_full and its message, no half file', async () => {
    const exporter = new JournalExporter({
      journal,
      writer: {
        progressEvery: 10,
        openStream: (path) => {
          const stream = createWriteStream(path);
          const write = stream._write.bind(stream);
          let bytes = 0;
          stream._writev = undefined;
          stream._write = (chunk: Buffer, enc, cb) => {
            bytes += chunk.length;
            if (bytes > 4_096) cb(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
            else write(chunk, enc, cb);
          };
          return stream;
        },
      },
    });
    const head = await as('x.head', exporter);
    const file = join(out, 'full.xlsx');
    const started = await head.run('journal.export', request(file));
    const done = await exporter.settled(started.exportId);
    expect(done).toMatchObject({
      state: 'failed',
      error: { code: 'export_disk_full', messageKey: 'errors.exportDiskFull' },
    });
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(out).filter((f) => f.includes('full'))).toEqual([]);
  });

  it('attack: another user polls or cancels someone’s export by its id — notFound, the export goes on', async () => {
    const exporter = new JournalExporter({ journal });
    const head = await as('x.head', exporter);
    const clerk = await as('x.clerk', exporter);
    const file = join(out, 'owned.xlsx');
    const started = await head.run('journal.export', request(file));
    expect(await clerk.fail('export.cancel', { exportId: started.exportId })).toMatchObject({ code: 'notFound' });
    expect(await clerk.fail('export.progress', { exportId: started.exportId })).toMatchObject({ code: 'notFound' });
    expect(await exporter.settled(started.exportId)).toMatchObject({ state: 'done' });
    expect(existsSync(file)).toBe(true);
  });

  it('one export at a time per user', async () => {
    const head = await as('x.head');
    const first = await head.run('journal.export', request(join(out, 'one.xlsx')));
    expect(await head.fail('journal.export', request(join(out, 'two.xlsx')))).toMatchObject({ code: 'export_busy' });
    await head.exporter.settled(first.exportId);
  });
});

afterAll(() => rmSync(out, { recursive: true, force: true }));
