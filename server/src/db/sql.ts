/**
 * The server's one way to the database, the same over PostgreSQL (`pg`,
 * when DATABASE_URL is set) and the embedded default (PGlite in a data
 * folder): parameterised queries and transactions. Drizzle builds typed
 * queries on top where it helps; hot paths write SQL.
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

export interface Sql {
  /** Rows of a parameterised query ($1, $2…). */
  query<T extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /**
   * Runs `fn` in one transaction (READ COMMITTED; take row locks with
   * SELECT … FOR UPDATE where order matters). Commits when `fn` resolves,
   * rolls back when it throws. Nested calls run in the outer transaction.
   */
  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  readonly kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

/** pg's and PGlite's answers share the shape { rows }. */
interface Queryable {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

function wrap(kind: Sql['kind'], client: Queryable, begin: <T>(fn: (sql: Sql) => Promise<T>) => Promise<T>, close: () => Promise<void>): Sql {
  const self: Sql = {
    kind,
    query: async <T extends Record<string, unknown>>(text: string, params?: unknown[]) =>
      (await client.query(text, params)).rows as T[],
    tx: begin,
    close,
  };
  return self;
}

function inTx(kind: Sql['kind'], client: Queryable): Sql {
  const self: Sql = wrap(
    kind,
    client,
    (fn) => fn(self),
    () => Promise.resolve(),
  );
  return self;
}

/** A pool over a real PostgreSQL server. */
export function postgresSql(url: string, max = 10): Sql {
  const pool = new pg.Pool({ connectionString: url, max });
  // Without a listener an idle client's error (the server restarted) would crash the process.
  pool.on('error', () => undefined);
  return wrap(
    'postgres',
    pool,
    async (fn) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(inTx('postgres', client));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    },
    () => pool.end(),
  );
}

/**
 * PGlite in `dataDir` (or in memory when null). One connection: PGlite runs
 * one query at a time, and its `transaction` serialises transactions.
 */
export async function pgliteSql(dataDir: string | null): Promise<Sql> {
  const db = dataDir ? new PGlite(dataDir) : new PGlite();
  await db.waitReady;
  return wrap(
    'pglite',
    db,
    (fn) => db.transaction((tx) => fn(inTx('pglite', tx))),
    () => db.close(),
  );
}
