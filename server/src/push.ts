/**
 * Push: a device's changes applied exactly once, in its `seq` order.
 *
 * Each change runs in its own transaction that first locks the device's
 * row (SELECT … FOR UPDATE), so two deliveries of the same changes (a
 * retry, or the same batch sent to two server instances at once) take turns:
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
 * reason: last_seq moves on and the rest of the batch goes on. The effect of
 * a rejected change is undone to a savepoint first, so a rejection leaves
 * nothing behind but its record.
 */
import { HttpError, type DeviceIdentity } from './http.js';
import type { Sql } from './db/sql.js';
import { sqlState } from './db/sql.js';
import type { Change, PushAnswer, PushRequest, PushResult } from './protocol.js';
import { addSignature, create, transition } from './apply/applications.js';
import { Rejection, ServiceDefinitions, type ApplyContext, type OpHandler } from './apply/common.js';
import { block, passwordChange, passwordReset, profile, setRoles, unblock } from './apply/users.js';

export interface PushConfig {
  protocolVersion: number;
  minProtocolVersion: number;
  now(): number;
  services: ServiceDefinitions;
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
  'change.discard': () => Promise.resolve(null),
};

/** SQLSTATEs worth another try of the whole change: serialization failure, deadlock. */
const RETRYABLE = new Set(['40001', '40P01']);
const ATTEMPTS = 3;

/** Whether a database error says the change's data cannot be stored (bad value, constraint): the change's fault. */
function dataError(err: unknown): boolean {
  const state = sqlState(err);
  return state !== null && (state.startsWith('22') || state.startsWith('23'));
}

/** Checks a request's protocol: 426 protocol_unsupported when this server does not speak it. */
export function checkProtocol(versions: { protocolVersion: number; minProtocolVersion: number }, version: number): void {
  if (version > versions.protocolVersion || version < versions.minProtocolVersion) {
    throw new HttpError(
      426,
      'protocol_unsupported',
      `protocol ${version} is not between ${versions.minProtocolVersion} and ${versions.protocolVersion}`,
      { minProtocolVersion: versions.minProtocolVersion, protocolVersion: versions.protocolVersion },
    );
  }
}

async function applyOne(ctx: ApplyContext, config: PushConfig): Promise<{ version: number | null } | Rejection> {
  const { change } = ctx;
  if (change.protocolVersion < config.minProtocolVersion || change.protocolVersion > config.protocolVersion) {
    return new Rejection(
      'schemaUnsupported',
      `the change is in protocol ${change.protocolVersion}; this server reads ${config.minProtocolVersion}–${config.protocolVersion}`,
    );
  }
  const handler = Object.hasOwn(OPS, change.op) ? OPS[change.op] : undefined;
  if (!handler) return new Rejection('unknownOp', `unknown op ${change.op}`);
  await ctx.sql.query('SAVEPOINT change_effect');
  try {
    const version = await handler(ctx);
    await ctx.sql.query('RELEASE SAVEPOINT change_effect');
    return { version };
  } catch (err) {
    if (!(err instanceof Rejection) && !dataError(err)) throw err;
    await ctx.sql.query('ROLLBACK TO SAVEPOINT change_effect');
    if (err instanceof Rejection) return err;
    return new Rejection('invalid', `the change's data cannot be stored (${err instanceof Error ? err.message : 'error'})`);
  }
}

/** One change in its own transaction; a gap throws 409 `gap`. */
async function pushOne(sql: Sql, device: DeviceIdentity, change: Change, config: PushConfig): Promise<PushResult> {
  return sql.tx(async (tx) => {
    const [d] = await tx.query<{ lastSeq: number; revokedAt: number | null }>(
      'SELECT last_seq AS "lastSeq", revoked_at AS "revokedAt" FROM devices WHERE id = $1 FOR UPDATE',
      [device.deviceId],
    );
    if (!d) throw new HttpError(401, 'unauthorized', 'unknown device');
    if (d.revokedAt !== null) throw new HttpError(401, 'device_revoked', 'the device was revoked: enrol it again');
    if (change.seq <= d.lastSeq) {
      const [before] = await tx.query<{ serverVersion: number | null; reason: string | null; message: string | null }>(
        `SELECT server_version AS "serverVersion", reason, message FROM device_changes WHERE device_id = $1 AND seq = $2`,
        [device.deviceId, change.seq],
      );
      return {
        seq: change.seq,
        outcome: 'duplicate',
        serverVersion: before?.serverVersion ?? null,
        reason: before?.reason ?? null,
        message: before?.message ?? null,
      };
    }
    if (change.seq > d.lastSeq + 1) {
      throw new HttpError(409, 'gap', `expected seq ${d.lastSeq + 1}, got ${change.seq}`, { expectedSeq: d.lastSeq + 1 });
    }
    const now = config.now();
    const outcome = await applyOne({ sql: tx, device, change, now, services: config.services }, config);
    const rejected = outcome instanceof Rejection;
    const version = rejected ? null : outcome.version;
    await tx.query(
      `INSERT INTO device_changes (device_id, seq, op, entity, entity_id, outcome, reason, message, server_version,
         protocol_version, schema_version, created_at, received_at, payload)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb)`,
      [
        device.deviceId,
        change.seq,
        change.op,
        change.entity,
        change.entityId,
        rejected ? 'rejected' : 'applied',
        rejected ? outcome.reason : null,
        rejected ? outcome.message : null,
        version,
        change.protocolVersion,
        change.schemaVersion,
        change.createdAt,
        now,
        // What the device sent, kept for the audit (a payload jsonb cannot hold is kept as its text).
        storable(change.payload),
      ],
    );
    await tx.query('UPDATE devices SET last_seq = $2, last_seen_at = $3 WHERE id = $1', [device.deviceId, change.seq, now]);
    return rejected
      ? { seq: change.seq, outcome: 'rejected', serverVersion: null, reason: outcome.reason, message: outcome.message }
      : { seq: change.seq, outcome: 'applied', serverVersion: version, reason: null, message: null };
  });
}

function storable(payload: unknown): string {
  const text = JSON.stringify(payload ?? null);
  // jsonb holds no NUL character: such a payload is recorded as a JSON string of its text.
  return text.includes('\\u0000') ? JSON.stringify(text.replace(/\\u0000/g, '')) : text;
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
export async function push(sql: Sql, device: DeviceIdentity, req: PushRequest, config: PushConfig): Promise<PushAnswer> {
  checkProtocol(config, req.protocolVersion);
  if (req.deviceId !== device.deviceId) throw new HttpError(403, 'forbidden', 'changes of another device');
  req.changes.forEach((c, i) => {
    const first = req.changes[0]!.seq;
    if (c.seq !== first + i) throw new HttpError(400, 'bad_request', 'changes must be in ascending seq without gaps');
  });
  const results: PushResult[] = [];
  for (const change of req.changes) {
    results.push(await withRetry(() => pushOne(sql, device, change, config)));
  }
  const [d] = await sql.query<{ lastSeq: number }>('SELECT last_seq AS "lastSeq" FROM devices WHERE id = $1', [
    device.deviceId,
  ]);
  return { results, lastSeq: d?.lastSeq ?? 0, serverTime: config.now() };
}
