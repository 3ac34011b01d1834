import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { describe, expect, it } from 'vitest';
import { services as servicesTable } from '#db/schema.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { serviceDefinition } from '#core/catalogue/schema.js';
import { minimalService } from '#core/testing.js';
import { syncCatalogueToDb } from './store.js';

const CATALOGUE_DIR = fileURLToPath(new URL('../../resources/services', import.meta.url));

/** The same table as `services` in db/schema.ts (db/migrations/0000_initial.sql). */
const CREATE_SERVICES = `
CREATE TABLE services (
  code text PRIMARY KEY NOT NULL,
  version integer NOT NULL,
  name_kk text NOT NULL,
  name_ru text NOT NULL,
  name_en text NOT NULL,
  definition text NOT NULL,
  source_file text NOT NULL,
  loaded_at integer NOT NULL
)`;

describe('syncCatalogueToDb', () => {
  it('upserts the definitions into the services table and reads them back', () => {
    const sqlite = new Database(':memory:');
    try {
      sqlite.exec(CREATE_SERVICES);
      const db = drizzle(sqlite);
      const { services, sourceFiles } = loadCatalogue(CATALOGUE_DIR);

      expect(syncCatalogueToDb(db, services, 1_700_000_000_000, sourceFiles)).toBe(services.length);
      const rows = db.select().from(servicesTable).all();
      expect(rows.map((r) => r.code).sort()).toEqual(services.map((s) => s.code).sort());
      const grant = rows.find((r) => r.code === 'grant-small-business');
      expect(grant).toMatchObject({
        version: 1,
        sourceFile: 'grant-small-business.json',
        loadedAt: 1_700_000_000_000,
      });
      const original = services.find((s) => s.code === 'grant-small-business');
      expect(grant?.nameKk).toBe(original?.name.kk);
      expect(grant?.definition).toEqual(original);
      // Stored as JSON text, readable by plain SQL too.
      const raw = sqlite.prepare("SELECT definition FROM services WHERE code = 'unemployed-certificate'").get() as {
        definition: string;
      };
      expect(serviceDefinition.parse(JSON.parse(raw.definition)).code).toBe('unemployed-certificate');

      // A second load updates in place: a new version replaces the row, nothing is duplicated.
      const bumped = services.map((s) => (s.code === 'grant-small-business' ? { ...s, version: 2 } : s));
      syncCatalogueToDb(db, bumped, 1_700_000_100_000);
      const after = db.select().from(servicesTable).all();
      expect(after).toHaveLength(services.length);
      const grantAfter = after.find((r) => r.code === 'grant-small-business');
      expect(grantAfter).toMatchObject({ version: 2, loadedAt: 1_700_000_100_000 });
      expect(grantAfter?.sourceFile).toBe('grant-small-business.json');
    } finally {
      sqlite.close();
    }
  });

  it('writes nothing when a row fails (one transaction)', () => {
    const sqlite = new Database(':memory:');
    try {
      // name_en may not be empty here, so the second row fails half-way.
      sqlite.exec(CREATE_SERVICES.replace('name_en text NOT NULL', "name_en text NOT NULL CHECK (name_en <> 'fail')"));
      const db = drizzle(sqlite);
      const a = minimalService('first-ok');
      const b = minimalService('second-fails');
      b.name.en = 'fail';
      expect(() => syncCatalogueToDb(db, [a, b], 1)).toThrow();
      expect(db.select().from(servicesTable).all()).toEqual([]);
    } finally {
      sqlite.close();
    }
  });
});
