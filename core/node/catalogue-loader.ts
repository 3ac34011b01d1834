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
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { sql } from 'drizzle-orm';
import { services as servicesTable } from '#db/schema.js';
import { parseDataFile, readDataFolder, type DataFileProblem, type Parsed } from './data-files.js';
import { serviceDefinition, type ServiceDefinition } from '../catalogue/schema.js';

export { FILE_FIELD, FOLDER_FIELD } from './data-files.js';
export type CatalogueProblem = DataFileProblem;

export interface LoadedCatalogue {
  /** Valid definitions, in the order of their file names. */
  services: ServiceDefinition[];
  problems: CatalogueProblem[];
  /** Base name of the file each loaded service came from, by service code. */
  sourceFiles: Record<string, string>;
}

/** Parses and validates one file's text. */
export function parseServiceFile(file: string, text: string): Parsed<ServiceDefinition> {
  return parseDataFile(file, text, serviceDefinition);
}

/** Reads every `*.json` in `dir` (sorted by name), validates each and keeps the good ones. */
export function loadCatalogue(dir: string): LoadedCatalogue {
  const { files, problems } = readDataFolder(
    dir,
    parseServiceFile,
    (reason) => `Cannot read the catalogue folder: ${reason}`,
  );
  const services: ServiceDefinition[] = [];
  const sourceFiles: Record<string, string> = {};
  for (const { name, data: service } of files) {
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
