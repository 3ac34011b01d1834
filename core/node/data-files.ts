/**
 * Data files the app loads at start (service definitions, calendars): every
 * `*.json` of a folder, each parsed and validated on its own, so one broken
 * file is reported (file, field, message, in plain English for the
 * administrator) and skipped while the good ones load.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { z } from 'zod';

export interface DataFileProblem {
  /** Base name of the file, e.g. `kz-2026.json`. */
  file: string;
  /** Dotted path of the field, `(file)` for the file as a whole, `(folder)` for the folder. */
  field: string;
  message: string;
}

export type Parsed<T> = { ok: true; data: T } | { ok: false; problems: DataFileProblem[] };

export const FILE_FIELD = '(file)';
export const FOLDER_FIELD = '(folder)';

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function joinPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === 'symbol' ? (p.description ?? '') : String(p))).join('.');
}

/** One problem per zod issue; unknown keys become one problem per key, naming the key itself. */
export function issuesToProblems(file: string, issues: ReadonlyArray<z.core.$ZodIssue>): DataFileProblem[] {
  const problems: DataFileProblem[] = [];
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

/** Parses one file's text as JSON (a byte-order mark allowed) and validates it with `schema`. */
export function parseDataFile<T>(file: string, text: string, schema: z.ZodType<T>): Parsed<T> {
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    return { ok: false, problems: [{ file, field: FILE_FIELD, message: `Not valid JSON: ${errorText(err)}` }] };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, problems: issuesToProblems(file, parsed.error.issues) };
  return { ok: true, data: parsed.data };
}

/**
 * Reads every `*.json` in `dir`, in code-unit order of their names (the same
 * on every machine, whatever the locale), parsing each with `parse`. A folder
 * that cannot be read gives one problem worded by `folderProblem`.
 */
export function readDataFolder<T>(
  dir: string,
  parse: (file: string, text: string) => Parsed<T>,
  folderProblem: (reason: string) => string,
): { files: { name: string; data: T }[]; problems: DataFileProblem[] } {
  const files: { name: string; data: T }[] = [];
  const problems: DataFileProblem[] = [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.toLowerCase().endsWith('.json'));
  } catch (err) {
    problems.push({ file: basename(dir), field: FOLDER_FIELD, message: folderProblem(errorText(err)) });
    return { files, problems };
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
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
    const result = parse(name, text);
    if (result.ok) files.push({ name, data: result.data });
    else problems.push(...result.problems);
  }
  return { files, problems };
}
