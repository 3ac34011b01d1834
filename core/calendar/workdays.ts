/**
 * Working-day arithmetic for step deadlines (docs/domain.md#deadlines): limits in working
 * days or in minutes, over Kazakhstan's calendar of weekends, public holidays
 * and moved days off, loaded from `resources/calendars/*.json`.
 *
 * Timestamps are epoch milliseconds. A "day" is a calendar day in the
 * calendar's time zone, computed with the fixed UTC offset from the year
 * files (Asia/Almaty, UTC+5 since 2024-03-01) rather than with the
 * machine's time-zone database: a Windows desktop or an older runtime whose
 * database predates the 2024 change would still say UTC+6, and deadlines
 * must not depend on that. Instants before 2024-03-01 are read at UTC+5 too.
 *
 * The choices (see each method):
 * - The day of acceptance does not count (seed 003: "the days of acceptance
 *   and issue do not count"). A step entered after the end of working hours,
 *   or on a day off, is accepted on the next working day, as the service
 *   standards treat applications that arrive after hours.
 * - A limit of n working days ends at the end of working hours (18:00) of the
 *   n-th working day after the day of acceptance: an act to be done inside an
 *   organisation can be done until its working hours end on the last day.
 * - A limit in minutes counts working minutes only: a 20-minute clerk step
 *   started at 17:55 ends at 09:15 on the next working day. Minute limits are
 *   the time a staff member spends on the step, and nobody works it at night.
 *
 * Years without a file are projected from the nearest year that has one: its
 * fixed-date holidays, the law's move of a holiday on a weekend to the next
 * working day, no movable holidays (Kurban Ait) and no moves by order; such a
 * year, and any year whose file is not final, is reported as not confirmed.
 */
import type { StepLimit } from '../catalogue/schema.js';
import {
  DAY_MS,
  MINUTE_MS,
  dayOf,
  daysInYear,
  firstDayOfYear,
  formatIsoDate,
  isoWeekday,
  monthDay,
  parseHhMm,
  parseIsoDate,
  yearOfDay,
} from './dates.js';
import { lawTransfers } from './rules.js';
import type { CalendarYear, DayKind, LocalizedText } from './schema.js';

/** An instant (epoch ms or Date) or a local calendar date `YYYY-MM-DD`. */
export type DayRef = number | Date | string;

/** A deadline: minutes of working time, or working days. Also takes a catalogue step limit. */
export type DeadlineLimit = { minutes?: number; workingDays?: number } | StepLimit;

export interface DayInfo {
  date: string;
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  weekday: number;
  working: boolean;
  kind: DayKind | 'weekday' | 'weekend';
  name: LocalizedText | null;
  /**
   * Whether this day's status is final: its year is confirmed and so is its
   * entry. In a year that is not confirmed no day is, since an order not yet
   * published may still move it.
   */
  confirmed: boolean;
  /** The day comes from a year no file covers. */
  projected: boolean;
}

export interface YearInfo {
  year: number;
  source: 'file' | 'projected';
  /** The year file, or for a projected year the file it was projected from; null without any file. */
  file: string | null;
  confirmed: boolean;
}

/** A parsed year file and the base name it came from. */
export interface CalendarYearInput {
  file: string;
  data: CalendarYear;
}

export interface WorkingDayCalendarOptions {
  /** Used when no year file is given. Defaults: Asia/Almaty, +300. */
  timeZone?: string;
  utcOffsetMinutes?: number;
}

interface Entry {
  kind: DayKind;
  name: LocalizedText;
  confirmed: boolean;
}

interface YearTable {
  info: YearInfo;
  first: number;
  /** 1 when the day is a working day, by day of year. */
  working: Uint8Array;
  /** cumulative[i] = working days among the first i days of the year. */
  cumulative: Int32Array;
  entries: Map<number, Entry>;
  weekend: ReadonlySet<number>;
  /** Working periods of a working day, minutes since local midnight, in order. */
  segments: ReadonlyArray<readonly [number, number]>;
}

const DEFAULT_TIME_ZONE = 'Asia/Almaty';
const DEFAULT_OFFSET_MINUTES = 300;
const DEFAULT_WEEKEND: ReadonlySet<number> = new Set([6, 7]);
const DEFAULT_SEGMENTS: ReadonlyArray<readonly [number, number]> = [[9 * 60, 18 * 60]];
/** No real calendar goes ten years without a working day; past this the data is broken. */
const SEARCH_LIMIT_DAYS = 3660;

function segmentsOf(data: CalendarYear): Array<readonly [number, number]> {
  const start = parseHhMm(data.workingHours.start) ?? 0;
  const end = parseHhMm(data.workingHours.end) ?? 0;
  const out: Array<readonly [number, number]> = [];
  let from = start;
  for (const b of data.workingHours.breaks) {
    const bs = parseHhMm(b.start) ?? 0;
    const be = parseHhMm(b.end) ?? 0;
    if (bs > from) out.push([from, bs]);
    from = Math.max(from, be);
  }
  if (end > from) out.push([from, end]);
  return out;
}

function movedName(name: LocalizedText, date: string): LocalizedText {
  return {
    kk: `Ауыстырылған демалыс күні: ${date}, ${name.kk}`,
    ru: `Перенесённый выходной: ${date}, ${name.ru}`,
    en: `Day off moved from ${date} (${name.en})`,
  };
}

function assertInstant(ms: number, what: string): void {
  if (!Number.isFinite(ms)) throw new RangeError(`${what} must be a finite number of milliseconds`);
}

export class WorkingDayCalendar {
  readonly timeZone: string;
  readonly utcOffsetMinutes: number;
  private readonly offsetMs: number;
  private readonly files = new Map<number, CalendarYearInput>();
  private readonly tables = new Map<number, YearTable>();
  /** The table used last: most lookups fall in the same year, so this skips the date maths. */
  private recent: YearTable | undefined;

  constructor(years: ReadonlyArray<CalendarYearInput> = [], options: WorkingDayCalendarOptions = {}) {
    const first = years[0]?.data.timeZone;
    this.timeZone = first?.id ?? options.timeZone ?? DEFAULT_TIME_ZONE;
    this.utcOffsetMinutes = first?.utcOffsetMinutes ?? options.utcOffsetMinutes ?? DEFAULT_OFFSET_MINUTES;
    this.offsetMs = this.utcOffsetMinutes * MINUTE_MS;
    for (const y of years) {
      if (y.data.timeZone.utcOffsetMinutes !== this.utcOffsetMinutes) {
        throw new Error(
          `${y.file}: UTC offset ${y.data.timeZone.utcOffsetMinutes} differs from ${this.utcOffsetMinutes}`,
        );
      }
      if (this.files.has(y.data.year)) throw new Error(`${y.file}: year ${y.data.year} given twice`);
      this.files.set(y.data.year, y);
    }
  }

  /** Years that have a file, ascending. */
  get years(): number[] {
    return [...this.files.keys()].sort((a, b) => a - b);
  }

  // ------------------------------------------------------------ days ---

  /** The local calendar date of an instant, `YYYY-MM-DD`. */
  localDate(ms: number): string {
    return formatIsoDate(this.dayOfInstant(ms));
  }

  /** The instant local midnight starts the day of `ref`. */
  startOfDay(ref: DayRef): number {
    return this.dayOfRef(ref) * DAY_MS - this.offsetMs;
  }

  isWorkingDay(ref: DayRef): boolean {
    return this.isWorking(this.dayOfRef(ref));
  }

  describeDay(ref: DayRef): DayInfo {
    const day = this.dayOfRef(ref);
    const table = this.tableOfDay(day);
    const entry = table.entries.get(day);
    const weekday = isoWeekday(day);
    return {
      date: formatIsoDate(day),
      weekday,
      working: table.working[day - table.first] === 1,
      kind: entry?.kind ?? (table.weekend.has(weekday) ? 'weekend' : 'weekday'),
      name: entry?.name ?? null,
      confirmed: table.info.confirmed && (entry?.confirmed ?? true),
      projected: table.info.source === 'projected',
    };
  }

  yearInfo(year: number): YearInfo {
    return { ...this.table(year).info };
  }

  /** Whether every day from `from` to `to` (inclusive, either order) is final, i.e. all their years are confirmed. */
  isConfirmed(from: DayRef, to: DayRef = from): boolean {
    const a = yearOfDay(this.dayOfRef(from));
    const b = yearOfDay(this.dayOfRef(to));
    for (let y = Math.min(a, b); y <= Math.max(a, b); y++) {
      if (!this.table(y).info.confirmed) return false;
    }
    return true;
  }

  // ----------------------------------------------------- arithmetic ---

  /**
   * The deadline of a limit of `n` working days for a step entered at
   * `fromMs`: the end of working hours on the n-th working day after the day
   * of acceptance. The day of acceptance is the day of `fromMs` when that is a
   * working day and working hours have not ended; otherwise the next working
   * day. n = 0 gives the end of the day of acceptance.
   */
  addWorkingDays(fromMs: number, n: number): number {
    assertInstant(fromMs, 'fromMs');
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('n must be a non-negative integer');
    let day = this.acceptanceDay(fromMs);
    for (let i = 0; i < n; i++) day = this.nextWorkingDay(day);
    return this.endOfWork(day);
  }

  /**
   * Working days after the day of `fromMs` up to and including the day of
   * `toMs`, a plain count of local days (no working hours involved); negative
   * when `toMs` is on an earlier day. Monday → Tuesday is 1, Friday → Monday
   * is 1, Friday 20 March 2026 → Thursday 26 March 2026 is 1 (Nauryz).
   */
  workingDaysBetween(fromMs: number, toMs: number): number {
    assertInstant(fromMs, 'fromMs');
    assertInstant(toMs, 'toMs');
    const a = this.dayOfInstant(fromMs);
    const b = this.dayOfInstant(toMs);
    if (b >= a) return this.countWorking(a + 1, b);
    return -this.countWorking(b + 1, a);
  }

  /**
   * `minutes` of working time after `fromMs`: the clock runs only inside the
   * working hours of working days. Started outside them, it starts at the next
   * opening. A result that lands exactly on the end of a working period stays
   * there (17:40 + 20 min = 18:00). 0 minutes returns `fromMs`.
   */
  addMinutes(fromMs: number, minutes: number): number {
    assertInstant(fromMs, 'fromMs');
    if (!Number.isFinite(minutes) || minutes < 0) throw new RangeError('minutes must be a non-negative number');
    let remaining = Math.round(minutes * MINUTE_MS);
    if (remaining === 0) return fromMs;
    let t = fromMs;
    let day = this.dayOfInstant(t);
    for (let guard = 0; guard < SEARCH_LIMIT_DAYS; guard++, day++) {
      if (this.isWorking(day)) {
        const midnight = day * DAY_MS - this.offsetMs;
        for (const [start, end] of this.tableOfDay(day).segments) {
          const segEnd = midnight + end * MINUTE_MS;
          if (t >= segEnd) continue;
          const segStart = Math.max(t, midnight + start * MINUTE_MS);
          const available = segEnd - segStart;
          if (remaining <= available) return segStart + remaining;
          remaining -= available;
          t = segEnd;
        }
      }
    }
    throw new Error(`No working time found within ${SEARCH_LIMIT_DAYS} days of ${new Date(fromMs).toISOString()}`);
  }

  /** The deadline of a step entered at `fromMs`: give either minutes or working days. */
  dueAt(fromMs: number, limit: DeadlineLimit): number {
    if ('unit' in limit) {
      return limit.unit === 'minutes' ? this.addMinutes(fromMs, limit.value) : this.addWorkingDays(fromMs, limit.value);
    }
    const { minutes, workingDays } = limit;
    if ((minutes === undefined) === (workingDays === undefined)) {
      throw new RangeError('A limit has either minutes or workingDays');
    }
    return minutes !== undefined ? this.addMinutes(fromMs, minutes) : this.addWorkingDays(fromMs, workingDays ?? 0);
  }

  /** Past its deadline: strictly after `dueMs`. No deadline is never overdue. */
  overdue(dueMs: number | null | undefined, nowMs: number): boolean {
    return dueMs !== null && dueMs !== undefined && nowMs > dueMs;
  }

  /**
   * Working days an application entered at `fromMs` has waited by `nowMs`:
   * working days after the day of acceptance (as in `addWorkingDays`) up to
   * and including today; 0 on the day of acceptance. For any start,
   * `daysWaiting(t, addWorkingDays(t, n)) === n`.
   */
  daysWaiting(fromMs: number, nowMs: number): number {
    assertInstant(fromMs, 'fromMs');
    assertInstant(nowMs, 'nowMs');
    const accepted = this.acceptanceDay(fromMs);
    const today = this.dayOfInstant(nowMs);
    return today > accepted ? this.countWorking(accepted + 1, today) : 0;
  }

  // -------------------------------------------------------- helpers ---

  private dayOfInstant(ms: number): number {
    assertInstant(ms, 'The instant');
    return Math.floor((ms + this.offsetMs) / DAY_MS);
  }

  private dayOfRef(ref: DayRef): number {
    if (typeof ref === 'number') return this.dayOfInstant(ref);
    if (ref instanceof Date) return this.dayOfInstant(ref.getTime());
    const day = parseIsoDate(ref);
    if (day === null) throw new RangeError(`Expected a date as YYYY-MM-DD, got "${ref}"`);
    return day;
  }

  private isWorking(day: number): boolean {
    const table = this.tableOfDay(day);
    return table.working[day - table.first] === 1;
  }

  private nextWorkingDay(day: number): number {
    for (let d = day + 1, i = 0; i < SEARCH_LIMIT_DAYS; d++, i++) if (this.isWorking(d)) return d;
    throw new Error(`No working day within ${SEARCH_LIMIT_DAYS} days after ${formatIsoDate(day)}`);
  }

  private endOfWork(day: number): number {
    const segments = this.tableOfDay(day).segments;
    const end = segments[segments.length - 1]?.[1] ?? 0;
    return day * DAY_MS - this.offsetMs + end * MINUTE_MS;
  }

  private acceptanceDay(ms: number): number {
    const day = this.dayOfInstant(ms);
    return this.isWorking(day) && ms < this.endOfWork(day) ? day : this.nextWorkingDay(day);
  }

  /** Working days among days a..b inclusive (0 when b < a). */
  private countWorking(a: number, b: number): number {
    let total = 0;
    let d = a;
    while (d <= b) {
      const table = this.tableOfDay(d);
      const last = Math.min(b, table.first + table.working.length - 1);
      total += (table.cumulative[last - table.first + 1] ?? 0) - (table.cumulative[d - table.first] ?? 0);
      d = last + 1;
    }
    return total;
  }

  private tableOfDay(day: number): YearTable {
    const recent = this.recent;
    if (recent && day >= recent.first && day - recent.first < recent.working.length) return recent;
    const table = this.table(yearOfDay(day));
    this.recent = table;
    return table;
  }

  private table(year: number): YearTable {
    let table = this.tables.get(year);
    if (!table) {
      table = this.buildTable(year);
      this.tables.set(year, table);
    }
    return table;
  }

  /** The file of `year`, else of the latest earlier year, else of the earliest later one. */
  private templateFor(year: number): CalendarYearInput | undefined {
    const own = this.files.get(year);
    if (own) return own;
    const years = this.years;
    const earlier = years.filter((y) => y < year);
    const pick = earlier.length > 0 ? earlier[earlier.length - 1] : years[0];
    return pick === undefined ? undefined : this.files.get(pick);
  }

  private buildTable(year: number): YearTable {
    const first = firstDayOfYear(year);
    const length = daysInYear(year);
    const template = this.templateFor(year);
    const own = template !== undefined && template.data.year === year;
    const weekend: ReadonlySet<number> = template ? new Set(template.data.weekend) : DEFAULT_WEEKEND;
    const entries = new Map<number, Entry>();

    if (template && own) {
      for (const d of template.data.days) {
        entries.set(parseIsoDate(d.date) ?? 0, { kind: d.kind, name: d.name, confirmed: d.confirmed });
      }
    } else if (template) {
      // Projection: the template's fixed-date holidays on this year's dates, then the law's moves.
      const holidays: { day: number; religious: boolean; name: LocalizedText }[] = [];
      for (const d of template.data.days) {
        if (d.kind !== 'holiday' || d.recurrence !== 'fixed') continue;
        const md = monthDay(parseIsoDate(d.date) ?? 0);
        const day = dayOf(year, md.month, md.day);
        if (day === null) continue;
        holidays.push({ day, religious: d.religious === true, name: d.name });
        entries.set(day, { kind: 'holiday', name: d.name, confirmed: false });
      }
      for (const [from, to] of lawTransfers(holidays, weekend)) {
        if (yearOfDay(to) !== year) continue;
        const holiday = holidays.find((h) => h.day === from);
        if (holiday)
          entries.set(to, { kind: 'transfer', name: movedName(holiday.name, formatIsoDate(from)), confirmed: false });
      }
    }

    const working = new Uint8Array(length);
    const cumulative = new Int32Array(length + 1);
    for (let i = 0; i < length; i++) {
      const day = first + i;
      const entry = entries.get(day);
      const value = (entry ? entry.kind === 'workingDay' : !weekend.has(isoWeekday(day))) ? 1 : 0;
      working[i] = value;
      cumulative[i + 1] = (cumulative[i] ?? 0) + value;
    }

    return {
      info: {
        year,
        source: own ? 'file' : 'projected',
        file: template?.file ?? null,
        confirmed: own ? template.data.confirmed : false,
      },
      first,
      working,
      cumulative,
      entries,
      weekend,
      segments: template ? segmentsOf(template.data) : DEFAULT_SEGMENTS,
    };
  }
}
