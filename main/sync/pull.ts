/**
 * The pull: for each partition this device has, a first sync by snapshot
 * (GET /v1/snapshot, NDJSON read as it streams, applied every N rows in one
 * SQLite transaction) and then GET /v1/pull pages, each applied in one SQLite
 * transaction together with its cursor. The cursor is the server's, opaque,
 * and only moves forward; a snapshot's cursor is taken only at its trailer,
 * so a snapshot cut anywhere before is started again (its rows are upserts:
 * taking them twice changes nothing).
 *
 * A cursor the server refuses as ahead of it (409 conflict: the server was
 * restored from a backup) is dropped and the partition taken again by snapshot.
 *
 * A large snapshot (the initial pull of an office) loads with the journal's
 * per-row triggers and secondary indexes off and rebuilds its full-text
 * index once at the end (main/journal/rebuild.ts): the triggers cost several
 * times the insert. Their SQL is kept in the settings while they are off, so
 * a process that dies meanwhile gets them back (with the rebuild) at the next
 * start. After the snapshot's last transaction the indexes come back one
 * transaction each, then the triggers with the rebuild in one, the thread
 * let go between them (and between the checkpoints every few batches): the
 * app's window is not held for the whole.
 */
import type Database from 'better-sqlite3';
import { MAX_PULL_LIMIT, type FeedRow, type PullAnswer } from '#core/protocol.js';
import { partitionProvider } from '#core/vocabulary.js';
import { rebuildJournalIndex } from '../journal/rebuild.js';
import { addStats, emptyStats, type ApplyStats, type FeedApplier } from './apply.js';
import { SyncError, SyncStopped, type SyncClient } from './client.js';
import type { DeviceCredentials } from './credentials.js';

export interface PullProgress {
  phase: 'snapshot' | 'pulling';
  partition: string;
  done: number;
  total: number | null;
}

export interface PullOptions {
  sqlite: Database.Database;
  client: SyncClient;
  credentials: DeviceCredentials;
  applier: FeedApplier;
  now: () => number;
  /** Rows per pull page asked for (at most MAX_PULL_LIMIT). Default 1,000. */
  pageSize?: number;
  /** Snapshot rows per SQLite transaction. Default 2,000. */
  snapshotBatchRows?: number;
  /** A snapshot of at least this many rows loads with the journal triggers off. Default 5,000. */
  bulkThreshold?: number;
  onProgress?: (p: PullProgress) => void;
  /** Checked between pages and snapshot lines: true gives up (SyncStopped). */
  shouldStop?: () => boolean;
}

export interface PullSummary {
  partition: string;
  snapshot: boolean;
  pages: number;
  rows: number;
  stats: ApplyStats;
  version: number | null;
}

interface PartitionState {
  cursor: string | null;
  version: number | null;
}

function stateOf(sqlite: Database.Database, partition: string): PartitionState {
  const row = sqlite.prepare('SELECT cursor, version FROM sync_state WHERE partition = ?').get(partition) as
    PartitionState | undefined;
  return row ?? { cursor: null, version: null };
}

/** Brings one partition up to date: a snapshot first when it has no cursor, then pages until the server has no more. */
export async function pullPartition(o: PullOptions, partition: string): Promise<PullSummary> {
  const summary: PullSummary = { partition, snapshot: false, pages: 0, rows: 0, stats: emptyStats(), version: null };
  if (stateOf(o.sqlite, partition).cursor === null) {
    summary.snapshot = true;
    await snapshotPartition(o, partition, summary);
  }
  const limit = Math.min(Math.max(1, o.pageSize ?? 1000), MAX_PULL_LIMIT);
  let resnapshot = !summary.snapshot;
  for (;;) {
    if (o.shouldStop?.()) throw new SyncStopped();
    const before = stateOf(o.sqlite, partition);
    let page: PullAnswer;
    try {
      page = await o.credentials.authorized((token) => o.client.pull(token, partition, before.cursor, limit));
    } catch (e) {
      // 409 conflict: the cursor is ahead of the server (it was restored from a backup). Take a snapshot again.
      if (!(e instanceof SyncError) || e.details.code !== 'conflict' || !resnapshot) throw e;
      resnapshot = false;
      forgetVersions(o.sqlite, partition);
      summary.snapshot = true;
      await snapshotPartition(o, partition, summary);
      continue;
    }
    if (page.partition !== partition) throw new SyncError('malformed', `asked for ${partition}, got ${page.partition}`);
    if (page.rows.some((r) => r.version > page.version))
      throw new SyncError('malformed', 'a page row above its version');
    const stats = o.sqlite
      .transaction(() => {
        const now = o.now();
        const applied = o.applier.applyRows(partition, page.rows, page.version, before.version ?? 0);
        o.sqlite
          .prepare(
            'UPDATE sync_state SET cursor = ?, version = max(coalesce(version, 0), ?), last_pull_at = ? WHERE partition = ?',
          )
          .run(page.cursor, page.version, now, partition);
        if (page.rows.length > 0) addStats(applied, o.applier.releaseDeferred());
        return applied;
      })
      .immediate();
    summary.pages += 1;
    summary.rows += page.rows.length;
    addStats(summary.stats, stats);
    summary.version = page.version;
    o.onProgress?.({ phase: 'pulling', partition, done: summary.rows, total: null });
    if (!page.hasMore || page.rows.length === 0) break;
  }
  return summary;
}

/**
 * The server's versions of a partition as this workstation knows them, all
 * dropped (one transaction): its numbering went back (a restore), so a local
 * version must not make the server's next rows look stale, and a sent change
 * must not hold rows back for a version that means something else now.
 */
export function forgetVersions(sqlite: Database.Database, partition: string): void {
  sqlite.transaction(() => {
    sqlite.prepare('UPDATE sync_state SET cursor = NULL, version = NULL WHERE partition = ?').run(partition);
    const provider = partitionProvider(partition);
    if (provider !== null) {
      sqlite.prepare('UPDATE applications SET server_version = NULL WHERE provider_id = ?').run(provider);
      sqlite
        .prepare(
          'UPDATE server_events SET server_version = 0 WHERE application_id IN (SELECT id FROM applications WHERE provider_id = ?)',
        )
        .run(provider);
      sqlite
        .prepare(
          `UPDATE outbox SET server_version = NULL WHERE state <> 'pending' AND (entity = 'signature' OR entity = 'user'
             OR (entity = 'application' AND entity_id IN (SELECT id FROM applications WHERE provider_id = ?)))`,
        )
        .run(provider);
    } else {
      sqlite.prepare('UPDATE sync_calendars SET server_version = 0').run();
      sqlite.prepare('UPDATE sync_crls SET server_version = 0').run();
    }
  })();
}

/**
 * GET /v1/snapshot into the local tables, `snapshotBatchRows` per
 * transaction; the cursor and version are written with the last batch,
 * when the trailer has come and its count matches. Anything short of that
 * throws and leaves the partition without a cursor (started again next time).
 */
export async function snapshotPartition(o: PullOptions, partition: string, summary?: PullSummary): Promise<void> {
  const threshold = o.bulkThreshold ?? 5000;
  let batchRows = Math.max(1, o.snapshotBatchRows ?? 2000);
  let batch: FeedRow[] = [];
  let received = 0;
  let total: number | null = null;
  let bulk = false;
  let cacheBefore: number | null = null;
  let syncBefore: number | null = null;
  let checkpointBefore: number | null = null;
  let flushed = 0;
  const stats = emptyStats();

  const flush = (end: { cursor: string; version: number } | null) => {
    const rows = batch;
    batch = [];
    // The transaction that completes the snapshot is synced in full, and with it everything before it.
    if (end && syncBefore !== null) o.sqlite.pragma(`synchronous = ${syncBefore}`);
    o.sqlite
      .transaction(() => {
        addStats(stats, o.applier.applyRows(partition, rows, null));
        if (end) {
          o.sqlite
            .prepare(
              'UPDATE sync_state SET cursor = ?, version = ?, snapshot_at = ?, last_pull_at = ? WHERE partition = ?',
            )
            .run(end.cursor, end.version, o.now(), o.now(), partition);
          addStats(stats, o.applier.releaseDeferred());
        }
      })
      .immediate();
    o.onProgress?.({ phase: 'snapshot', partition, done: received, total });
  };

  try {
    await o.credentials.authorized((token) =>
      o.client.snapshot(token, partition, async (line) => {
        if (o.shouldStop?.()) throw new SyncStopped();
        switch (line.kind) {
          case 'header':
            if (line.partition !== partition)
              throw new SyncError('malformed', `asked for ${partition}, got ${line.partition}`);
            total = line.rows;
            received = 0;
            batch = [];
            if (total >= threshold && !bulk) {
              suspendJournalIndexing(o.sqlite, o.now);
              bulk = true;
              // A larger page cache while the indexes of many new rows are written (restored after).
              cacheBefore = o.sqlite.pragma('cache_size', { simple: true }) as number;
              o.sqlite.pragma(`cache_size = ${BULK_CACHE_KIB}`);
              // The batches before the last are not synced one by one: a power cut can lose the newest of
              // them, never corrupt the file (WAL), and the partition has no cursor until the last batch,
              // so a lost batch is taken again. Larger batches too, when none were asked for.
              syncBefore = o.sqlite.pragma('synchronous', { simple: true }) as number;
              o.sqlite.pragma('synchronous = NORMAL');
              // No checkpoint after each batch (each would copy the pages written so far into the file and
              // sync it): one at the end.
              checkpointBefore = o.sqlite.pragma('wal_autocheckpoint', { simple: true }) as number;
              o.sqlite.pragma('wal_autocheckpoint = 0');
              if (o.snapshotBatchRows === undefined) batchRows = BULK_BATCH_ROWS;
            }
            o.onProgress?.({ phase: 'snapshot', partition, done: 0, total });
            return;
          case 'row':
            if (total === null) throw new SyncError('malformed', 'a snapshot row before its header');
            batch.push(line.row);
            received += 1;
            if (batch.length >= batchRows) {
              flush(null);
              // The log copied into the file every few batches, the thread let go first: one checkpoint of
              // a whole office at the end would hold this thread for a second or more, and the log would
              // grow to the office's size. Passive: it never waits for a reader (the log then starts over
              // at the next write that finds it all copied).
              if (bulk && ++flushed % BULK_CHECKPOINT_EVERY === 0) {
                await letGo();
                o.sqlite.pragma('wal_checkpoint(PASSIVE)');
              }
            }
            return;
          case 'end':
            if (total === null) throw new SyncError('malformed', 'a snapshot trailer before its header');
            if (line.count !== received) {
              throw new SyncError('malformed', `the snapshot's trailer counts ${line.count} rows, ${received} came`);
            }
            flush({ cursor: line.cursor, version: line.version });
            if (bulk) {
              // What is left done in steps, this thread let go between them: the log copied into the file,
              // the journal's indexes one at a time (synced lazily: the record of what is left goes with
              // each, and a lost one is built again), its triggers back with their rebuild.
              await letGo();
              o.sqlite.pragma('wal_checkpoint(PASSIVE)');
              o.sqlite.pragma('synchronous = NORMAL');
              await resumeJournalIndexingInSteps(o.sqlite, letGo);
              await letGo();
            }
            return;
        }
      }),
    );
  } finally {
    // A cut snapshot: the triggers and indexes come back now (with the rebuild), not only at the next start.
    if (bulk) resumeJournalIndexing(o.sqlite);
    if (cacheBefore !== null) o.sqlite.pragma(`cache_size = ${cacheBefore}`);
    if (syncBefore !== null) o.sqlite.pragma(`synchronous = ${syncBefore}`);
    if (checkpointBefore !== null) {
      o.sqlite.pragma(`wal_autocheckpoint = ${checkpointBefore}`);
      o.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    }
  }
  if (summary) {
    summary.rows += received;
    addStats(summary.stats, stats);
    summary.version = stateOf(o.sqlite, partition).version;
  }
}

/** Settings key of what a bulk snapshot took off `applications` (the name predates the indexes; kept for old databases). */
const SUSPENDED = 'sync.suspendedJournalTriggers';
/** SQLite's page cache during a bulk snapshot: 16 MiB (negative: KiB). */
const BULK_CACHE_KIB = -16_384;
/** Lets the thread serve what waits (the window's calls) before the next step of a bulk snapshot. */
const letGo = () => new Promise<void>((r) => setImmediate(r));
/** A bulk snapshot's log is copied into the database file after every this many batches. */
const BULK_CHECKPOINT_EVERY = 4;
/** Snapshot rows per SQLite transaction in a bulk snapshot. */
const BULK_BATCH_ROWS = 5_000;

/**
 * Takes off `applications` what a bulk load pays for on every row: the
 * journal's triggers (the full-text index, tags, counts) and the secondary
 * indexes that enforce nothing (unique ones stay: they keep the rows
 * right). Their SQL is kept in the settings (one transaction), so a process
 * that dies meanwhile gets them back at the next start. Building an index
 * once over sorted rows costs a fraction of updating it row by row.
 */
export function suspendJournalIndexing(sqlite: Database.Database, now: () => number = Date.now): void {
  sqlite.transaction(() => {
    const kept = sqlite.prepare('SELECT value FROM settings WHERE key = ?').get(SUSPENDED);
    if (kept) return;
    const objects = sqlite
      .prepare(
        `SELECT type, name, sql FROM sqlite_master
          WHERE tbl_name = 'applications' AND sql IS NOT NULL
            AND ((type = 'trigger' AND name LIKE 'applications_journal_%')
              OR (type = 'index' AND sql NOT LIKE 'CREATE UNIQUE %'))
          ORDER BY type, name`,
      )
      .all() as { type: 'trigger' | 'index'; name: string; sql: string }[];
    if (objects.length === 0) return;
    sqlite
      .prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)')
      .run(SUSPENDED, JSON.stringify(objects), now());
    for (const o of objects) sqlite.exec(`DROP ${o.type === 'index' ? 'INDEX' : 'TRIGGER'} "${o.name}"`);
  })();
}

type Suspended = { type: 'trigger' | 'index'; name: string; sql: string };

function suspendedObjects(sqlite: Database.Database): Suspended[] | null {
  const kept = sqlite.prepare('SELECT value FROM settings WHERE key = ?').pluck().get(SUSPENDED) as string | undefined;
  if (kept === undefined) return null;
  // Older records list triggers alone, without a type.
  return (JSON.parse(kept) as (Omit<Suspended, 'type'> & { type?: Suspended['type'] })[]).map((o) => ({
    ...o,
    type: o.type ?? 'trigger',
  }));
}

/** The record of what is still off: rewritten to `left`, or dropped when nothing is. */
function recordSuspended(sqlite: Database.Database, left: readonly Suspended[]): void {
  if (left.length === 0) sqlite.prepare('DELETE FROM settings WHERE key = ?').run(SUSPENDED);
  else sqlite.prepare('UPDATE settings SET value = ? WHERE key = ?').run(JSON.stringify(left), SUSPENDED);
}

/**
 * The next suspended index built and struck off the record (one
 * transaction); false when none is left. A write meanwhile keeps the built
 * indexes right (SQLite maintains them); the triggers' tables are
 * recomputed at the end (`resumeTriggers`).
 */
function resumeNextIndex(sqlite: Database.Database): boolean {
  return sqlite.transaction(() => {
    const objects = suspendedObjects(sqlite) ?? [];
    const next = objects.find((o) => o.type === 'index');
    if (!next) return false;
    if (!sqlite.prepare('SELECT 1 FROM sqlite_master WHERE name = ?').get(next.name)) sqlite.exec(next.sql);
    recordSuspended(
      sqlite,
      objects.filter((o) => o !== next),
    );
    return true;
  })();
}

/**
 * The triggers back, and what they keep (the full-text index, tags, counts)
 * rebuilt from `applications` (read through the indexes when they are
 * back), the record dropped: one transaction. False when nothing was
 * suspended.
 */
function resumeTriggers(sqlite: Database.Database): boolean {
  return sqlite.transaction(() => {
    const objects = suspendedObjects(sqlite);
    if (objects === null) return false;
    const exists = sqlite.prepare('SELECT 1 FROM sqlite_master WHERE name = ?');
    const triggers = objects.filter((o) => o.type === 'trigger');
    if (triggers.length > 0) rebuildJournalIndex(sqlite);
    for (const o of objects) if (!exists.get(o.name)) sqlite.exec(o.sql);
    recordSuspended(sqlite, []);
    return true;
  })();
}

/**
 * Puts back what `suspendJournalIndexing` took off: the indexes built, the
 * triggers back with the full-text index, tags and counts rebuilt (one
 * transaction). Nothing to do when nothing is suspended; safe to call at
 * every start.
 */
export function resumeJournalIndexing(sqlite: Database.Database): boolean {
  return sqlite.transaction(() => {
    while (resumeNextIndex(sqlite));
    return resumeTriggers(sqlite);
  })();
}

/**
 * The same in steps, `pause` awaited between them (the app's thread serves
 * the window meanwhile): each index in a transaction of its own, then the
 * triggers with their rebuild in one, the record kept in step, so that a
 * process that dies between two steps does the rest at its next start.
 * Until the last step the journal's counts and full-text index lag behind
 * the rows (a bulk load wrote them without), and a journal query without its
 * index is slower; the answers are right again with the last step.
 */
export async function resumeJournalIndexingInSteps(
  sqlite: Database.Database,
  pause: () => Promise<void>,
): Promise<boolean> {
  if (suspendedObjects(sqlite) === null) return false;
  do await pause();
  while (resumeNextIndex(sqlite));
  return resumeTriggers(sqlite);
}
