/**
 * Loading the working-day calendar at start: every `*.json` of a folder
 * (`resources/calendars`) is parsed and validated as one year. A bad file is
 * reported and skipped, the good ones load, so one broken year never takes
 * the calendar down; years without a good file are projected (workdays.ts)
 * and reported as not confirmed.
 *
 * Problems are plain English for the administrator: the file's base name,
 * the path of the offending field (e.g. `days.4.kind`, or `(file)` when the
 * file cannot be read or is not JSON) and a message.
 */
import { parseDataFile, readDataFolder, type DataFileProblem, type Parsed } from './data-files.js';
import { calendarYear, type CalendarYear } from '../calendar/schema.js';
import { WorkingDayCalendar, type CalendarYearInput, type WorkingDayCalendarOptions } from '../calendar/workdays.js';

export { FILE_FIELD, FOLDER_FIELD } from './data-files.js';
export type CalendarProblem = DataFileProblem;

export interface LoadedCalendars {
  calendar: WorkingDayCalendar;
  problems: CalendarProblem[];
  /** The years loaded from files, ascending. */
  years: { year: number; file: string; confirmed: boolean }[];
}

/** Parses and validates one file's text; the year in the file name must be the file's year. */
export function parseCalendarFile(file: string, text: string): Parsed<CalendarYear> {
  const parsed = parseDataFile(file, text, calendarYear);
  if (!parsed.ok) return parsed;
  const named = /(?:^|\D)(\d{4})\.json$/i.exec(file);
  if (named && Number(named[1]) !== parsed.data.year) {
    return {
      ok: false,
      problems: [
        { file, field: 'year', message: `The file name says ${named[1]} but the file is for ${parsed.data.year}` },
      ],
    };
  }
  return parsed;
}

/**
 * Reads every `*.json` in `dir` (sorted by name), validates each and builds
 * the calendar from the good ones. A year given twice keeps the first file;
 * a file whose UTC offset differs from the first good file's is skipped (one
 * calendar has one offset). `options` apply when no file loads.
 */
export function loadCalendars(dir: string, options: WorkingDayCalendarOptions = {}): LoadedCalendars {
  const problems: CalendarProblem[] = [];
  const inputs: CalendarYearInput[] = [];

  const read = readDataFolder(
    dir,
    parseCalendarFile,
    (reason) => `Cannot read the calendar folder: ${reason}; working days are weekends only`,
  );
  problems.push(...read.problems);

  const byYear = new Map<number, string>();
  for (const { name, data } of read.files) {
    const earlier = byYear.get(data.year);
    if (earlier !== undefined) {
      problems.push({
        file: name,
        field: 'year',
        message: `Year ${data.year} is already defined in ${earlier}; this file is skipped`,
      });
      continue;
    }
    const offset = inputs[0]?.data.timeZone.utcOffsetMinutes;
    if (offset !== undefined && data.timeZone.utcOffsetMinutes !== offset) {
      problems.push({
        file: name,
        field: 'timeZone.utcOffsetMinutes',
        message: `UTC offset ${data.timeZone.utcOffsetMinutes} differs from ${offset} in ${inputs[0]?.file}; this file is skipped`,
      });
      continue;
    }
    byYear.set(data.year, name);
    inputs.push({ file: name, data });
  }

  inputs.sort((a, b) => a.data.year - b.data.year);
  return {
    calendar: new WorkingDayCalendar(inputs, options),
    problems,
    years: inputs.map((i) => ({ year: i.data.year, file: i.file, confirmed: i.data.confirmed })),
  };
}
