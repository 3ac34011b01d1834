/**
 * The workstation's copy of the service catalogue: the definitions loaded
 * from `resources/services` (core/node/catalogue-loader.ts) written into the
 * `services` table, where applications find the definition they were filed under.
 */
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { sql } from 'drizzle-orm';
import { services as servicesTable } from '#db/schema.js';
import type { ServiceDefinition } from '#core/catalogue/schema.js';

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
