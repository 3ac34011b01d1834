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
import type { PullEntity } from '#core/protocol.js';
import { GLOBAL_PARTITION, providerPartition } from '#core/vocabulary.js';
import type { Sql } from './postgres/sql.js';

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

interface Buffered extends FeedWrite {
  partition: string;
  ticket: number;
}

/**
 * Feed rows of one transaction, written at its end: what a push of many
 * changes writes. Each row gets a ticket when queued (the order of the
 * writes); `flush` takes the versions, one `bump` per partition just before
 * the commit (so the partition's lock is held only for the flush), gives
 * them in ticket order, writes the rows in one statement and sets the
 * `server_version` of the applications written.
 *
 * A row written twice in the transaction is written once, in its latest
 * state: the version of an earlier ticket for it is the later one's (it
 * holds that earlier state too).
 */
export class FeedBuffer {
  private readonly rows = new Map<string, Buffered>();
  private readonly keyOf: string[] = [];
  private readonly applications = new Map<string, number>();
  private versions: Map<string, number> | null = null;

  /** Queues a row; its ticket. */
  write(partition: string, row: FeedWrite): number {
    if (this.versions) throw new Error('FeedBuffer: written after flush');
    const key = `${partition}\0${row.entity}\0${row.id}`;
    const ticket = this.keyOf.length;
    this.keyOf.push(key);
    this.rows.delete(key); // re-inserted last: Map order is ticket order
    this.rows.set(key, { ...row, partition, ticket });
    return ticket;
  }

  /** The next ticket `write` will give (tickets from here on belong to what is written next). */
  get mark(): number {
    return this.keyOf.length;
  }

  /** Sets the application's `server_version` to the version of `ticket` at flush. */
  applicationAt(applicationId: string, ticket: number): void {
    this.applications.set(applicationId, ticket);
  }

  /**
   * Versions taken, rows and application versions written. `applications`,
   * when given, writes the applications itself with the versions their rows
   * got (id → version; one statement for both, where the buffer alone would
   * only set server_version).
   */
  async flush(sql: Sql, applications?: (versions: ReadonlyMap<string, number>) => Promise<void>): Promise<void> {
    mustBeInTransaction(sql, 'FeedBuffer.flush');
    const rows = [...this.rows.values()];
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.partition, (counts.get(r.partition) ?? 0) + 1);
    const last = await bumpAll(sql, counts);
    const next = new Map([...last].map(([p, v]) => [p, v - counts.get(p)! + 1]));
    const versions = new Map<string, number>();
    const written = rows.map((r) => {
      const version = next.get(r.partition)!;
      next.set(r.partition, version + 1);
      versions.set(`${r.partition}\0${r.entity}\0${r.id}`, version);
      return { ...r, version };
    });
    await writeFeedRows(sql, written);
    this.versions = versions;
    const serverVersions = new Map([...this.applications].map(([id, ticket]) => [id, this.version(ticket)]));
    if (applications) {
      await applications(serverVersions);
    } else if (serverVersions.size > 0) {
      await sql.query(
        `UPDATE applications a SET server_version = r.v
           FROM jsonb_to_recordset($1::jsonb) AS r(id text, v bigint) WHERE a.id = r.id`,
        [JSON.stringify([...serverVersions].map(([id, v]) => ({ id, v })))],
      );
    }
  }

  /** The version that holds what `ticket` wrote (after flush). */
  version(ticket: number): number {
    const key = this.keyOf[ticket];
    const v = key === undefined ? undefined : this.versions?.get(key);
    if (v === undefined) throw new Error(`FeedBuffer: no version for ticket ${ticket}`);
    return v;
  }

  /** The highest version among tickets `from` … `to - 1`, or null when there are none. */
  highest(from: number, to: number): number | null {
    let out: number | null = null;
    for (let t = from; t < to; t++) out = Math.max(out ?? 0, this.version(t));
    return out;
  }
}
