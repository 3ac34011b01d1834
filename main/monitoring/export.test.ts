/**
 * The monitoring report written to Excel and read back with exceljs: the
 * meta lines, the header, a row per region with numbers (not text), the
 * totals row.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, expect, it } from 'vitest';
import { buildReport } from '#core/monitoring/report.js';
import { writeMonitoringReport, type MonitoringLabels } from './export.js';

const dir = mkdtempSync(join(tmpdir(), 'qyzmet-monitoring-xlsx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LABELS: MonitoringLabels = {
  sheet: 'Мониторинг',
  number: '№',
  region: 'Населенный пункт',
  kato: 'КАТО',
  columns: {
    received: 'Поступило',
    inProcessing: 'В обработке',
    onSigning: 'На подписи',
    positive: 'Положительно',
    negative: 'Отрицательно',
    transferred: 'Передано в ИС ОО',
  },
  total: 'Всего по региону',
  totalRow: 'Всего по статусу',
  meta: { period: 'Период', service: 'Услуга', dataAt: 'Данные на', exportedAt: 'Выгружено' },
  service: 'Все услуги',
  unknownRegion: 'Регион {code}',
};

it('writes the period, the regions with their codes and figures as numbers, and the totals row', async () => {
  const report = buildReport({
    query: { from: '2026-03-01', to: '2026-03-31' },
    cells: [
      { regionKato: '110000000', status: 'received', decision: 'none', n: 13 },
      { regionKato: '110000000', status: 'completed', decision: 'negative', n: 32 },
      { regionKato: '710000000', status: 'external_processing', decision: 'none', n: 8 },
    ],
    overdue: [],
    regions: [
      { kato: '110000000', nameKk: 'Ақмола облысы', nameRu: 'Акмолинская область', nameEn: 'Akmola Region' },
      { kato: '710000000', nameKk: 'Астана қаласы', nameRu: 'город Астана', nameEn: 'Astana City' },
    ],
    everyRegion: false,
    source: 'local',
    reach: 'country',
    dataAt: Date.UTC(2026, 3, 1, 9),
  });
  const file = join(dir, 'report.xlsx');
  await writeMonitoringReport(file, report, LABELS, 'ru', { timeZone: 'UTC', now: () => Date.UTC(2026, 3, 2, 10) });
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const ws = wb.worksheets[0]!;
  expect(ws.name).toBe('Мониторинг');
  expect(ws.getCell('A1').value).toBe('Период');
  expect(ws.getCell('B1').value).toBe('01.03.2026 – 31.03.2026');
  expect(ws.getCell('B2').value).toBe('Все услуги');
  expect(ws.getCell('B3').value).toBeInstanceOf(Date);
  // Meta (4 lines), a blank row, the header at row 6.
  const header = ws.getRow(6).values as unknown[];
  expect(header.slice(1)).toEqual([
    '№',
    'Населенный пункт',
    'КАТО',
    'Поступило',
    'В обработке',
    'На подписи',
    'Положительно',
    'Отрицательно',
    'Передано в ИС ОО',
    'Всего по региону',
  ]);
  expect((ws.getRow(7).values as unknown[]).slice(1)).toEqual([
    1,
    'Акмолинская область',
    '110000000',
    13,
    0,
    0,
    0,
    32,
    0,
    45,
  ]);
  expect((ws.getRow(8).values as unknown[]).slice(1)).toEqual([2, 'город Астана', '710000000', 0, 0, 0, 0, 0, 8, 8]);
  const totals = (ws.getRow(9).values as unknown[]).slice(1);
  expect(totals[1]).toBe('Всего по статусу');
  expect(totals.slice(3)).toEqual([13, 0, 0, 0, 32, 8, 53]);
});
