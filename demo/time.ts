/** Demo time: local (UTC+5) dates and when the demo's applications were submitted. */
import type { Rng } from './random.js';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const YEAR = 365.2425 * DAY;
/** Kazakhstan keeps one time zone, UTC+5, since 1 March 2024; good enough for demo dates. */
const LOCAL_OFFSET = 5 * HOUR;
/** How far back the applications go: ~18 months. */
const HISTORY_DAYS = 548;

/** The local wall clock of an instant, read with the Date's UTC getters. */
export function localDate(t: number): Date {
  return new Date(t + LOCAL_OFFSET);
}

/** Local day of the week, 0 = Sunday (1 January 1970 was a Thursday). */
function localDayOfWeek(t: number): number {
  return (((Math.floor((t + LOCAL_OFFSET) / DAY) + 4) % 7) + 7) % 7;
}

export function isWeekend(t: number): boolean {
  const dow = localDayOfWeek(t);
  return dow === 0 || dow === 6;
}

/** Two digits, zero-padded. */
export function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * `count` submission times before `now`, sorted: weekdays and office hours
 * favoured, the volume slowly growing over the history.
 */
export function submissionTimes(rng: Rng, count: number, now: number): Float64Array {
  const start = now - HISTORY_DAYS * DAY;
  const firstLocalMidnight = Math.floor((start + LOCAL_OFFSET) / DAY) * DAY - LOCAL_OFFSET;
  const times = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    for (;;) {
      const day = Math.floor(rng.float() * (HISTORY_DAYS + 1));
      const dayStart = firstLocalMidnight + day * DAY;
      const dow = localDate(dayStart).getUTCDay();
      const weekday = dow !== 0 && dow !== 6;
      const keep = (0.7 + (0.3 * day) / HISTORY_DAYS) * (weekday ? 1 : dow === 6 ? 0.15 : 0.1);
      if (rng.float() >= keep) continue;
      const t =
        weekday && rng.chance(0.85)
          ? dayStart + 9 * HOUR + Math.floor(rng.float() * 9.5 * HOUR)
          : dayStart + Math.floor(rng.float() * DAY);
      if (t < start || t >= now - MINUTE) continue;
      times[i] = t;
      break;
    }
  }
  return times.sort();
}
