import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCalendars } from '../node/calendar-loader.js';
import type { CalendarYear } from './schema.js';
import { WorkingDayCalendar } from './workdays.js';

const CALENDAR_DIR = fileURLToPath(new URL('../../resources/calendars', import.meta.url));
const { calendar } = loadCalendars(CALENDAR_DIR);

/** An instant given as Almaty wall-clock time, e.g. `2026-03-20T10:00`. */
function almaty(local: string): number {
  return Date.parse(`${local}:00+05:00`);
}

const t = (en: string) => ({ kk: `${en} kk`, ru: `${en} ru`, en });

/** A small 2022 year with the decree move docs/domain.md#calendar cites: Saturday 5 March → Monday 7 March. */
function year2022(): CalendarYear {
  const base = { source: ['law'], confirmed: true };
  return {
    year: 2022,
    timeZone: { id: 'Asia/Almaty', utcOffsetMinutes: 300 },
    weekend: [6, 7],
    workingHours: { start: '09:00', end: '18:00', breaks: [] },
    confirmed: true,
    status: 'Test year',
    sources: [
      { id: 'law', title: 'Law on holidays' },
      { id: 'decree', title: 'Decree on moving days off in 2022' },
    ],
    days: [
      {
        ...base,
        date: '2022-03-05',
        kind: 'workingDay',
        name: t('Working Saturday'),
        to: '2022-03-07',
        source: ['decree'],
      },
      { ...base, date: '2022-03-07', kind: 'transfer', name: t('Bridge day'), from: '2022-03-05', source: ['decree'] },
      { ...base, date: '2022-03-08', kind: 'holiday', name: t("Women's Day"), recurrence: 'fixed' },
    ],
  };
}

describe('the real calendar', () => {
  it('counts across Nauryz 2026: Saturday 21 to Wednesday 25 March are days off', () => {
    for (const date of ['2026-03-21', '2026-03-22', '2026-03-23', '2026-03-24', '2026-03-25']) {
      expect(calendar.isWorkingDay(date), date).toBe(false);
    }
    expect(calendar.isWorkingDay('2026-03-20')).toBe(true);
    expect(calendar.isWorkingDay('2026-03-26')).toBe(true);
    // Accepted on Friday 20 March: the first working day after it is Thursday 26 March.
    expect(calendar.addWorkingDays(almaty('2026-03-20T10:00'), 1)).toBe(almaty('2026-03-26T18:00'));
    expect(calendar.addWorkingDays(almaty('2026-03-19T10:00'), 2)).toBe(almaty('2026-03-26T18:00'));
    expect(calendar.workingDaysBetween(almaty('2026-03-20T10:00'), almaty('2026-03-26T09:00'))).toBe(1);
    expect(calendar.workingDaysBetween(almaty('2026-03-26T09:00'), almaty('2026-03-20T10:00'))).toBe(-1);
  });

  it('moves a holiday on a weekend to the next working day (law), but not a religious one', () => {
    // 8 March 2026 is a Sunday: Monday 9 March is off.
    expect(calendar.describeDay('2026-03-09')).toMatchObject({ kind: 'transfer', working: false, confirmed: true });
    expect(calendar.addWorkingDays(almaty('2026-03-06T12:00'), 1)).toBe(almaty('2026-03-10T18:00'));
    // Victory Day, Saturday 9 May 2026 → Monday 11 May.
    expect(calendar.isWorkingDay('2026-05-11')).toBe(false);
    expect(calendar.addWorkingDays(almaty('2026-05-08T12:00'), 1)).toBe(almaty('2026-05-12T18:00'));
    // Saturday 2 January 2027 → Monday 4 January 2027.
    expect(calendar.describeDay('2027-01-04').kind).toBe('transfer');
    // Kurban Ait on Sunday 16 May 2027 (estimated) does not move: Monday 17 May works.
    expect(calendar.describeDay('2027-05-16').kind).toBe('holiday');
    expect(calendar.isWorkingDay('2027-05-17')).toBe(true);
  });

  it('treats the moved days off of 2026 as days off and 30/31 August 2026 as no holiday any more', () => {
    expect(calendar.isWorkingDay('2026-10-26')).toBe(false); // Republic Day, Sunday 25 October → Monday
    expect(calendar.addWorkingDays(almaty('2026-10-23T15:00'), 1)).toBe(almaty('2026-10-27T18:00'));
    // The new Constitution made 15 March Constitution Day; Monday 31 August 2026 is a working day.
    expect(calendar.describeDay('2026-08-31')).toMatchObject({ kind: 'weekday', working: true });
    expect(calendar.describeDay('2027-03-15')).toMatchObject({ kind: 'holiday', working: false, confirmed: false });
  });

  it('makes a weekend day a working day when an order moves its day off (2025: Sunday 5 → Friday 3 January)', () => {
    expect(calendar.describeDay('2025-01-05')).toMatchObject({ kind: 'workingDay', working: true, weekday: 7 });
    expect(calendar.describeDay('2025-01-03')).toMatchObject({ kind: 'transfer', working: false });
    // Accepted Thursday 2 January (a holiday) → accepted Sunday 5 January, the next working day.
    expect(calendar.addWorkingDays(almaty('2025-01-02T10:00'), 1)).toBe(almaty('2025-01-06T18:00'));
  });

  it('crosses the year boundary: 31 December 2026 + 1 working day is Tuesday 5 January 2027', () => {
    const from = almaty('2026-12-31T11:00');
    const due = calendar.addWorkingDays(from, 1);
    expect(due).toBe(almaty('2027-01-05T18:00'));
    expect(calendar.workingDaysBetween(from, due)).toBe(1);
    expect(calendar.daysWaiting(from, due)).toBe(1);
    // 2027 is not final yet, so a deadline reaching into it is not confirmed; one inside 2026 is.
    expect(calendar.isConfirmed(from, due)).toBe(false);
    expect(calendar.isConfirmed(almaty('2026-12-01T10:00'), almaty('2026-12-31T10:00'))).toBe(true);
    expect(calendar.yearInfo(2027)).toEqual({ year: 2027, source: 'file', file: 'kz-2027.json', confirmed: false });
  });

  it('reads days in Almaty time: 23:30 UTC is already the next day', () => {
    const instant = Date.UTC(2026, 2, 20, 23, 30); // Friday 20 March 23:30 UTC = Saturday 21 March 04:30 in Almaty
    expect(calendar.localDate(instant)).toBe('2026-03-21');
    expect(calendar.isWorkingDay(instant)).toBe(false);
    expect(calendar.isWorkingDay(Date.UTC(2026, 2, 20, 18, 59))).toBe(true); // 23:59 Friday in Almaty
    expect(calendar.startOfDay(instant)).toBe(Date.UTC(2026, 2, 20, 19, 0));
    // 2026-03-19T23:30Z is Friday 04:30 in Almaty, before opening: Friday is the day of acceptance.
    expect(calendar.addWorkingDays(Date.UTC(2026, 2, 19, 23, 30), 1)).toBe(Date.UTC(2026, 2, 26, 13, 0));
  });

  it('accepts a step entered after hours or on a day off on the next working day', () => {
    // Friday 6 March 2026 19:00 → accepted Tuesday 10 March (Monday 9 is off) → 1 day: Wednesday 11.
    expect(calendar.addWorkingDays(almaty('2026-03-06T19:00'), 1)).toBe(almaty('2026-03-11T18:00'));
    // Exactly 18:00 is after hours; 17:59 is not.
    expect(calendar.addWorkingDays(almaty('2026-11-23T18:00'), 1)).toBe(almaty('2026-11-25T18:00'));
    expect(calendar.addWorkingDays(almaty('2026-11-23T17:59'), 1)).toBe(almaty('2026-11-24T18:00'));
    // Before opening counts for that day.
    expect(calendar.addWorkingDays(almaty('2026-11-23T07:00'), 1)).toBe(almaty('2026-11-24T18:00'));
    // 0 days: the end of the day of acceptance.
    expect(calendar.addWorkingDays(almaty('2026-11-21T12:00'), 0)).toBe(almaty('2026-11-23T18:00'));
    expect(() => calendar.addWorkingDays(almaty('2026-11-23T10:00'), -1)).toThrow(RangeError);
    expect(() => calendar.addWorkingDays(Number.NaN, 1)).toThrow(RangeError);
  });

  it('counts minute limits in working time only', () => {
    // A 20-minute clerk step at 17:55 ends 09:15 the next working morning.
    expect(calendar.addMinutes(almaty('2026-11-24T17:55'), 20)).toBe(almaty('2026-11-25T09:15'));
    // Friday 17:50 + 30 min → Monday 09:20.
    expect(calendar.addMinutes(almaty('2026-11-20T17:50'), 30)).toBe(almaty('2026-11-23T09:20'));
    // Before Nauryz: Friday 20 March 17:50 + 30 min → Thursday 26 March 09:20.
    expect(calendar.addMinutes(almaty('2026-03-20T17:50'), 30)).toBe(almaty('2026-03-26T09:20'));
    // Landing exactly on the close stays that day.
    expect(calendar.addMinutes(almaty('2026-11-24T17:40'), 20)).toBe(almaty('2026-11-24T18:00'));
    // Started before opening or on a Sunday, the clock starts at 09:00.
    expect(calendar.addMinutes(almaty('2026-11-24T07:00'), 20)).toBe(almaty('2026-11-24T09:20'));
    expect(calendar.addMinutes(almaty('2026-11-22T12:00'), 20)).toBe(almaty('2026-11-23T09:20'));
    // Inside working hours it is plain addition; a full working day is 540 minutes.
    expect(calendar.addMinutes(almaty('2026-11-24T10:00'), 2)).toBe(almaty('2026-11-24T10:02'));
    expect(calendar.addMinutes(almaty('2026-11-24T09:00'), 540)).toBe(almaty('2026-11-24T18:00'));
    expect(calendar.addMinutes(almaty('2026-11-24T10:00'), 0)).toBe(almaty('2026-11-24T10:00'));
    expect(() => calendar.addMinutes(almaty('2026-11-24T10:00'), -5)).toThrow(RangeError);
  });

  it('gives the deadline of a catalogue step limit or of the short form, and says when it is overdue', () => {
    const from = almaty('2026-11-24T17:55');
    expect(calendar.dueAt(from, { unit: 'minutes', value: 20 })).toBe(almaty('2026-11-25T09:15'));
    expect(calendar.dueAt(from, { minutes: 20 })).toBe(almaty('2026-11-25T09:15'));
    expect(calendar.dueAt(from, { unit: 'working_days', value: 5 })).toBe(almaty('2026-12-01T18:00'));
    expect(calendar.dueAt(from, { workingDays: 5 })).toBe(almaty('2026-12-01T18:00'));
    expect(() => calendar.dueAt(from, {})).toThrow(RangeError);
    expect(() => calendar.dueAt(from, { minutes: 1, workingDays: 1 })).toThrow(RangeError);

    const due = calendar.dueAt(from, { workingDays: 1 });
    expect(calendar.overdue(due, due)).toBe(false);
    expect(calendar.overdue(due, due + 1)).toBe(true);
    expect(calendar.overdue(null, due + 1)).toBe(false);
  });

  it('counts the working days an application has waited, from its day of acceptance', () => {
    const friday = almaty('2026-03-20T10:00');
    expect(calendar.daysWaiting(friday, almaty('2026-03-20T17:00'))).toBe(0);
    expect(calendar.daysWaiting(friday, almaty('2026-03-25T12:00'))).toBe(0); // Nauryz
    expect(calendar.daysWaiting(friday, almaty('2026-03-26T12:00'))).toBe(1);
    expect(calendar.daysWaiting(friday, almaty('2026-04-03T12:00'))).toBe(7);
    // Arrived on Saturday: accepted Monday, so Monday itself is day 0.
    expect(calendar.daysWaiting(almaty('2026-11-21T12:00'), almaty('2026-11-23T12:00'))).toBe(0);
    expect(calendar.daysWaiting(friday, friday - 86_400_000)).toBe(0);
  });

  it('agrees with itself: daysWaiting(t, addWorkingDays(t, n)) is n for any start', () => {
    const start = almaty('2026-12-20T00:00');
    for (let h = 0; h < 24 * 20; h += 7) {
      const from = start + h * 3_600_000;
      for (const n of [0, 1, 3, 10]) {
        expect(
          calendar.daysWaiting(from, calendar.addWorkingDays(from, n)),
          `${new Date(from).toISOString()} +${n}`,
        ).toBe(n);
      }
    }
  });

  it('projects years without a file from the nearest one and says they are not confirmed', () => {
    expect(calendar.yearInfo(2028)).toEqual({
      year: 2028,
      source: 'projected',
      file: 'kz-2027.json',
      confirmed: false,
    });
    // Fixed-date holidays of 2027 on 2028's dates: 15 March and 16 December 2028 are off, 30 August is not.
    expect(calendar.isWorkingDay('2028-03-15')).toBe(false);
    expect(calendar.isWorkingDay('2028-12-15')).toBe(true);
    expect(calendar.isWorkingDay('2028-12-16')).toBe(false);
    expect(calendar.isWorkingDay('2028-08-30')).toBe(true);
    // New Year 2028 is Saturday–Sunday: the law moves both days off, to Monday 3 and Tuesday 4 January.
    expect(calendar.describeDay('2028-01-03')).toMatchObject({ kind: 'transfer', projected: true, confirmed: false });
    expect(calendar.describeDay('2028-01-04').kind).toBe('transfer');
    expect(calendar.isWorkingDay('2028-01-05')).toBe(true);
    // Kurban Ait is movable and is not projected.
    expect(calendar.describeDay('2028-05-16').kind).toBe('weekday');
    // Before the first file: projected from kz-2025.json, which still has 30 August.
    expect(calendar.yearInfo(2024).file).toBe('kz-2025.json');
    expect(calendar.isWorkingDay('2024-08-30')).toBe(false);
    expect(calendar.isConfirmed('2028-06-01')).toBe(false);
  });

  it('rejects what is not a day', () => {
    expect(() => calendar.isWorkingDay('2026-02-30')).toThrow(RangeError);
    expect(() => calendar.isWorkingDay('30.03.2026')).toThrow(RangeError);
    expect(calendar.isWorkingDay(new Date(almaty('2026-03-23T12:00')))).toBe(false);
  });
});

describe('a calendar built from data', () => {
  it('counts a Saturday made working and a bridge day made off (decree 2022)', () => {
    const cal = new WorkingDayCalendar([{ file: 'kz-2022.json', data: year2022() }]);
    expect(cal.isWorkingDay('2022-03-05')).toBe(true);
    expect(cal.isWorkingDay('2022-03-07')).toBe(false);
    // Friday 4 March + 1 → the working Saturday; + 2 → Wednesday 9 March (7 moved, 8 holiday).
    expect(cal.addWorkingDays(almaty('2022-03-04T10:00'), 1)).toBe(almaty('2022-03-05T18:00'));
    expect(cal.addWorkingDays(almaty('2022-03-04T10:00'), 2)).toBe(almaty('2022-03-09T18:00'));
    expect(cal.addMinutes(almaty('2022-03-04T17:50'), 20)).toBe(almaty('2022-03-05T09:10'));
    expect(cal.workingDaysBetween(almaty('2022-03-04T10:00'), almaty('2022-03-09T10:00'))).toBe(2);
  });

  it('stops the minute clock for breaks in the working hours', () => {
    const data = year2022();
    data.workingHours = { start: '09:00', end: '18:30', breaks: [{ start: '13:00', end: '14:30' }] };
    const cal = new WorkingDayCalendar([{ file: 'kz-2022.json', data }]);
    expect(cal.addMinutes(almaty('2022-03-10T12:50'), 20)).toBe(almaty('2022-03-10T14:40'));
    expect(cal.addMinutes(almaty('2022-03-10T13:30'), 10)).toBe(almaty('2022-03-10T14:40'));
    expect(cal.addWorkingDays(almaty('2022-03-10T18:15'), 1)).toBe(almaty('2022-03-11T18:30'));
  });

  it('without any file: weekends only, 09:00–18:00 at UTC+5, nothing confirmed', () => {
    const cal = new WorkingDayCalendar();
    expect(cal.timeZone).toBe('Asia/Almaty');
    expect(cal.isWorkingDay('2026-03-23')).toBe(true); // Nauryz unknown without data
    expect(cal.isWorkingDay('2026-03-22')).toBe(false);
    expect(cal.addMinutes(almaty('2026-03-20T17:55'), 20)).toBe(almaty('2026-03-23T09:15'));
    expect(cal.yearInfo(2026)).toEqual({ year: 2026, source: 'projected', file: null, confirmed: false });
  });
});
