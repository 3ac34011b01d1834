/**
 * Deadlines of workflow steps. The working-day calendar (weekends, public
 * holidays, the yearly moved days off, docs/domain.md#calendar) is its own service
 * (core/calendar); the workflow only needs the two operations below, so it
 * takes any `DeadlineCalendar` as a dependency.
 */
import type { StepLimit } from '../catalogue/schema.js';

/** What a step's deadline needs of a calendar (core/calendar's WorkingDayCalendar is one). */
export interface DeadlineCalendar {
  /** The same local time on the `days`-th working day after `from` (ms). */
  addWorkingDays(from: number, days: number): number;
  /** `minutes` after `from` (ms). */
  addMinutes(from: number, minutes: number): number;
}

/** The deadline of a step entered at `from`, from its limit in the service definition. */
export function dueAfter(calendar: DeadlineCalendar, from: number, limit: StepLimit): number {
  return limit.unit === 'minutes' ? calendar.addMinutes(from, limit.value) : calendar.addWorkingDays(from, limit.value);
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * A calendar that knows weekends only (no holidays), in a fixed UTC offset
 * (Kazakhstan: UTC+5). A stand-in for tests and for a start without the
 * holiday data; the real calendar comes from core/calendar.
 */
export function weekendOnlyCalendar(offsetMinutes = 300): DeadlineCalendar {
  const offset = offsetMinutes * MINUTE;
  const isWeekend = (t: number): boolean => {
    // Local day of the week, 0 = Sunday (1 January 1970 was a Thursday).
    const dow = (((Math.floor((t + offset) / DAY) + 4) % 7) + 7) % 7;
    return dow === 0 || dow === 6;
  };
  return {
    addWorkingDays(from, days) {
      let out = from;
      let left = days;
      while (left > 0) {
        out += DAY;
        if (!isWeekend(out)) left--;
      }
      return out;
    },
    addMinutes(from, minutes) {
      return from + minutes * MINUTE;
    },
  };
}
