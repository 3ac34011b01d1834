/**
 * Push: a device's changes applied exactly once, in its `seq` order.
 *
 * The changes of a request are applied in one transaction that first locks
 * the device's row (SELECT … FOR UPDATE), so two deliveries of the same
 * changes (a retry, or the same batch sent to two server instances at once)
 * take turns, and the second finds them done:
 *
 * - seq <= last_seq: done before, skipped ('duplicate'; the answer repeats
 *   what was recorded then);
 * - seq > last_seq + 1: a gap, refused with 409 `gap` and the seq expected;
 *   nothing after it is applied;
 * - seq = last_seq + 1: applied. Its effect, its `device_changes` record and
 *   the device's moved last_seq commit together, or not at all.
 *
 * A business rejection (the application was reassigned meanwhile, the
 * status no longer allows the action…) is recorded the same way, with its
 * reason: last_seq moves on and the rest of the batch goes on. Handlers
 * check before they write (apply/common.ts OpHandler), so a rejected change
 * has written nothing.
 *
 * The batch works as a set, in a fixed number of statements however many
 * changes it holds: the applications its changes name are read and locked
 * together first (apply/state.ts, in id order), the handlers check and
 * change them in memory (a change sees what the earlier ones of the batch
 * did), and at the end the new applications and the events are written in
 * one statement, the feed rows in one more (feed.ts FeedBuffer), the
 * changed applications with their feed versions in one more, the outcomes
 * in one more.
 *
 * When the batch's transaction fails (the database refuses a change's data,
 * a deadlock with another writer), the request goes again one change per
 * transaction: a change the database refuses is then rolled back alone and
 * recorded as rejected `invalid` in the next transaction, so no change can
 * wedge the queue.
 */
import { sqlState, type Sql } from './postgres/sql.js';
import { FeedBuffer } from './feed.js';
import { HttpError, type DeviceIdentity } from './http.js';
import type { Change, PushAnswer, PushRequest, PushResult } from '#core/protocol.js';
import { create, prefetch, transition } from './apply/applications.js';
import { addSignature } from './apply/signatures.js';
import { ApplyCache, Rejection, type OpHandler, type ServiceDefinitions, type SignerTrust } from './apply/common.js';
import { ApplicationState } from './apply/state.js';
import { block, passwordChange, passwordReset, profile, setRoles, unblock } from './apply/users.js';

export interface PushConfig {
  protocolVersion: number;
  minProtocolVersion: number;
  now(): number;
  services: ServiceDefinitions;
  /** Whether a pushed signature's certificate could sign (a chain to the server's trusted roots). */
  certificates: SignerTrust;
}

/** What the server does for each op of protocol.ts CHANGE_OPS. */
const OPS: Readonly<Record<string, OpHandler>> = {
  'application.create': create,
  'application.transition': transition,
  'signature.add': addSignature,
  'user.profile': profile,
  'user.passwordChange': passwordChange,
  'user.setRoles': setRoles,
  'user.passwordReset': passwordReset,
  'user.block': block,
  'user.unblock': unblock,
  // A person discarded a change the server had rejected: recorded, nothing else.
  'change.discard': () => Promise.resolve(() => Promise.resolve()),
};

/** SQLSTATEs worth another try: serialization failure, deadlock. */
const RETRYABLE = new Set(['40001', '40P01']);
const ATTEMPTS = 3;

/** Whether a database error says the change's data cannot be stored (bad value, constraint): the change's fault. */
function dataError(err: unknown): boolean {
  const state = sqlState(err);
  return state !== null && (state.startsWith('22') || state.startsWith('23'));
}

/** Checks a request's protocol: 426 protocol_unsupported when this server does not speak it. */
export function checkProtocol(
  versions: { protocolVersion: number; minProtocolVersion: number },
  version: number,
): void {
  if (version > versions.protocolVersion || version < versions.minProtocolVersion) {
    throw new HttpError(
      426,
      'protocol_unsupported',
      `protocol ${version} is not between ${versions.minProtocolVersion} and ${versions.protocolVersion}`,
      { minProtocolVersion: versions.minProtocolVersion, protocolVersion: versions.protocolVersion },
    );
  }
}

/** The handler of a change, or the rejection that it has none here. */
function handlerOf(change: Change, config: PushConfig): OpHandler {
  if (change.protocolVersion < config.minProtocolVersion || change.protocolVersion > config.protocolVersion) {
    throw new Rejection(
      'schemaUnsupported',
      `the change is in protocol ${change.protocolVersion}; this server reads ${config.minProtocolVersion}–${config.protocolVersion}`,
    );
  }
  const handler = Object.hasOwn(OPS, change.op) ? OPS[change.op] : undefined;
  if (!handler) throw new Rejection('unknownOp', `unknown op ${change.op}`);
  return handler;
}

/** Locks the device's row; its last seq. */
async function lockDevice(tx: Sql, device: DeviceIdentity): Promise<number> {
  const [d] = await tx.query<{ lastSeq: number; revokedAt: number | null }>(
    'SELECT last_seq AS "lastSeq", revoked_at AS "revokedAt" FROM devices WHERE id = $1 FOR UPDATE',
    [device.deviceId],
  );
  if (!d) throw new HttpError(401, 'unauthorized', 'unknown device');
  if (d.revokedAt !== null) throw new HttpError(401, 'device_revoked', 'the device was revoked: enrol it again');
  return d.lastSeq;
}

/** What was recorded for the device's seqs `from`…`to` (answers to duplicates). */
async function recorded(tx: Sql, device: DeviceIdentity, from: number, to: number): Promise<Map<number, PushResult>> {
  if (to < from) return new Map();
  const rows = await tx.query<{
    seq: number;
    serverVersion: number | null;
    reason: string | null;
    message: string | null;
  }>(
    `SELECT seq, server_version AS "serverVersion", reason, message FROM device_changes
      WHERE device_id = $1 AND seq BETWEEN $2 AND $3`,
    [device.deviceId, from, to],
  );
  return new Map(
    rows.map((r) => [
      Number(r.seq),
      {
        seq: Number(r.seq),
        outcome: 'duplicate',
        serverVersion: r.serverVersion,
        reason: r.reason,
        message: r.message,
      },
    ]),
  );
}

/** A change's outcome before the feed's versions are known: tickets of its feed rows, or its rejection. */
type Outcome = { change: Change; tickets: [number, number] } | { change: Change; rejected: Rejection };

/** Records the outcomes and moves the device's last seq, in one statement; the answers. */
async function record(
  tx: Sql,
  device: DeviceIdentity,
  outcomes: Outcome[],
  feed: FeedBuffer,
  now: number,
): Promise<PushResult[]> {
  const results = outcomes.map((o): PushResult => {
    if ('rejected' in o) {
      return {
        seq: o.change.seq,
        outcome: 'rejected',
        serverVersion: null,
        reason: o.rejected.reason,
        message: o.rejected.message,
      };
    }
    return {
      seq: o.change.seq,
      outcome: 'applied',
      serverVersion: feed.highest(...o.tickets),
      reason: null,
      message: null,
    };
  });
  const last = outcomes.at(-1);
  if (!last) return results;
  const rows = outcomes.map((o, i) => ({
    seq: o.change.seq,
    op: o.change.op,
    entity: o.change.entity,
    entity_id: o.change.entityId,
    outcome: results[i]!.outcome,
    reason: results[i]!.reason,
    message: results[i]!.message,
    server_version: results[i]!.serverVersion,
    protocol_version: o.change.protocolVersion,
    schema_version: o.change.schemaVersion,
    created_at: o.change.createdAt,
    // What the device sent, kept for the audit.
    payload: o.change.payload ?? null,
  }));
  let json = JSON.stringify(rows);
  // Rarely a payload holds a NUL: only then is each looked at (one JSON text for the rest).
  if (json.includes('\\u0000')) json = JSON.stringify(rows.map((r) => ({ ...r, payload: storable(r.payload) })));
  await tx.query(
    `WITH moved AS (UPDATE devices SET last_seq = $2, last_seen_at = $3 WHERE id = $1)
     INSERT INTO device_changes (device_id, seq, op, entity, entity_id, outcome, reason, message, server_version,
       protocol_version, schema_version, created_at, received_at, payload)
     SELECT $1, seq, op, entity, entity_id, outcome, reason, message, server_version, protocol_version, schema_version,
            created_at, $3, payload
       FROM jsonb_to_recordset($4::jsonb) AS r(seq bigint, op text, entity text, entity_id text, outcome text,
            reason text, message text, server_version bigint, protocol_version integer, schema_version integer,
            created_at bigint, payload jsonb)`,
    [device.deviceId, last.change.seq, now, json],
  );
  return results;
}

/**
 * Applies `changes` (ascending, no gaps) in one transaction: duplicates
 * answered as recorded, the rest applied or rejected, the feed written, the
 * outcomes recorded. Any failure throws and nothing of the batch is kept.
 */
async function applyBatch(
  sql: Sql,
  device: DeviceIdentity,
  changes: Change[],
  config: PushConfig,
): Promise<PushResult[]> {
  return sql.tx(async (tx) => {
    const lastSeq = await lockDevice(tx, device);
    const first = changes[0]!.seq;
    if (first > lastSeq + 1) {
      throw new HttpError(409, 'gap', `expected seq ${lastSeq + 1}, got ${first}`, { expectedSeq: lastSeq + 1 });
    }
    const duplicates = await recorded(tx, device, first, Math.min(lastSeq, changes.at(-1)!.seq));
    const now = config.now();
    const feed = new FeedBuffer();
    const cache = new ApplyCache(config.services);
    const applications = new ApplicationState();
    const fresh = changes.filter((c) => c.seq > lastSeq);
    await prefetch(tx, applications, fresh);
    const outcomes: Outcome[] = [];
    for (const change of fresh) {
      let write;
      try {
        write = await handlerOf(
          change,
          config,
        )({
          sql: tx,
          device,
          change,
          now,
          feed,
          cache,
          applications,
          signers: config.certificates,
        });
      } catch (err) {
        if (!(err instanceof Rejection)) throw err;
        outcomes.push({ change, rejected: err });
        continue;
      }
      const from = feed.mark;
      await write();
      outcomes.push({ change, tickets: [from, feed.mark] });
    }
    await applications.writeEvents(tx);
    await feed.flush(tx, (versions) => applications.writeRows(tx, versions));
    const applied = new Map((await record(tx, device, outcomes, feed, now)).map((r) => [r.seq, r]));
    const unrecorded = (seq: number): PushResult => ({
      seq,
      outcome: 'duplicate',
      serverVersion: null,
      reason: null,
      message: null,
    });
    return changes.map((c) => duplicates.get(c.seq) ?? applied.get(c.seq) ?? unrecorded(c.seq));
  });
}

/** One change in its own transaction; data the database refuses is recorded as rejected in the next one. */
async function applyAlone(sql: Sql, device: DeviceIdentity, change: Change, config: PushConfig): Promise<PushResult> {
  let refused: Rejection;
  try {
    const [result] = await applyBatch(sql, device, [change], config);
    return result!;
  } catch (err) {
    if (!dataError(err)) throw err;
    refused = new Rejection(
      'invalid',
      `the change's data cannot be stored (${err instanceof Error ? err.message : 'error'})`,
    );
  }
  return sql.tx(async (tx) => {
    // Locked again: meanwhile another delivery of the same change may have been recorded.
    const lastSeq = await lockDevice(tx, device);
    if (change.seq <= lastSeq) return (await recorded(tx, device, change.seq, change.seq)).get(change.seq)!;
    if (change.seq > lastSeq + 1) {
      throw new HttpError(409, 'gap', `expected seq ${lastSeq + 1}, got ${change.seq}`, { expectedSeq: lastSeq + 1 });
    }
    const feed = new FeedBuffer();
    const [result] = await record(tx, device, [{ change, rejected: refused }], feed, config.now());
    return result!;
  });
}

/** A payload as jsonb can hold it: jsonb has no NUL character, so one with a NUL is kept as its text without them. */
function storable(payload: unknown): unknown {
  const text = JSON.stringify(payload ?? null);
  return text.includes('\\u0000') ? text.replace(/\\u0000/g, '') : (payload ?? null);
}

async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const state = sqlState(err);
      if (attempt >= ATTEMPTS || state === null || !RETRYABLE.has(state)) throw err;
    }
  }
}

/** POST /v1/push: the request's changes in order; 409 gap, 426 protocol_unsupported, 403 for another device's changes. */
export async function push(
  sql: Sql,
  device: DeviceIdentity,
  req: PushRequest,
  config: PushConfig,
): Promise<PushAnswer> {
  checkProtocol(config, req.protocolVersion);
  if (req.deviceId !== device.deviceId) throw new HttpError(403, 'forbidden', 'changes of another device');
  const first = req.changes[0]!.seq;
  if (req.changes.some((c, i) => c.seq !== first + i)) {
    throw new HttpError(400, 'bad_request', 'changes must be in ascending seq without gaps');
  }
  let results: PushResult[];
  try {
    results = await applyBatch(sql, device, req.changes, config);
  } catch (err) {
    const state = sqlState(err);
    if (state === null || !(dataError(err) || RETRYABLE.has(state))) throw err;
    // One change per transaction: the one the database refuses is rejected alone.
    results = [];
    for (const change of req.changes) results.push(await withRetry(() => applyAlone(sql, device, change, config)));
  }
  const [d] = await sql.query<{ lastSeq: number }>('SELECT last_seq AS "lastSeq" FROM devices WHERE id = $1', [
    device.deviceId,
  ]);
  return { results, lastSeq: d?.lastSeq ?? 0, serverTime: config.now() };
}
