import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCalendars, parseCalendarFile } from './calendar-loader.js';
import type { CalendarYear } from '../calendar/schema.js';

const CALENDAR_DIR = fileURLToPath(new URL('../../resources/calendars', import.meta.url));
const REAL_2026 = readFileSync(join(CALENDAR_DIR, 'kz-2026.json'), 'utf8');

function real2026(): CalendarYear {
  return JSON.parse(REAL_2026) as CalendarYear;
}

/** Problems of one file's content, as `field: message`. */
function problemsOf(data: unknown, file = 'kz-2026.json'): string[] {
  const result = parseCalendarFile(file, JSON.stringify(data));
  return result.ok ? [] : result.problems.map((p) => `${p.field}: ${p.message}`);
}

function indexOf(data: CalendarYear, date: string): number {
  const i = data.days.findIndex((d) => d.date === date);
  if (i < 0) throw new Error(`no ${date} in the test data`);
  return i;
}

describe('the real calendar files (resources/calendars)', () => {
  const loaded = loadCalendars(CALENDAR_DIR);

  it('load with zero problems: 2025, 2026 (final) and 2027 (not final)', () => {
    expect(loaded.problems).toEqual([]);
    expect(loaded.years).toEqual([
      { year: 2025, file: 'kz-2025.json', confirmed: false },
      { year: 2026, file: 'kz-2026.json', confirmed: true },
      { year: 2027, file: 'kz-2027.json', confirmed: false },
    ]);
    expect(loaded.calendar.utcOffsetMinutes).toBe(300);
    expect(loaded.calendar.timeZone).toBe('Asia/Almaty');
  });

  it('list every holiday of the law for 2026 and 2027, with the kinds and confirmation the brief asks for', () => {
    const y2026 = real2026();
    const holidays = y2026.days.filter((d) => d.kind === 'holiday').map((d) => d.date.slice(5));
    expect(holidays).toEqual([
      '01-01',
      '01-02',
      '01-07',
      '03-08',
      '03-21',
      '03-22',
      '03-23',
      '05-01',
      '05-07',
      '05-09',
      '05-27',
      '07-06',
      '10-25',
      '12-16',
    ]);
    const y2027 = JSON.parse(readFileSync(join(CALENDAR_DIR, 'kz-2027.json'), 'utf8')) as CalendarYear;
    const unconfirmed = y2027.days.filter((d) => !d.confirmed).map((d) => d.date);
    expect(unconfirmed).toEqual(['2027-03-15', '2027-05-16']);
    expect(y2027.days.every((d) => d.kind !== 'workingDay')).toBe(true);
  });
});

describe('parseCalendarFile', () => {
  it('accepts the real 2026 file', () => {
    expect(problemsOf(real2026())).toEqual([]);
  });

  it('names the field of an unknown day kind, a bad date and an unknown key', () => {
    const data = real2026() as unknown as { days: Record<string, unknown>[]; extra?: number };
    data.days[3] = { ...data.days[3], kind: 'vacation' };
    data.days[4] = { ...data.days[4], date: '2026-02-30' };
    data.extra = 1;
    const problems = problemsOf(data);
    expect(problems).toContainEqual(expect.stringMatching(/^days\.3\.kind: /));
    expect(problems).toContain('days.4.date: Not a real calendar date');
    expect(problems).toContain('extra: Unknown field');
  });

  it('wants a holiday on a weekend moved to the next free working day', () => {
    const missing = real2026();
    missing.days.splice(indexOf(missing, '2026-05-11'), 1);
    expect(problemsOf(missing)).toEqual([
      `days.${indexOf(missing, '2026-05-09')}: This holiday falls on a weekend: add a transfer on 2026-05-11 with from = 2026-05-09 (Law on holidays, art. 5)`,
    ]);

    const wrongDay = real2026();
    const i = indexOf(wrongDay, '2026-03-25');
    wrongDay.days[i] = { ...wrongDay.days[i]!, date: '2026-03-26' };
    expect(problemsOf(wrongDay)).toEqual([
      `days.${i}.date: The day off of 2026-03-22 moves to the next free working day, 2026-03-25`,
    ]);
  });

  it('checks moves by order: a working weekend day and its transfer point at each other', () => {
    const data = real2026();
    data.sources.push({ id: 'order', title: 'Order on moving days off' });
    const name = { kk: 'a', ru: 'b', en: 'c' };
    data.days.push(
      { date: '2026-12-12', kind: 'workingDay', name, to: '2026-12-18', source: ['order'], confirmed: true },
      { date: '2026-12-17', kind: 'transfer', name, from: '2026-12-12', source: ['order'], confirmed: true },
      { date: '2026-12-15', kind: 'workingDay', name, to: '2026-12-17', source: ['nowhere'], confirmed: true },
    );
    const n = data.days.length;
    expect(problemsOf(data)).toEqual([
      `days.${n - 1}.source.0: Unknown source id "nowhere"`,
      `days.${n - 3}.to: Expected a transfer on 2026-12-18 with from = 2026-12-12`,
      `days.${n - 2}.from: The working day 2026-12-12 moves its day off to 2026-12-18, not here`,
      `days.${n - 1}.date: Only a weekend day can be made a working day`,
      `days.${n - 1}.to: Expected a transfer on 2026-12-17 with from = 2026-12-15`,
    ]);
  });

  it('refuses a confirmed year with unconfirmed days, bad hours, dates of another year and a misnamed file', () => {
    const data = real2026();
    data.days[0] = { ...data.days[0]!, confirmed: false };
    data.days[1] = { ...data.days[1]!, date: '2027-01-02' };
    data.workingHours = { start: '18:00', end: '09:00', breaks: [] };
    expect(problemsOf(data)).toEqual([
      'workingHours.end: The working day must end after it starts',
      'days.0.confirmed: A year marked confirmed cannot have unconfirmed days',
      'days.1.date: The date is not in 2026',
    ]);
    expect(problemsOf(real2026(), 'kz-2027.json')).toEqual(['year: The file name says 2027 but the file is for 2026']);
  });
});

describe('loadCalendars', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'qyzmet-calendars-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a malformed file, naming the file and the field, and keeps the good one', () => {
    writeFileSync(join(dir, 'kz-2026.json'), REAL_2026);
    const bad = real2026() as unknown as Record<string, unknown>;
    bad.year = 2027;
    bad.workingHours = { start: '9am', end: '18:00', breaks: [] };
    writeFileSync(join(dir, 'kz-2027.json'), JSON.stringify(bad));
    writeFileSync(join(dir, 'kz-2028.json'), '{ "year": 2028, ');
    writeFileSync(join(dir, 'README.md'), 'not a calendar');

    const { calendar, problems, years } = loadCalendars(dir);
    expect(problems).toContainEqual({
      file: 'kz-2027.json',
      field: 'workingHours.start',
      message: 'Expected a time of day as HH:MM (00:00–24:00)',
    });
    expect(problems).toContainEqual(expect.objectContaining({ file: 'kz-2028.json', field: '(file)' }));
    expect(problems.every((p) => p.file !== 'kz-2026.json')).toBe(true);
    expect(years.map((y) => y.file)).toEqual(['kz-2026.json']);
    expect(calendar.isWorkingDay('2026-03-24')).toBe(false);
    expect(calendar.yearInfo(2027).source).toBe('projected');
  });

  it('keeps the first file of a year and one UTC offset', () => {
    writeFileSync(join(dir, 'a-2026.json'), REAL_2026);
    writeFileSync(join(dir, 'b-2026.json'), REAL_2026);
    const shifted = real2026();
    shifted.year = 2025;
    shifted.timeZone.utcOffsetMinutes = 360;
    shifted.days = [];
    writeFileSync(join(dir, 'c-2025.json'), JSON.stringify(shifted));

    const { problems, years } = loadCalendars(dir);
    expect(problems).toEqual([
      {
        file: 'b-2026.json',
        field: 'year',
        message: 'Year 2026 is already defined in a-2026.json; this file is skipped',
      },
      {
        file: 'c-2025.json',
        field: 'timeZone.utcOffsetMinutes',
        message: 'UTC offset 360 differs from 300 in a-2026.json; this file is skipped',
      },
    ]);
    expect(years.map((y) => y.file)).toEqual(['a-2026.json']);
  });

  it('works without the folder: weekends only, and says so', () => {
    const { calendar, problems } = loadCalendars(join(dir, 'missing'));
    expect(problems).toEqual([expect.objectContaining({ file: 'missing', field: '(folder)' })]);
    expect(calendar.isWorkingDay('2026-03-23')).toBe(true);
    expect(calendar.isWorkingDay('2026-03-21')).toBe(false);
  });
});
