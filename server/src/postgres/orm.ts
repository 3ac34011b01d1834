/**
 * Drizzle over the Sql interface (its proxy driver): typed queries that run
 * on whichever handle they are given, the pool or an open transaction, on
 * PostgreSQL and PGlite alike.
 */
import { drizzle, type PgRemoteDatabase } from 'drizzle-orm/pg-proxy';
import * as schema from './schema.js';
import type { Sql } from './sql.js';

export type Orm = PgRemoteDatabase<typeof schema>;

export function orm(sql: Sql): Orm {
  return drizzle(
    async (text, params, method) => ({
      // 'all' reads columns by position (selects); 'execute' wants rows as objects.
      rows: method === 'all' ? await sql.queryArrays(text, params) : await sql.query(text, params),
    }),
    { schema },
  );
}
