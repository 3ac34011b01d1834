/**
 * The pull feed: per partition, the latest state of every (entity, id) with
 * the version that wrote it, or its tombstone. Every domain write takes its
 * versions with `bump` and writes its feed rows with `writeFeed` in the same
 * transaction, so a puller sees a change exactly when it is committed.
 *
 * Why versions commit in order: `bump` moves the partition's row in
 * `partitions` with an UPDATE (an upsert), which takes that row's lock and
 * keeps it until the transaction ends. A second writer to the partition
 * waits on the lock and, once the first has committed, reads the moved
 * version and goes past it. So no version becomes visible while a lower one
 * of the same partition is still uncommitted, and a puller that has read up
 * to version v can never later find a row below v appear: the cursor is
 * safe to move to any version it has seen. (Writers of different partitions
 * do not wait for each other; a transaction that writes to several takes
 * them in name order, see `bumpAll`.)
 */
import { GLOBAL_PARTITION, providerPartition, type PullEntity } from './protocol.js';
import type { Sql } from './db/sql.js';

export { GLOBAL_PARTITION, providerPartition };

export type FeedOp = 'upsert' | 'delete';

export interface FeedWrite {
  entity: PullEntity;
  id: string;
  op: FeedOp;
  /** The row's data (protocol.ts FEED_DATA[entity]); null for a delete. */
  data: unknown;
}

function mustBeInTransaction(sql: Sql, what: string): void {
  // Outside a transaction the lock would be released at once and versions could commit out of order.
  if (!sql.inTransaction) throw new Error(`${what} must run inside a transaction`);
}

/**
 * Takes `count` new versions of `partition` (locking its row until the
 * transaction ends) and returns the highest: the versions are
 * `returned - count + 1 … returned`.
 */
export async function bump(sql: Sql, partition: string, count = 1): Promise<number> {
  mustBeInTransaction(sql, 'bump');
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`bump: count ${count}`);
  const [row] = await sql.query<{ version: number }>(
    `INSERT INTO partitions (partition, version) VALUES ($1, $2)
     ON CONFLICT (partition) DO UPDATE SET version = partitions.version + EXCLUDED.version
     RETURNING version`,
    [partition, count],
  );
  if (!row) throw new Error(`bump: no version for ${partition}`);
  return Number(row.version);
}

/** Upserts the feed row of (entity, id) in `partition` at `version` (a version from `bump` of this transaction). */
export async function writeFeed(
  sql: Sql,
  partition: string,
  entity: PullEntity,
  id: string,
  op: FeedOp,
  data: unknown,
  version: number,
): Promise<void> {
  mustBeInTransaction(sql, 'writeFeed');
  await sql.query(
    `INSERT INTO feed (partition, entity, id, version, op, data) VALUES ($1, $2, $3, $4, $5, $6::jsonb)
     ON CONFLICT (partition, entity, id) DO UPDATE SET version = EXCLUDED.version, op = EXCLUDED.op, data = EXCLUDED.data`,
    [partition, entity, id, version, op, op === 'delete' || data === null ? null : JSON.stringify(data)],
  );
}

/**
 * Writes several feed rows of one partition at once: one `bump` for all,
 * each row its own version in the order given, one statement. Returns the
 * highest version (the one that holds the whole write).
 */
export async function publish(sql: Sql, partition: string, rows: readonly FeedWrite[]): Promise<number> {
  mustBeInTransaction(sql, 'publish');
  if (rows.length === 0) throw new RangeError('publish: no rows');
  const last = await bump(sql, partition, rows.length);
  const first = last - rows.length + 1;
  await writeFeedRows(
    sql,
    rows.map((r, i) => ({ partition, version: first + i, ...r })),
  );
  return last;
}

/** Feed rows with their versions already taken (seeding takes a partition's versions in bulk). */
export async function writeFeedRows(
  sql: Sql,
  rows: readonly (FeedWrite & { partition: string; version: number })[],
): Promise<void> {
  mustBeInTransaction(sql, 'writeFeedRows');
  if (rows.length === 0) return;
  const records = rows.map((r) => ({
    p: r.partition,
    e: r.entity,
    i: r.id,
    v: r.version,
    o: r.op,
    d: r.op === 'delete' ? null : r.data,
  }));
  await sql.query(
    `INSERT INTO feed (partition, entity, id, version, op, data)
     SELECT p, e, i, v, o, CASE WHEN o = 'delete' THEN NULL ELSE d END
       FROM jsonb_to_recordset($1::jsonb) AS r(p text, e text, i text, v bigint, o text, d jsonb)
     ON CONFLICT (partition, entity, id) DO UPDATE SET version = EXCLUDED.version, op = EXCLUDED.op, data = EXCLUDED.data`,
    [JSON.stringify(records)],
  );
}

/** Takes versions in several partitions in a fixed (name) order, so two such writers never deadlock. */
export async function bumpAll(sql: Sql, counts: ReadonlyMap<string, number>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const partition of [...counts.keys()].sort()) {
    out.set(partition, await bump(sql, partition, counts.get(partition)!));
  }
  return out;
}

/** The committed version of a partition (0 when nothing was ever written to it). */
export async function partitionVersion(sql: Sql, partition: string): Promise<number> {
  const [row] = await sql.query<{ version: number }>('SELECT version FROM partitions WHERE partition = $1', [
    partition,
  ]);
  return row ? Number(row.version) : 0;
}
