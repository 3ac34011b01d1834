/**
 * The server's migrations: server/migrations/*.sql applied in name order at
 * start, each in its own transaction and recorded in `schema_migrations`.
 *
 * Several instances may start at once on one database: each migration's
 * transaction first takes a transaction-scoped advisory lock, then looks
 * again at what is recorded, so a migration another instance applied while
 * this one waited is skipped, never applied twice.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sql } from './sql.js';

/** server/migrations, beside src/. */
export const MIGRATIONS_DIR = join(import.meta.dirname, '..', '..', 'migrations');

/** The advisory lock key every instance's migrations take (any constant bigint works; this is "qyzmet" in ASCII). */
const MIGRATION_LOCK = 0x71797a6d6574;

export interface Migration {
  name: string;
  sql: string;
}

/** The *.sql files of `dir`, in name order. */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') }));
}

/** Applies the migrations this database has not applied yet; returns their names. */
export async function migrate(
  sql: Sql,
  migrations: readonly Migration[] = readMigrations(),
  now = Date.now,
): Promise<string[]> {
  const applied: string[] = [];
  for (const m of migrations) {
    const done = await sql.tx(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await tx.exec('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at bigint NOT NULL)');
      const seen = await tx.query('SELECT 1 FROM schema_migrations WHERE name = $1', [m.name]);
      if (seen.length > 0) return false;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)', [m.name, now()]);
      return true;
    });
    if (done) applied.push(m.name);
  }
  return applied;
}
