/**
 * Loading the service catalogue at start: every `*.json` of a folder
 * (`resources/services`) is parsed and validated against the schema. A bad
 * file is reported and skipped, the good ones load, so one broken definition
 * never takes the whole catalogue down.
 *
 * Problems are plain English for the administrator: the file's base name,
 * the path of the offending field (e.g. `steps.2.limit.unit`, or `(file)` when
 * the file cannot be read or is not JSON) and a message.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { sql } from 'drizzle-orm';
import type { z } from 'zod';
import { services as servicesTable } from '../../db/schema.js';
import { serviceDefinition, type ServiceDefinition } from './schema.js';

export interface CatalogueProblem {
  /** Base name of the file, e.g. `grant-small-business.json`. */
  file: string;
  /** Dotted path of the field, `(file)` for the file as a whole, `(folder)` for the folder. */
  field: string;
  message: string;
}

export interface LoadedCatalogue {
  /** Valid definitions, in the order of their file names. */
  services: ServiceDefinition[];
  problems: CatalogueProblem[];
  /** Base name of the file each loaded service came from, by service code. */
  sourceFiles: Record<string, string>;
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
export function issuesToProblems(file: string, issues: ReadonlyArray<z.core.$ZodIssue>): CatalogueProblem[] {
  const problems: CatalogueProblem[] = [];
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
export function parseServiceFile(
  file: string,
  text: string,
): { ok: true; service: ServiceDefinition } | { ok: false; problems: CatalogueProblem[] } {
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    return { ok: false, problems: [{ file, field: FILE_FIELD, message: `Not valid JSON: ${errorText(err)}` }] };
  }
  const parsed = serviceDefinition.safeParse(json);
  if (!parsed.success) {
    return { ok: false, problems: issuesToProblems(file, parsed.error.issues) };
  }
  return { ok: true, service: parsed.data };
}

/** Reads every `*.json` in `dir` (sorted by name), validates each and keeps the good ones. */
export function loadCatalogue(dir: string): LoadedCatalogue {
  const services: ServiceDefinition[] = [];
  const problems: CatalogueProblem[] = [];
  const sourceFiles: Record<string, string> = {};

  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.toLowerCase().endsWith('.json'));
  } catch (err) {
    problems.push({
      file: basename(dir),
      field: FOLDER_FIELD,
      message: `Cannot read the catalogue folder: ${errorText(err)}`,
    });
    return { services, problems, sourceFiles };
  }
  // Code-unit order: the same on every machine, whatever the locale.
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
    const result = parseServiceFile(name, text);
    if (!result.ok) {
      problems.push(...result.problems);
      continue;
    }
    const { service } = result;
    const earlier = sourceFiles[service.code];
    if (earlier !== undefined) {
      problems.push({
        file: name,
        field: 'code',
        message: `Duplicate service code "${service.code}" (already defined in ${earlier}); this file is skipped`,
      });
      continue;
    }
    sourceFiles[service.code] = name;
    services.push(service);
  }
  return { services, problems, sourceFiles };
}

/**
 * Upserts the loaded definitions into the `services` table, keyed by code,
 * in one transaction; the whole definition is stored as JSON. Services that
 * are no longer in the folder stay in the table: applications filed under
 * them still need their definition.
 *
 * `sourceFiles` (from `loadCatalogue`) names each service's file; a service
 * missing from it is recorded as `<code>.json`. Returns the number of rows written.
 */
export function syncCatalogueToDb<TSchema extends Record<string, unknown>>(
  db: BetterSQLite3Database<TSchema>,
  services: ReadonlyArray<ServiceDefinition>,
  now: number,
  sourceFiles: Readonly<Record<string, string>> = {},
): number {
  if (!Number.isSafeInteger(now)) throw new RangeError('now must be an integer number of milliseconds');
  return db.transaction((tx) => {
    let written = 0;
    for (const service of services) {
      const row = {
        code: service.code,
        version: service.version,
        nameKk: service.name.kk,
        nameRu: service.name.ru,
        nameEn: service.name.en,
        definition: service,
        sourceFile: sourceFiles[service.code] ?? `${service.code}.json`,
        loadedAt: now,
      };
      tx.insert(servicesTable)
        .values(row)
        .onConflictDoUpdate({
          target: servicesTable.code,
          set: {
            version: sql`excluded.version`,
            nameKk: sql`excluded.name_kk`,
            nameRu: sql`excluded.name_ru`,
            nameEn: sql`excluded.name_en`,
            definition: sql`excluded.definition`,
            sourceFile: sql`excluded.source_file`,
            loadedAt: sql`excluded.loaded_at`,
          },
        })
        .run();
      written += 1;
    }
    return written;
  });
}
