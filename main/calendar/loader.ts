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
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { z } from 'zod';
import { calendarYear, type CalendarYear } from './schema.js';
import { WorkingCalendar, type CalendarYearInput, type WorkingCalendarOptions } from './workdays.js';

export interface CalendarProblem {
  /** Base name of the file, e.g. `kz-2026.json`. */
  file: string;
  /** Dotted path of the field, `(file)` for the file as a whole, `(folder)` for the folder. */
  field: string;
  message: string;
}

export interface LoadedCalendars {
  calendar: WorkingCalendar;
  problems: CalendarProblem[];
  /** The years loaded from files, ascending. */
  years: { year: number; file: string; confirmed: boolean }[];
}

export const FILE_FIELD = '(file)';
export const FOLDER_FIELD = '(folder)';

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function joinPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === 'symbol' ? (p.description ?? '') : String(p))).join('.');
}

/** One problem per zod issue; unknown keys become one problem per key, naming the key itself. */
function issuesToProblems(file: string, issues: ReadonlyArray<z.core.$ZodIssue>): CalendarProblem[] {
  const problems: CalendarProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({ file, field: joinPath([...issue.path, key]), message: 'Unknown field' });
      }
      continue;
    }
    problems.push({ file, field: joinPath(issue.path) || '(root)', message: issue.message });
  }
  return problems;
}

/** Parses and validates one file's text. */
export function parseCalendarFile(
  file: string,
  text: string,
): { ok: true; data: CalendarYear } | { ok: false; problems: CalendarProblem[] } {
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    return { ok: false, problems: [{ file, field: FILE_FIELD, message: `Not valid JSON: ${errorText(err)}` }] };
  }
  const parsed = calendarYear.safeParse(json);
  if (!parsed.success) return { ok: false, problems: issuesToProblems(file, parsed.error.issues) };
  const named = /(?:^|\D)(\d{4})\.json$/i.exec(file);
  if (named && Number(named[1]) !== parsed.data.year) {
    return {
      ok: false,
      problems: [
        { file, field: 'year', message: `The file name says ${named[1]} but the file is for ${parsed.data.year}` },
      ],
    };
  }
  return { ok: true, data: parsed.data };
}

/**
 * Reads every `*.json` in `dir` (sorted by name), validates each and builds
 * the calendar from the good ones. A year given twice keeps the first file;
 * a file whose UTC offset differs from the first good file's is skipped (one
 * calendar has one offset). `options` apply when no file loads.
 */
export function loadCalendars(dir: string, options: WorkingCalendarOptions = {}): LoadedCalendars {
  const problems: CalendarProblem[] = [];
  const inputs: CalendarYearInput[] = [];

  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((name) => name.toLowerCase().endsWith('.json'));
  } catch (err) {
    problems.push({
      file: basename(dir),
      field: FOLDER_FIELD,
      message: `Cannot read the calendar folder: ${errorText(err)}; working days are weekends only`,
    });
  }
  // Code-unit order: the same on every machine, whatever the locale.
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  const byYear = new Map<number, string>();
  for (const name of names) {
    const path = join(dir, name);
    let text: string;
    try {
      if (!statSync(path).isFile()) continue;
      text = readFileSync(path, 'utf8');
    } catch (err) {
      problems.push({ file: name, field: FILE_FIELD, message: `Cannot read the file: ${errorText(err)}` });
      continue;
    }
    const result = parseCalendarFile(name, text);
    if (!result.ok) {
      problems.push(...result.problems);
      continue;
    }
    const { data } = result;
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
    calendar: new WorkingCalendar(inputs, options),
    problems,
    years: inputs.map((i) => ({ year: i.data.year, file: i.file, confirmed: i.data.confirmed })),
  };
}
