/**
 * The server's one way to the database, the same over PostgreSQL (`pg`,
 * when DATABASE_URL is set) and the embedded default (PGlite in a data
 * folder): parameterised queries and transactions. Drizzle builds typed
 * queries on top where it helps (db/orm.ts); hot paths write SQL.
 *
 * Both backends answer alike: bigint columns as JS numbers (versions, seqs
 * and ms times all stay far below 2^53), jsonb as parsed values, bytea as
 * bytes (`bytes()` turns either backend's into a Buffer).
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

export interface Sql {
  /** Rows of a parameterised query ($1, $2…). */
  query<T extends Record<string, unknown> = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** The same, each row as an array of its columns in order (what drizzle's proxy driver reads). */
  queryArrays(text: string, params?: unknown[]): Promise<unknown[][]>;
  /** A script of several statements, no parameters (migrations). */
  exec(text: string): Promise<void>;
  /**
   * Runs `fn` in one transaction (READ COMMITTED; take row locks with
   * SELECT … FOR UPDATE where order matters). Commits when `fn` resolves,
   * rolls back when it throws. Nested calls run in the outer transaction.
   */
  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** Whether this handle is inside a transaction (tx's callback gets one that is). */
  readonly inTransaction: boolean;
  readonly kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

/** A bytea value as either backend returns it, as a Buffer. */
export function bytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError('not a bytea value');
}

/** The SQLSTATE of a database error, if it is one (23505 unique_violation, 40P01 deadlock…). */
export function sqlState(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

interface Client {
  query(text: string, params: unknown[] | undefined, arrays: boolean): Promise<unknown[]>;
  exec(text: string): Promise<void>;
}

function handle(
  kind: Sql['kind'],
  client: Client,
  tx: Sql['tx'],
  inTransaction: boolean,
  close: () => Promise<void>,
): Sql {
  return {
    kind,
    inTransaction,
    query: async <T extends Record<string, unknown>>(text: string, params?: unknown[]) =>
      (await client.query(text, params, false)) as T[],
    queryArrays: async (text, params) => (await client.query(text, params, true)) as unknown[][],
    exec: (text) => client.exec(text),
    tx,
    close,
  };
}

/** A handle bound to one open transaction: nested `tx` calls run in it. */
function inTx(kind: Sql['kind'], client: Client): Sql {
  const self: Sql = handle(
    kind,
    client,
    (fn) => fn(self),
    true,
    () => Promise.resolve(),
  );
  return self;
}

const INT8_OID = 20;
const numericInt8: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

function pgClient(q: pg.Pool | pg.PoolClient): Client {
  return {
    query: async (text, params, arrays) =>
      arrays
        ? (await q.query<unknown[]>({ text, values: params, rowMode: 'array' })).rows
        : (await q.query(text, params)).rows,
    exec: async (text) => {
      // Without parameters pg uses the simple query protocol: several statements in one go.
      await q.query(text);
    },
  };
}

/** A pool over a real PostgreSQL server. */
export function postgresSql(url: string, max = 10): Sql {
  const pool = new pg.Pool({ connectionString: url, max, types: numericInt8 });
  // Without a listener an idle client's error (the server restarted) would crash the process.
  pool.on('error', () => undefined);
  return handle(
    'postgres',
    pgClient(pool),
    async (fn) => {
      const client = await pool.connect();
      // A client whose connection broke must not go back to the pool.
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(inTx('postgres', pgClient(client)));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch((err: unknown) => {
          broken = err instanceof Error ? err : new Error(String(err));
        });
        throw e;
      } finally {
        client.release(broken);
      }
    },
    false,
    () => pool.end(),
  );
}

interface PgliteLike {
  query(text: string, params?: unknown[], options?: { rowMode?: 'array' | 'object' }): Promise<{ rows: unknown[] }>;
  exec(text: string): Promise<unknown>;
}

function pgliteClient(db: PgliteLike): Client {
  return {
    query: async (text, params, arrays) => (await db.query(text, params, arrays ? { rowMode: 'array' } : {})).rows,
    exec: async (text) => {
      await db.exec(text);
    },
  };
}

/**
 * PGlite in `dataDir` (or in memory when null). One connection: PGlite runs
 * one query at a time, and its `transaction` serialises transactions (a
 * query outside waits for the open transaction to end).
 */
export async function pgliteSql(dataDir: string | null): Promise<Sql> {
  const db = dataDir ? new PGlite(dataDir) : new PGlite();
  await db.waitReady;
  return handle(
    'pglite',
    pgliteClient(db),
    (fn) => db.transaction((tx) => fn(inTx('pglite', pgliteClient(tx)))),
    false,
    () => db.close(),
  );
}
