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
 *
 * Who made a change (core/auth/change-key.ts): before its handler runs, a
 * fresh change must carry the MAC of a live key of this device whose user
 * is the author its payload names, else it is rejected `unauthenticated`;
 * user management also needs that user online at the device within
 * ADMIN_ONLINE_MS (`adminOffline`). The batch's keys are read in one query.
 * Handlers then act for that user only (ApplyContext.author).
 *
 * A handler may defer its change (apply/common.ts Deferral): it is answered
 * `deferred`, not recorded, last_seq stays before it, and the changes after
 * it in the request are answered `deferred` with reason `behind`.
 */
import { z } from 'zod';
import { ADMIN_ONLINE_MS, ADMIN_OPS, changeAuthorOf, macMatches } from '#core/auth/change-key.js';
import type { ChangeOp } from '#core/vocabulary.js';
import { sqlState, type Sql } from './postgres/sql.js';
import { FeedBuffer } from './feed.js';
import { HttpError, type DeviceIdentity } from './http.js';
import {
  MIN_PUSH_PROTOCOL_VERSION,
  type Change,
  type PushAnswer,
  type PushRequest,
  type PushResult,
} from '#core/protocol.js';
import { create, prefetch, transition } from './apply/applications.js';
import { addSignature } from './apply/signatures.js';
import {
  activeActor,
  ApplyCache,
  Deferral,
  payloadOf,
  Rejection,
  rolesAt,
  type OpHandler,
  type ServiceDefinitions,
  type SignerTrust,
} from './apply/common.js';
import { ApplicationState } from './apply/state.js';
import { block, passwordChange, passwordReset, profile, setRoles, unblock } from './apply/users.js';
import { deviceKeys, keyUsable, type HeldKey } from './auth/user-keys.js';

export interface PushConfig {
  protocolVersion: number;
  minProtocolVersion: number;
  now(): number;
  services: ServiceDefinitions;
  /** Whether a pushed signature's certificate could sign (a chain to the server's trusted roots). */
  certificates: SignerTrust;
  /** Where details kept from the device go (a database's refusal of a change's data). */
  log?: (line: string) => void;
}

/** change.discard: main/sync/engine.ts `discard()`: the device seq of the change given up, and who gave it up. */
const discardPayload = z.looseObject({ seq: z.number().int().positive().nullable(), actorUserId: z.string().min(1) });

/**
 * A person gave up a change the server rejected: recorded, nothing else;
 * only by the author of that change (as the server recorded its payload) or
 * a head of the device's office.
 */
const discard: OpHandler = async (c) => {
  const p = payloadOf(discardPayload, c.change.payload);
  if (p.seq === null) throw new Rejection('invalid', 'the discard names no change of this device');
  const actor = await activeActor(c, c.author);
  const [given] = await c.sql.query<{ op: string; payload: unknown }>(
    'SELECT op, payload FROM device_changes WHERE device_id = $1 AND seq = $2',
    [c.device.deviceId, p.seq],
  );
  if (!given) throw new Rejection('notFound', `no change ${p.seq} of this device`);
  const ownChange = changeAuthorOf(given.op, given.payload) === actor.id;
  if (!ownChange && !rolesAt(actor, c.device.providerId).has('head')) {
    throw new Rejection('forbidden', `${actor.id} neither made change ${p.seq} nor heads ${c.device.providerId}`);
  }
  return () => Promise.resolve();
};

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
  'change.discard': discard,
};

/**
 * The user a change proves it was made by: its key is this device's
 * (`keys` holds only those), live at `now`, its MAC matches, and its user
 * is the author the payload names; an administrator's change also needs
 * that user online at the device within ADMIN_ONLINE_MS. Else a rejection.
 */
function authorOf(change: Change, keys: Map<string, HeldKey>, device: DeviceIdentity, now: number): string {
  const auth = change.auth;
  if (!auth) throw new Rejection('unauthenticated', 'the change carries no proof of its author');
  const author = changeAuthorOf(change.op, change.payload);
  const key = keys.get(auth.keyId);
  // One message for every failure: which part failed is not told to the sender.
  const refused = new Rejection('unauthenticated', "the change's author proof is not valid at this device");
  if (!key || author === null || key.userId !== author || !keyUsable(key, now)) throw refused;
  if (!macMatches(key.secret, device.deviceId, change, auth.mac)) throw refused;
  if (ADMIN_OPS.has(change.op as ChangeOp) && now - key.lastOnlineAt > ADMIN_ONLINE_MS) {
    throw new Rejection('adminOffline', 'the administrator was not online at this device shortly before the change');
  }
  return author;
}

/** What a change's record keeps of its payload: never a password hash (the log is read by auditors, not to log in). */
function audited(change: Change): unknown {
  const payload = change.payload ?? null;
  if (
    (change.op === 'user.passwordChange' || change.op === 'user.passwordReset') &&
    payload !== null &&
    typeof payload === 'object' &&
    !Array.isArray(payload) &&
    'passwordHash' in payload
  ) {
    return { ...payload, passwordHash: '[redacted]' };
  }
  return payload;
}

/** The answer to a change left for a later push because an earlier one of the request was deferred. */
function behind(seq: number, deferredSeq: number): PushResult {
  return {
    seq,
    outcome: 'deferred',
    serverVersion: null,
    reason: 'behind',
    message: `waits for change ${deferredSeq}`,
  };
}

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
    // What the device sent, kept for the audit (without password hashes).
    payload: audited(o.change),
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
    const keys = await deviceKeys(
      tx,
      device.deviceId,
      fresh.flatMap((c) => (c.auth ? [c.auth.keyId] : [])),
    );
    const outcomes: Outcome[] = [];
    const deferred = new Map<number, PushResult>();
    for (const change of fresh) {
      let write;
      try {
        const handler = handlerOf(change, config);
        const author = authorOf(change, keys, device, now);
        write = await handler({
          sql: tx,
          device,
          change,
          author,
          now,
          feed,
          cache,
          applications,
          signers: config.certificates,
        });
      } catch (err) {
        if (err instanceof Deferral) {
          deferred.set(change.seq, {
            seq: change.seq,
            outcome: 'deferred',
            serverVersion: null,
            reason: err.reason,
            message: err.message,
          });
          for (const later of fresh) if (later.seq > change.seq) deferred.set(later.seq, behind(later.seq, change.seq));
          break;
        }
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
    return changes.map((c) => duplicates.get(c.seq) ?? applied.get(c.seq) ?? deferred.get(c.seq) ?? unrecorded(c.seq));
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
    // The database's own words stay in the server's log: they may tell a device about the schema or other rows.
    const code = sqlState(err) ?? 'unknown';
    (config.log ?? console.error)(
      `push: device ${device.deviceId} change ${change.seq} refused by the database (${code}): ${err instanceof Error ? err.message : String(err)}`,
    );
    refused = new Rejection('invalid', `the change's data cannot be stored (database code ${code})`);
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
  if (req.protocolVersion < MIN_PUSH_PROTOCOL_VERSION) {
    // Its changes carry no author's proof: the workstation keeps its queue until it is updated.
    throw new HttpError(
      426,
      'protocol_unsupported',
      `a push needs protocol ${MIN_PUSH_PROTOCOL_VERSION} or later (changes with their author's proof)`,
      { minProtocolVersion: MIN_PUSH_PROTOCOL_VERSION, protocolVersion: config.protocolVersion },
    );
  }
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
    let stop: number | null = null;
    for (const change of req.changes) {
      if (stop !== null) {
        results.push(behind(change.seq, stop));
        continue;
      }
      const result = await withRetry(() => applyAlone(sql, device, change, config));
      results.push(result);
      if (result.outcome === 'deferred') stop = change.seq;
    }
  }
  const [d] = await sql.query<{ lastSeq: number }>('SELECT last_seq AS "lastSeq" FROM devices WHERE id = $1', [
    device.deviceId,
  ]);
  return { results, lastSeq: d?.lastSeq ?? 0, serverTime: config.now() };
}
