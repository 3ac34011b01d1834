/**
 * The server's reference files, loaded at every start: the service catalogue
 * (resources/services/*.json, core/node/catalogue-loader.ts) and the working-day
 * calendars (resources/calendars/*.json, core/node/calendar-loader.ts), both
 * validated as the workstation validates them. A definition that changed is
 * written with its feed row in the global partition; one that did not is
 * left alone, so a restart moves no versions.
 */
import { join } from 'node:path';
import { canonicalJson } from '#core/workflow/chain.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { parseCalendarFile } from '#core/node/calendar-loader.js';
import { readDataFolder, type DataFileProblem } from '#core/node/data-files.js';
import type { Sql } from './postgres/sql.js';
import { GLOBAL_PARTITION, publish, type FeedWrite } from './feed.js';

/** resources/ of the repository. */
export const RESOURCES_DIR = join(import.meta.dirname, '..', '..', 'resources');

const REFERENCE_LOCK = 0x71797a72656600;

export interface ReferenceResult {
  services: number;
  calendars: number;
  /** Definitions written this time (new or changed). */
  written: number;
  problems: DataFileProblem[];
}

export async function syncReference(sql: Sql, resourcesDir = RESOURCES_DIR): Promise<ReferenceResult> {
  const catalogue = loadCatalogue(join(resourcesDir, 'services'));
  const calendars = readDataFolder(
    join(resourcesDir, 'calendars'),
    parseCalendarFile,
    (reason) => `Cannot read the calendar folder: ${reason}`,
  );
  const problems = [...catalogue.problems, ...calendars.problems];
  const written = await sql.tx(async (tx) => {
    // Instances starting together compare and write one after the other.
    await tx.query('SELECT pg_advisory_xact_lock($1)', [REFERENCE_LOCK]);
    const stored = new Map<string, string>();
    for (const r of await tx.query<{ code: string; version: number; definition: unknown }>(
      'SELECT code, version, definition FROM services FOR UPDATE',
    )) {
      stored.set(`service:${r.code}`, canonicalJson({ version: r.version, definition: r.definition }));
    }
    for (const r of await tx.query<{ year: number; definition: unknown }>(
      'SELECT year, definition FROM calendars FOR UPDATE',
    )) {
      stored.set(`calendar:${r.year}`, canonicalJson(r.definition));
    }
    const rows: FeedWrite[] = [];
    for (const s of catalogue.services) {
      // The JSON round trip drops what JSON cannot hold, as jsonb would.
      const definition: unknown = JSON.parse(JSON.stringify(s));
      if (stored.get(`service:${s.code}`) === canonicalJson({ version: s.version, definition })) continue;
      await tx.query(
        `INSERT INTO services (code, version, definition) VALUES ($1, $2, $3::jsonb)
         ON CONFLICT (code) DO UPDATE SET version = EXCLUDED.version, definition = EXCLUDED.definition`,
        [s.code, s.version, JSON.stringify(definition)],
      );
      rows.push({
        entity: 'service',
        id: s.code,
        op: 'upsert',
        data: { code: s.code, version: s.version, definition },
      });
    }
    for (const { data } of calendars.files) {
      const definition: unknown = JSON.parse(JSON.stringify(data));
      if (stored.get(`calendar:${data.year}`) === canonicalJson(definition)) continue;
      await tx.query(
        `INSERT INTO calendars (year, definition) VALUES ($1, $2::jsonb)
         ON CONFLICT (year) DO UPDATE SET definition = EXCLUDED.definition`,
        [data.year, JSON.stringify(definition)],
      );
      rows.push({ entity: 'calendar', id: String(data.year), op: 'upsert', data: { year: data.year, definition } });
    }
    if (rows.length > 0) await publish(tx, GLOBAL_PARTITION, rows);
    return rows.length;
  });
  return { services: catalogue.services.length, calendars: calendars.files.length, written, problems };
}
