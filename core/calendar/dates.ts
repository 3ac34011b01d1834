/**
 * Calendar days as plain integers: the number of days since 1970-01-01, a
 * Thursday. A day number names a local calendar day; which instants belong to
 * it depends on the calendar's UTC offset (see `WorkingDayCalendar`). Keeping
 * days as integers makes "next day", "same weekday" and ranges trivial and
 * keeps time zones out of the date arithmetic.
 */

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;
export const MINUTES_PER_DAY = 1440;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HH_MM = /^(?:([01]\d|2[0-3]):([0-5]\d)|24:00)$/;

/** `YYYY-MM-DD` → day number, or null when the text is not a real calendar date. */
export function parseIsoDate(text: string): number | null {
  const m = ISO_DATE.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return null;
  return ms / DAY_MS;
}

/** Day number → `YYYY-MM-DD`. */
export function formatIsoDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** ISO weekday of a day number: 1 = Monday … 7 = Sunday. */
export function isoWeekday(day: number): number {
  // Day 0 (1970-01-01) was a Thursday, ISO weekday 4.
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

export function yearOfDay(day: number): number {
  return new Date(day * DAY_MS).getUTCFullYear();
}

/** Day number of 1 January of `year`. */
export function firstDayOfYear(year: number): number {
  return Date.UTC(year, 0, 1) / DAY_MS;
}

export function daysInYear(year: number): number {
  return firstDayOfYear(year + 1) - firstDayOfYear(year);
}

/** Month (1–12) and day of month of a day number. */
export function monthDay(day: number): { month: number; day: number } {
  const d = new Date(day * DAY_MS);
  return { month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Day number of `month`/`day` in `year`, or null when that date does not exist (29 February). */
export function dayOf(year: number, month: number, day: number): number | null {
  const ms = Date.UTC(year, month - 1, day);
  const d = new Date(ms);
  return d.getUTCMonth() === month - 1 && d.getUTCDate() === day ? ms / DAY_MS : null;
}

/** `HH:MM` (00:00–24:00) → minutes since midnight, or null. */
export function parseHhMm(text: string): number | null {
  const m = HH_MM.exec(text);
  if (!m) return null;
  if (m[1] === undefined) return MINUTES_PER_DAY;
  return Number(m[1]) * 60 + Number(m[2]);
}
