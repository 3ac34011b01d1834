/**
 * The push: pending outbox rows to POST /v1/push in order, in batches, and
 * the server's answer written back to the outbox in one SQLite transaction
 * per answer (applied or duplicate: 'sent' with its server version; a
 * business rejection: 'rejected' with its reason, and the queue goes on).
 *
 * The seq the server sees (`device_seq`) is not the outbox's own `seq`:
 * rows written before enrolment, or changes the server already counted
 * under an earlier numbering, must still reach it as 1, 2, 3… without gaps.
 * So a row gets its device_seq when it is first put in a batch (one
 * transaction), as the next number of the current numbering epoch
 * (sync_device.epoch; the first is seq_base + 1), and keeps it. A crash
 * after that sends the same numbers again: the server answers what it has
 * as duplicates, never a gap, never twice. Each sending is counted
 * (`attempts`) before the request leaves.
 *
 * When the server's count and ours part:
 * - 409 gap with expectedSeq below the batch: the server lost changes it had
 *   acknowledged (restored from a backup). The rows from expectedSeq on are
 *   sent again exactly as they were, whatever their local state (the server
 *   needs every seq to go on); their new outcomes are recorded. Where those
 *   rows are not here any more, or the server expects more than we ever
 *   numbered, a new epoch starts at the server's count: the pending rows are
 *   numbered again from expectedSeq.
 * - 'duplicate' for a row on its first attempt: it cannot have reached the
 *   server before, so the server's seq belongs to another change (this
 *   database was restored from a backup, or numbered under a past
 *   enrolment): a new epoch starts after the server's lastSeq and the
 *   pending rows are numbered again. A change the server did get before
 *   (answer lost) is always on a later attempt.
 *
 * Each change carries its author's proof (core/auth/change-key.ts): the MAC
 * under a user key of the user the payload names (user-keys.ts). A change
 * whose author holds no usable key here stops the push before it: the
 * changes before it go, it and those after it wait (in order) until that
 * user logs in online at this workstation; the summary names them. A change
 * that names no author goes without a proof and the server rejects it
 * ('unauthenticated'), where a person sees it. A 'deferred' answer leaves the
 * change pending and ends the push; the engine tries again after its backoff.
 */
import type Database from 'better-sqlite3';
import {
  change as changeSchema,
  MAX_PUSH_BATCH,
  PROTOCOL_VERSION,
  type Change,
  type PushAnswer,
} from '#core/protocol.js';
import type { FeedApplier } from './apply.js';
import { SyncError, type SyncClient } from './client.js';
import type { DeviceCredentials, Enrolment } from './credentials.js';
import { authorOfRow } from './outbox.js';
import type { UserKeys } from './user-keys.js';

/** A batch stays under this many bytes of JSON (the server reads bodies up to 16 MB). */
export const MAX_PUSH_BYTES = 8 * 1024 * 1024;

export interface PushOptions {
  sqlite: Database.Database;
  client: SyncClient;
  credentials: DeviceCredentials;
  applier: FeedApplier;
  /** The user keys the changes are authenticated with. */
  keys: UserKeys;
  now: () => number;
  /** Changes per request (at most MAX_PUSH_BATCH). */
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** Checked between batches. */
  shouldStop?: () => boolean;
  log?: (message: string) => void;
}

export interface PushSummary {
  batches: number;
  applied: number;
  duplicate: number;
  rejected: number;
  /** The author of the first change that waits for its author's online login here (no usable key), else null. */
  waitingFor: string | null;
  /** The change the server deferred (stays pending; sent again later), else null. */
  deferred: { seq: number; reason: string | null; message: string | null } | null;
}

/** A batch to send, and the author the queue waits for after it (null: nothing waits for a login). */
export interface Batch {
  changes: Change[];
  waitingFor: string | null;
}

interface OutboxRow {
  seq: number;
  op: string;
  entity: string;
  entityId: string;
  payload: string;
  protocolVersion: number;
  schemaVersion: number;
  signature: string | null;
  state: string;
  attempts: number;
  createdAt: number;
  deviceSeq: number | null;
}

const COLUMNS = `seq, op, entity, entity_id AS entityId, payload, protocol_version AS protocolVersion,
  schema_version AS schemaVersion, signature, state, attempts, created_at AS createdAt, device_seq AS deviceSeq`;

/** How many changes wait for the server (pending), for progress. */
export function pendingCount(sqlite: Database.Database): number {
  return (sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE state = 'pending'").get() as { n: number }).n;
}

/** Sends every pending change, batch after batch, until none is left or a request fails (thrown). */
export async function pushPending(o: PushOptions): Promise<PushSummary> {
  const summary: PushSummary = { batches: 0, applied: 0, duplicate: 0, rejected: 0, waitingFor: null, deferred: null };
  const limit = Math.min(Math.max(1, o.batchSize ?? MAX_PUSH_BATCH), MAX_PUSH_BATCH);
  const total = pendingCount(o.sqlite);
  let done = 0;
  let resendFrom: number | null = null;
  let recoveries = 0;
  for (;;) {
    if (o.shouldStop?.()) break;
    const device = o.credentials.enrolment();
    if (!device || device.revokedAt !== null) throw new SyncError('revoked', 'this workstation is not enrolled');
    const prepared = prepareBatch(o.sqlite, device, resendFrom, limit, o.now, o.keys);
    summary.waitingFor = prepared.waitingFor;
    const batch = prepared.changes;
    if (batch.length === 0) break;
    let answer: PushAnswer;
    try {
      answer = await o.credentials.authorized((token) =>
        o.client.push(token, { deviceId: device.deviceId, protocolVersion: PROTOCOL_VERSION, changes: batch }, () =>
          countAttempt(o.sqlite, device.epoch, batch),
        ),
      );
    } catch (e) {
      if (!(e instanceof SyncError) || e.kind !== 'gap' || recoveries >= 3) throw e;
      recoveries += 1;
      resendFrom = onGap(o, device, batch[0]!.seq, e.details.expectedSeq!);
      continue;
    }
    const outcome = applyAnswer(o, device, batch, answer);
    summary.batches += 1;
    summary.applied += outcome.applied;
    summary.duplicate += outcome.duplicate;
    summary.rejected += outcome.rejected;
    done += outcome.settled;
    o.onProgress?.(Math.min(done, total), Math.max(total, done));
    if (outcome.deferred) {
      // Nothing after it was looked at: the queue goes on from it in a later run.
      summary.deferred = outcome.deferred;
      break;
    }
    if (outcome.settled === 0 && !outcome.renumbered) {
      throw new SyncError('malformed', `the push answer settled none of seq ${batch[0]!.seq}…${batch.at(-1)!.seq}`);
    }
    // Resending after a gap: on past what this answer covered while earlier rows remain.
    resendFrom =
      resendFrom !== null && hasRowsFrom(o.sqlite, device.epoch, answer.lastSeq + 1) ? answer.lastSeq + 1 : null;
  }
  return summary;
}

function hasRowsFrom(sqlite: Database.Database, epoch: number, from: number): boolean {
  return (
    sqlite
      .prepare("SELECT 1 FROM outbox WHERE epoch = ? AND device_seq >= ? AND state <> 'pending' LIMIT 1")
      .get(epoch, from) !== undefined
  );
}

/**
 * The next batch, in one transaction: rows already numbered and not yet
 * acknowledged (or, after a gap, every row from `resendFrom`), then pending
 * rows numbered now, each with its author's proof; it ends before the first
 * change whose author holds no usable key (`waitingFor`). A row
 * that cannot go as a protocol change (its JSON broken, over the size limit)
 * is marked rejected here, before it takes a number.
 */
export function prepareBatch(
  sqlite: Database.Database,
  device: Enrolment,
  resendFrom: number | null,
  limit: number,
  now: () => number,
  keys: UserKeys,
): Batch {
  let waitingFor: string | null = null;
  /** The change with its author's proof, or null (and `waitingFor` set) when its author holds no key here. */
  const prove = (row: OutboxRow, change: Change): Change | null => {
    const author = authorOfRow(row.op, row.payload);
    if (author === null) return { ...change, auth: null };
    const auth = keys.authenticate(author, device.deviceId, change);
    if (auth === null) {
      waitingFor = author;
      return null;
    }
    return { ...change, auth };
  };
  return sqlite
    .transaction(() => {
      const rows: OutboxRow[] =
        resendFrom !== null
          ? (sqlite
              .prepare(`SELECT ${COLUMNS} FROM outbox WHERE epoch = ? AND device_seq >= ? ORDER BY device_seq LIMIT ?`)
              .all(device.epoch, resendFrom, limit) as OutboxRow[])
          : (sqlite
              .prepare(
                `SELECT ${COLUMNS} FROM outbox WHERE state = 'pending' AND epoch = ? AND device_seq IS NOT NULL
                  ORDER BY device_seq LIMIT ?`,
              )
              .all(device.epoch, limit) as OutboxRow[]);
      const changes: Change[] = [];
      let bytes = 0;
      for (const row of rows) {
        const c = toChange(row, row.deviceSeq!);
        if (!c.ok) throw new Error(`outbox row ${row.seq} was numbered but cannot be sent: ${c.problem}`);
        if (changes.length > 0 && bytes + c.bytes > MAX_PUSH_BYTES) break;
        if (changes.length > 0 && changes.at(-1)!.seq + 1 !== c.change.seq) break;
        const proved = prove(row, c.change);
        if (!proved) break;
        changes.push(proved);
        bytes += c.bytes;
      }
      const numberedAll = changes.length === rows.length;
      if (numberedAll && changes.length < limit) {
        const last = sqlite.prepare('SELECT max(device_seq) AS m FROM outbox WHERE epoch = ?').get(device.epoch) as {
          m: number | null;
        };
        // Appending fresh numbers only continues a batch that ends at the epoch's last number.
        const top = Math.max(last.m ?? device.seqBase, device.seqBase);
        if (changes.length === 0 || changes.at(-1)!.seq === top) {
          let next = top + 1;
          const fresh = sqlite
            .prepare(
              `SELECT ${COLUMNS} FROM outbox WHERE state = 'pending' AND device_seq IS NULL ORDER BY seq LIMIT ?`,
            )
            .all(limit - changes.length) as OutboxRow[];
          const number = sqlite.prepare('UPDATE outbox SET device_seq = ?, epoch = ? WHERE seq = ?');
          const refuse = sqlite.prepare(
            `UPDATE outbox SET state = 'rejected', reject_reason = 'invalid', reject_message = ?, rejected_at = ?,
               last_error = ? WHERE seq = ?`,
          );
          for (const row of fresh) {
            const c = toChange(row, next);
            if (!c.ok) {
              refuse.run(c.problem, now(), c.problem, row.seq);
              continue;
            }
            if (changes.length > 0 && bytes + c.bytes > MAX_PUSH_BYTES) break;
            // Proved before it takes a number (the MAC covers the seq).
            const proved = prove(row, { ...c.change, seq: next });
            if (!proved) break;
            number.run(next, device.epoch, row.seq);
            changes.push(proved);
            bytes += c.bytes;
            next += 1;
          }
        }
      }
      return { changes, waitingFor };
    })
    .immediate();
}

/**
 * Counts one more sending of the batch's rows, committed before the request
 * leaves (every sending: after a 401, and the client's once-more after a
 * dropped connection, too): a row answered 'duplicate' on its first sending
 * cannot have reached the server before.
 */
function countAttempt(sqlite: Database.Database, epoch: number, batch: readonly Change[]): void {
  sqlite
    .prepare('UPDATE outbox SET attempts = attempts + 1 WHERE epoch = ? AND device_seq BETWEEN ? AND ?')
    .run(epoch, batch[0]!.seq, batch.at(-1)!.seq);
}

type Converted = { ok: true; change: Change; bytes: number } | { ok: false; problem: string };

function toChange(row: OutboxRow, seq: number): Converted {
  let payload: unknown;
  try {
    payload = JSON.parse(row.payload);
  } catch {
    return { ok: false, problem: 'local: the change is not valid JSON' };
  }
  const parsed = changeSchema.safeParse({
    seq,
    op: row.op,
    entity: row.entity,
    entityId: row.entityId,
    payload,
    protocolVersion: row.protocolVersion,
    schemaVersion: row.schemaVersion,
    createdAt: row.createdAt,
    signature: row.signature,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      problem: `local: the change does not fit the protocol (${issue?.path.join('.')}: ${issue?.message})`,
    };
  }
  const bytes = Buffer.byteLength(row.payload) + (row.signature?.length ?? 0) + 300;
  if (bytes > MAX_PUSH_BYTES) return { ok: false, problem: `local: the change is ${bytes} bytes, over the limit` };
  return { ok: true, change: parsed.data, bytes };
}

interface AnswerOutcome {
  applied: number;
  duplicate: number;
  rejected: number;
  /** Rows whose outcome is now known. */
  settled: number;
  renumbered: boolean;
  deferred: PushSummary['deferred'];
}

/** The answer written to the outbox in one transaction; held feed rows released, rejected applications put back. */
function applyAnswer(o: PushOptions, device: Enrolment, batch: readonly Change[], answer: PushAnswer): AnswerOutcome {
  const sent = new Set(batch.map((c) => c.seq));
  const out: AnswerOutcome = { applied: 0, duplicate: 0, rejected: 0, settled: 0, renumbered: false, deferred: null };
  o.sqlite
    .transaction(() => {
      const now = o.now();
      const find = o.sqlite.prepare(
        'SELECT seq, state, attempts, entity, entity_id AS entityId FROM outbox WHERE epoch = ? AND device_seq = ?',
      );
      const markSent = o.sqlite.prepare(
        `UPDATE outbox SET state = CASE WHEN state IN ('pending', 'rejected') THEN 'sent' ELSE state END,
           server_version = coalesce(?, server_version), sent_at = coalesce(sent_at, ?), last_error = NULL,
           reject_reason = NULL, reject_message = NULL, rejected_at = NULL
         WHERE seq = ?`,
      );
      const markRejected = o.sqlite.prepare(
        `UPDATE outbox SET state = CASE WHEN state IN ('pending', 'sent') THEN 'rejected' ELSE state END,
           reject_reason = ?, reject_message = ?, rejected_at = coalesce(rejected_at, ?), last_error = ?
         WHERE seq = ?`,
      );
      const markDeferred = o.sqlite.prepare('UPDATE outbox SET last_error = ? WHERE seq = ?');
      const rejectedApplications: string[] = [];
      let conflict = false;
      for (const r of answer.results) {
        if (!sent.has(r.seq)) continue;
        const row = find.get(device.epoch, r.seq) as
          { seq: number; state: string; attempts: number; entity: string; entityId: string } | undefined;
        if (!row) continue;
        if (r.outcome === 'deferred') {
          // Stays as it is (pending, its number kept); the server looked at nothing after it.
          markDeferred.run(`deferred: ${r.reason ?? ''}${r.message ? `: ${r.message}` : ''}`, row.seq);
          out.deferred = { seq: r.seq, reason: r.reason, message: r.message };
          break;
        }
        // A duplicate of a seq this row never went out under before: the server's seq is another change's.
        if (r.outcome === 'duplicate' && row.state === 'pending' && row.attempts <= 1) {
          conflict = true;
          continue;
        }
        // A duplicate repeats what the server recorded then, a rejection included.
        const rejected = r.outcome === 'rejected' || (r.outcome === 'duplicate' && r.reason !== null);
        if (rejected) {
          const reason = r.reason ?? 'rejected';
          markRejected.run(reason, r.message, now, `${reason}${r.message ? `: ${r.message}` : ''}`, row.seq);
          if (row.entity === 'application') rejectedApplications.push(row.entityId);
          out.rejected += 1;
        } else {
          markSent.run(r.serverVersion, now, row.seq);
          if (r.outcome === 'applied') out.applied += 1;
          else out.duplicate += 1;
        }
        out.settled += 1;
      }
      if (conflict) {
        renumber(o.sqlite, device, answer.lastSeq);
        out.renumbered = true;
        o.log?.(
          `push: the server's seq ${answer.lastSeq} is past this device's numbering; pending changes numbered again`,
        );
      }
      o.sqlite.prepare('UPDATE sync_state SET last_push_at = ?').run(now);
      o.applier.releaseDeferred();
      o.applier.restoreBases(rejectedApplications);
    })
    .immediate();
  return out;
}

/** 409 gap: what to send next (see the module's comment). Returns where to resend from, or null after renumbering. */
function onGap(o: PushOptions, device: Enrolment, first: number, expected: number): number | null {
  if (expected >= first) {
    // The server is past our numbering (it would have answered duplicates otherwise): go on from its count.
    o.sqlite.transaction(() => renumber(o.sqlite, device, expected - 1)).immediate();
    o.log?.(`push: the server expects seq ${expected}, past ${first}: pending changes numbered again`);
    return null;
  }
  const have = (
    o.sqlite
      .prepare('SELECT count(*) AS n FROM outbox WHERE epoch = ? AND device_seq >= ? AND device_seq < ?')
      .get(device.epoch, expected, first) as { n: number }
  ).n;
  if (have === first - expected) {
    o.log?.(
      `push: the server expects seq ${expected} (lost ${first - expected} acknowledged changes): sending them again`,
    );
    return expected;
  }
  o.sqlite.transaction(() => renumber(o.sqlite, device, expected - 1)).immediate();
  o.log?.(`push: the server expects seq ${expected}, which this device no longer has: pending changes numbered again`);
  return null;
}

/** A new numbering epoch after `base`: the pending rows lose their numbers and get new ones when next sent. */
function renumber(sqlite: Database.Database, device: Enrolment, base: number): void {
  sqlite.prepare('UPDATE sync_device SET epoch = epoch + 1, seq_base = ? WHERE id = 1').run(base);
  sqlite
    .prepare("UPDATE outbox SET device_seq = NULL, epoch = NULL, attempts = 0 WHERE state = 'pending' AND epoch = ?")
    .run(device.epoch);
}
