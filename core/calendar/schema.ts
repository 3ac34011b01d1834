/**
 * The working-day calendar: what one year file in `resources/calendars/*.json`
 * must look like (docs/domain.md#calendar).
 *
 * A file covers one calendar year: its time zone, the weekend days, the
 * working hours, every day off that is not an ordinary weekend day and every
 * weekend day made a working day, each with its names (kk/ru/en), the acts it
 * comes from and whether that act has confirmed it. Ordinary weekdays and
 * weekend days are not listed.
 *
 * Day kinds:
 * - `holiday`: a public holiday that is a day off (Law on holidays art. 5,
 *   Labour Code art. 84);
 * - `transfer`: a weekday made a day off, a day off moved here `from` a
 *   holiday on a weekend (the law's own move) or from a weekend day made
 *   working (an order of the authorised labour body, Labour Code art. 85
 *   para. 3; a Government decree before);
 * - `workingDay`: a weekend day made a working day, its day off moved `to` a
 *   `transfer`.
 *
 * Objects are strict: an unknown key is an error. Cross-field rules run in
 * `superRefine` and each issue carries the path of the offending field.
 */
import { z } from 'zod';
import { firstDayOfYear, formatIsoDate, isoWeekday, parseHhMm, parseIsoDate, yearOfDay } from './dates.js';
import { lawTransfers } from './rules.js';

/** Text in the three interface languages; none may be empty. */
export const localizedText = z.strictObject({
  kk: z.string().trim().min(1),
  ru: z.string().trim().min(1),
  en: z.string().trim().min(1),
});
export type LocalizedText = z.infer<typeof localizedText>;

export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'Expected a date as YYYY-MM-DD')
  .refine((s) => parseIsoDate(s) !== null, 'Not a real calendar date');

const clockTime = z
  .string()
  .regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'Expected a time of day as HH:MM (00:00–24:00)');

const SOURCE_ID_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const sourceId = z
  .string()
  .max(64)
  .regex(SOURCE_ID_PATTERN, 'Expected a source id of lower-case letters and digits, parts joined by "-"');

export const DAY_KINDS = ['holiday', 'transfer', 'workingDay'] as const;
export type DayKind = (typeof DAY_KINDS)[number];

/** An act or publication a day comes from. */
export const calendarSource = z.strictObject({
  id: sourceId,
  /** Title of the act or publication, in its original language(s), with its number and date. */
  title: z.string().trim().min(1),
  /** The articles or parts that matter here, in English. */
  parts: z.string().trim().min(1).optional(),
  url: z.url().optional(),
  /** What is known or not about it (e.g. number and date not verified), in English. */
  note: z.string().trim().min(1).optional(),
});
export type CalendarSource = z.infer<typeof calendarSource>;

const dayBase = {
  date: isoDate,
  name: localizedText,
  /** Ids of `sources` the day comes from. */
  source: z.array(sourceId).min(1),
  /** Whether the act that decides this day has fixed it (false: expected, not yet published). */
  confirmed: z.boolean(),
  /** Anything a reader should know, in English. */
  note: z.string().trim().min(1).optional(),
};

export const holidayDay = z.strictObject({
  ...dayBase,
  kind: z.literal('holiday'),
  /** `fixed`: the same month and day every year; `movable`: set yearly (Kurban Ait follows the lunar calendar). */
  recurrence: z.enum(['fixed', 'movable']),
  /** Religious holidays (Orthodox Christmas, Kurban Ait) are days off without the move to the next working day. */
  religious: z.boolean().optional(),
});

export const transferDay = z.strictObject({
  ...dayBase,
  kind: z.literal('transfer'),
  /** The holiday on a weekend, or the weekend day made working, whose day off moved here. */
  from: isoDate,
});

export const workingDayDay = z.strictObject({
  ...dayBase,
  kind: z.literal('workingDay'),
  /** The `transfer` day its day off moved to. */
  to: isoDate,
});

export const calendarDay = z.discriminatedUnion('kind', [holidayDay, transferDay, workingDayDay]);
export type CalendarDay = z.infer<typeof calendarDay>;
export type HolidayDay = z.infer<typeof holidayDay>;

export const workingHours = z.strictObject({
  start: clockTime,
  end: clockTime,
  /** Pauses inside the working day that do not count as working time (e.g. lunch). */
  breaks: z.array(z.strictObject({ start: clockTime, end: clockTime })),
});
export type WorkingHoursSpec = z.infer<typeof workingHours>;

export const calendarTimeZone = z.strictObject({
  /** IANA name, for display and for other programs; the arithmetic uses the offset below. */
  id: z.string().trim().min(1),
  /** Offset from UTC in minutes for the whole year (Kazakhstan: +300 since 2024-03-01). */
  utcOffsetMinutes: z
    .int()
    .min(-12 * 60)
    .max(14 * 60),
  note: z.string().trim().min(1).optional(),
});

const calendarYearShape = z.strictObject({
  year: z.int().min(1990).max(2100),
  timeZone: calendarTimeZone,
  /** ISO weekdays that are days off every week: 1 = Monday … 7 = Sunday. */
  weekend: z.array(z.int().min(1).max(7)).min(1).max(6),
  workingHours,
  /**
   * Whether the year is final: the holidays are fixed and the year's moves of
   * days off are published (or it is published that there are none). False
   * for a coming year whose order is not out yet.
   */
  confirmed: z.boolean(),
  /** Why the year is (not) final, in English. */
  status: z.string().trim().min(1),
  sources: z.array(calendarSource).min(1),
  days: z.array(calendarDay),
  notes: z.array(z.string().trim().min(1)).optional(),
});

type Shape = z.infer<typeof calendarYearShape>;
type Ctx = z.RefinementCtx<Shape>;
type Path = (string | number)[];

function issue(ctx: Ctx, path: Path, message: string): void {
  ctx.addIssue({ code: 'custom', path, message });
}

function checkHours(ctx: Ctx, hours: WorkingHoursSpec): void {
  const start = parseHhMm(hours.start) ?? 0;
  const end = parseHhMm(hours.end) ?? 0;
  if (start >= end) issue(ctx, ['workingHours', 'end'], 'The working day must end after it starts');
  let previousEnd = start;
  hours.breaks.forEach((b, i) => {
    const bs = parseHhMm(b.start) ?? 0;
    const be = parseHhMm(b.end) ?? 0;
    if (bs >= be) issue(ctx, ['workingHours', 'breaks', i, 'end'], 'A break must end after it starts');
    else if (bs < previousEnd || be > end) {
      issue(
        ctx,
        ['workingHours', 'breaks', i],
        'Breaks must lie inside the working hours, in order, without overlapping',
      );
    }
    previousEnd = Math.max(previousEnd, be);
  });
}

/** A calendar year with all its cross-field rules. */
export const calendarYear = calendarYearShape.superRefine((cal, ctx) => {
  checkHours(ctx, cal.workingHours);

  const weekend = new Set(cal.weekend);
  if (weekend.size !== cal.weekend.length) issue(ctx, ['weekend'], 'Duplicate weekday in weekend');

  const sourceIds = new Set<string>();
  cal.sources.forEach((s, i) => {
    if (sourceIds.has(s.id)) issue(ctx, ['sources', i, 'id'], `Duplicate source id "${s.id}"`);
    sourceIds.add(s.id);
  });

  // Index the days by date; report what is outside the year or listed twice.
  const byDay = new Map<number, { entry: CalendarDay; index: number }>();
  cal.days.forEach((entry, i) => {
    const day = parseIsoDate(entry.date) ?? 0;
    if (yearOfDay(day) !== cal.year) {
      issue(ctx, ['days', i, 'date'], `The date is not in ${cal.year}`);
    }
    const seen = byDay.get(day);
    if (seen) issue(ctx, ['days', i, 'date'], `Date ${entry.date} is listed twice (first at days.${seen.index})`);
    else byDay.set(day, { entry, index: i });
    entry.source.forEach((id, j) => {
      if (!sourceIds.has(id)) issue(ctx, ['days', i, 'source', j], `Unknown source id "${id}"`);
    });
    if (cal.confirmed && !entry.confirmed) {
      issue(ctx, ['days', i, 'confirmed'], 'A year marked confirmed cannot have unconfirmed days');
    }
  });

  const isWeekend = (day: number) => weekend.has(isoWeekday(day));
  const transfersFrom = new Map<number, number>();
  cal.days.forEach((entry, i) => {
    const day = parseIsoDate(entry.date) ?? 0;
    if (entry.kind === 'transfer') {
      if (isWeekend(day)) issue(ctx, ['days', i, 'date'], 'A day off can only move to a weekday');
      const from = parseIsoDate(entry.from) ?? 0;
      const earlier = transfersFrom.get(from);
      if (earlier !== undefined) {
        issue(ctx, ['days', i, 'from'], `The day off of ${entry.from} already moved (days.${earlier})`);
      }
      transfersFrom.set(from, i);
      if (yearOfDay(from) !== cal.year) return; // a move across New Year: the other file holds its origin
      const origin = byDay.get(from)?.entry;
      if (!origin || origin.kind === 'transfer') {
        issue(ctx, ['days', i, 'from'], `${entry.from} is neither a holiday nor a working weekend day in this file`);
      } else if (origin.kind === 'holiday' && (origin.religious || !isWeekend(from))) {
        issue(
          ctx,
          ['days', i, 'from'],
          `${entry.from} is a holiday that does not move: it is ${origin.religious ? 'religious' : 'not on a weekend'}`,
        );
      } else if (origin.kind === 'workingDay' && origin.to !== entry.date) {
        issue(ctx, ['days', i, 'from'], `The working day ${entry.from} moves its day off to ${origin.to}, not here`);
      }
    } else if (entry.kind === 'workingDay') {
      if (!isWeekend(day)) issue(ctx, ['days', i, 'date'], 'Only a weekend day can be made a working day');
      const to = parseIsoDate(entry.to) ?? 0;
      if (yearOfDay(to) !== cal.year) return;
      const target = byDay.get(to)?.entry;
      if (!target || target.kind !== 'transfer' || target.from !== entry.date) {
        issue(ctx, ['days', i, 'to'], `Expected a transfer on ${entry.to} with from = ${entry.date}`);
      }
    }
  });

  // The law's own moves: every non-religious holiday on a weekend moves its
  // day off to the next free working day, and to exactly that day.
  const holidays = cal.days.flatMap((entry, index) =>
    entry.kind === 'holiday'
      ? [{ day: parseIsoDate(entry.date) ?? 0, religious: entry.religious === true, index }]
      : [],
  );
  const lastDay = firstDayOfYear(cal.year + 1) - 1;
  for (const [from, expected] of lawTransfers(holidays, weekend)) {
    const holiday = holidays.find((h) => h.day === from);
    const transferIndex = transfersFrom.get(from);
    if (transferIndex === undefined) {
      if (expected > lastDay) continue; // moves into next year: that file lists it
      issue(
        ctx,
        ['days', holiday?.index ?? 0],
        `This holiday falls on a weekend: add a transfer on ${formatIsoDate(expected)} with from = ${formatIsoDate(from)} (Law on holidays, art. 5)`,
      );
      continue;
    }
    const transfer = cal.days[transferIndex];
    if (transfer && transfer.date !== formatIsoDate(expected)) {
      issue(
        ctx,
        ['days', transferIndex, 'date'],
        `The day off of ${formatIsoDate(from)} moves to the next free working day, ${formatIsoDate(expected)}`,
      );
    }
  }
});

export type CalendarYear = z.infer<typeof calendarYear>;
