/**
 * Pull and snapshot: what a workstation reads of its partitions.
 *
 * Pull pages through the feed by version: rows above the cursor's version,
 * at most up to the partition's committed version read first (feed.ts
 * explains why everything at or below it is committed), `limit` at a time.
 * The cursor is opaque to the client (base64url of the partition and the
 * version it covers) and only grows.
 *
 * The snapshot (first sync) streams the partition's live rows as NDJSON in
 * keyset batches, with backpressure, up to the version the partition had
 * when it started; its trailer's cursor is that version. A row written while
 * the snapshot streams has a version above it (a row rewritten meanwhile
 * moves above it too), so the pull after the snapshot finds it: nothing
 * written during the snapshot is lost.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Sql } from './postgres/sql.js';
import { partitionVersion } from './feed.js';
import { HttpError, type DeviceIdentity } from './http.js';
import { MAX_PULL_LIMIT, type FeedRow, type PullAnswer, type SnapshotLine } from '#core/protocol.js';

export const DEFAULT_PULL_LIMIT = 1000;
export const SNAPSHOT_BATCH_ROWS = 2000;
const CURSOR_PREFIX = 'c1';

export function encodeCursor(partition: string, version: number): string {
  return Buffer.from(`${CURSOR_PREFIX}\n${partition}\n${version}`, 'utf8').toString('base64url');
}

/** The version a cursor covers; 400 for a garbled cursor or one of another partition. */
export function decodeCursor(cursor: string, partition: string): number {
  const bad = (why: string) => new HttpError(400, 'bad_request', `bad cursor: ${why}`);
  if (!/^[A-Za-z0-9_-]{1,500}$/.test(cursor)) throw bad('not a cursor');
  const [prefix, p, v, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('\n');
  if (prefix !== CURSOR_PREFIX || p === undefined || v === undefined || rest.length > 0 || !/^\d{1,15}$/.test(v)) {
    throw bad('not a cursor');
  }
  if (p !== partition) throw bad('the cursor is of another partition');
  return Number(v);
}

/** The partition asked for, if the device may read it (403 otherwise). */
export function readablePartition(device: DeviceIdentity, partition: string | null): string {
  if (!partition) throw new HttpError(400, 'bad_request', 'partition is required');
  if (!device.partitions.includes(partition))
    throw new HttpError(403, 'forbidden', `partition ${partition} is not this device's`);
  return partition;
}

function limitOf(raw: string | null): number {
  if (raw === null) return DEFAULT_PULL_LIMIT;
  if (!/^\d{1,7}$/.test(raw) || Number(raw) < 1) throw new HttpError(400, 'bad_request', 'limit is a positive integer');
  return Math.min(Number(raw), MAX_PULL_LIMIT);
}

type StoredRow = {
  version: number;
  entity: FeedRow['entity'];
  id: string;
  op: FeedRow['op'];
  data: unknown;
};

/** GET /v1/pull?partition&cursor&limit */
export async function pull(
  sql: Sql,
  device: DeviceIdentity,
  query: URLSearchParams,
  now: () => number,
): Promise<PullAnswer> {
  const partition = readablePartition(device, query.get('partition'));
  const cursor = query.get('cursor');
  const from = cursor ? decodeCursor(cursor, partition) : 0;
  const limit = limitOf(query.get('limit'));
  const top = await partitionVersion(sql, partition);
  if (from > top) {
    throw new HttpError(409, 'conflict', 'the cursor is ahead of this server: take a snapshot again');
  }
  const rows = await sql.query<StoredRow>(
    `SELECT version, entity, id, op, data FROM feed
      WHERE partition = $1 AND version > $2 AND version <= $3 ORDER BY version LIMIT $4`,
    [partition, from, top, limit + 1],
  );
  const hasMore = rows.length > limit;
  const page = hasMore ? rows.slice(0, limit) : rows;
  const covered = hasMore ? page[page.length - 1]!.version : top;
  return {
    partition,
    rows: page.map((r) => ({
      version: Number(r.version),
      entity: r.entity,
      id: r.id,
      op: r.op,
      data: r.op === 'delete' ? null : r.data,
    })),
    cursor: encodeCursor(partition, covered),
    version: covered,
    hasMore,
    serverTime: now(),
  };
}

/** Writes, waiting for the socket to drain when its buffer is full; false once the client has gone. */
async function write(res: ServerResponse, text: string): Promise<boolean> {
  if (res.destroyed) return false;
  if (res.write(text)) return true;
  await Promise.race([once(res, 'drain'), once(res, 'close')]);
  return !res.destroyed;
}

const line = (l: SnapshotLine) => JSON.stringify(l) + '\n';

/** GET /v1/snapshot?partition: header, rows, trailer, as NDJSON. */
export async function snapshot(
  sql: Sql,
  device: DeviceIdentity,
  query: URLSearchParams,
  res: ServerResponse,
  now: () => number,
  batchRows = SNAPSHOT_BATCH_ROWS,
): Promise<void> {
  const partition = readablePartition(device, query.get('partition'));
  const top = await partitionVersion(sql, partition);
  const [estimate] = await sql.query<{ n: number }>(
    `SELECT count(*) AS n FROM feed WHERE partition = $1 AND op = 'upsert' AND version <= $2`,
    [partition, top],
  );
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Cache-Control': 'no-store' });
  if (!(await write(res, line({ kind: 'header', partition, rows: Number(estimate?.n ?? 0), serverTime: now() })))) {
    return;
  }
  let after = 0;
  let count = 0;
  // Keyset batches over a bounded window of versions: the read costs what the window holds whatever
  // the planner believes (right after a bulk load its statistics can make it sort the whole rest of
  // the partition for each batch). The window widens where the partition is sparse (versions
  // superseded by later writes leave gaps) and narrows where it is dense.
  let window = batchRows * 2;
  while (after < top) {
    const upTo = Math.min(top, after + window);
    const rows = await sql.queryArrays(
      `SELECT version, entity, id, data::text FROM feed
        WHERE partition = $1 AND op = 'upsert' AND version > $2 AND version <= $3 ORDER BY version LIMIT $4`,
      [partition, after, upTo, batchRows],
    );
    let text = '';
    for (const [version, entity, id, data] of rows as [number, string, string, string][]) {
      // The row's data goes out as PostgreSQL wrote it (valid JSON): no parse and stringify again here.
      text += `{"kind":"row","row":{"version":${Number(version)},"entity":${JSON.stringify(entity)},"id":${JSON.stringify(id)},"op":"upsert","data":${data}}}\n`;
    }
    count += rows.length;
    if (rows.length === batchRows) {
      after = Number(rows[rows.length - 1]![0]);
      window = Math.max(batchRows, Math.floor(window / 2));
    } else {
      after = upTo;
      if (rows.length < batchRows / 2) window *= 2;
    }
    if (text !== '' && !(await write(res, text))) return;
  }
  if (await write(res, line({ kind: 'end', cursor: encodeCursor(partition, top), version: top, count }))) res.end();
}
