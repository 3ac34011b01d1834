/**
 * The application journal's event chain in the workstation's database: each
 * event appended with the next seq and the hashes of the core's rule
 * (core/workflow/chain.ts), read back in chain order, and checked.
 */
import type Database from 'better-sqlite3';
import {
  eventHash,
  GENESIS_HASH,
  recordedVersion,
  type ChainCheck,
  type EventFields,
  type JsonValue,
  type NewEvent,
  type StoredEvent,
} from '#core/workflow/chain.js';
import type { Decision, Status } from '#core/vocabulary.js';

/**
 * Appends an event to the application's chain: the next `seq`, the previous
 * hash, its own hash. Call it inside the transaction that makes the change.
 */
export function appendEvent(sqlite: Database.Database, event: NewEvent): StoredEvent {
  const last = sqlite
    .prepare('SELECT seq, hash FROM application_events WHERE application_id = ? ORDER BY seq DESC LIMIT 1')
    .get(event.applicationId) as { seq: number; hash: string } | undefined;
  // What is hashed is what is read back: the payload after a JSON round trip.
  const payloadText = event.payload === null ? null : JSON.stringify(event.payload);
  const payload = payloadText === null ? null : (JSON.parse(payloadText) as JsonValue);
  const fields: EventFields = {
    ...event,
    payload,
    seq: (last?.seq ?? 0) + 1,
    prevHash: last?.hash ?? GENESIS_HASH,
  };
  const hash = eventHash(fields);
  sqlite
    .prepare(
      `INSERT INTO application_events (application_id, seq, at, actor_user_id, action, from_status, to_status,
         decision, comment, payload, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      fields.applicationId,
      fields.seq,
      fields.at,
      fields.actorUserId,
      fields.action,
      fields.fromStatus,
      fields.toStatus,
      fields.decision,
      fields.comment,
      payloadText,
      fields.prevHash,
      hash,
    );
  return { ...fields, hash };
}

interface EventRow {
  seq: number;
  at: number;
  actor_user_id: string | null;
  action: string;
  from_status: Status | null;
  to_status: Status | null;
  decision: Decision | null;
  comment: string | null;
  payload: string | null;
  prev_hash: string;
  hash: string;
}

function readRows(sqlite: Database.Database, applicationId: string): EventRow[] {
  return sqlite
    .prepare(
      `SELECT seq, at, actor_user_id, action, from_status, to_status, decision, comment, payload, prev_hash, hash
         FROM application_events WHERE application_id = ? ORDER BY seq`,
    )
    .all(applicationId) as EventRow[];
}

/** A stored payload that is not JSON: only a changed row has one. */
class UnreadablePayload extends Error {}

function toEvent(applicationId: string, r: EventRow): StoredEvent {
  let payload: JsonValue | null = null;
  if (r.payload !== null) {
    try {
      payload = JSON.parse(r.payload) as JsonValue;
    } catch {
      throw new UnreadablePayload(`event ${r.seq}`);
    }
  }
  return {
    applicationId,
    seq: r.seq,
    at: r.at,
    actorUserId: r.actor_user_id,
    action: r.action,
    fromStatus: r.from_status,
    toStatus: r.to_status,
    decision: r.decision,
    comment: r.comment,
    payload,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** The events of one application, in chain order, as stored (an unreadable payload reads as null). */
export function readEvents(sqlite: Database.Database, applicationId: string): StoredEvent[] {
  return readRows(sqlite, applicationId).map((r) => {
    try {
      return toEvent(applicationId, r);
    } catch (err) {
      if (err instanceof UnreadablePayload) return toEvent(applicationId, { ...r, payload: null });
      throw err;
    }
  });
}

/**
 * Checks one application's chain: seq runs 1, 2, 3… without gaps (a gap is a
 * removed event), every hash matches its event, every `prevHash` the hash
 * before it, and the last version recorded equals the application row's
 * (otherwise events at the end were removed). Events written before versions
 * were recorded (demo `received` events) count as version 1.
 */
export function verifyChain(sqlite: Database.Database, applicationId: string): ChainCheck {
  let prev = GENESIS_HASH;
  let expected = 1;
  let anchored = 1;
  let anchoredSeq = 0;
  for (const row of readRows(sqlite, applicationId)) {
    if (row.seq !== expected) return { ok: false, brokenAtSeq: expected, reason: 'missing' };
    let e: StoredEvent;
    try {
      e = toEvent(applicationId, row);
    } catch (err) {
      if (err instanceof UnreadablePayload) return { ok: false, brokenAtSeq: row.seq, reason: 'changed' };
      throw err;
    }
    if (eventHash(e) !== e.hash) return { ok: false, brokenAtSeq: e.seq, reason: 'changed' };
    // The event itself is intact but does not link to the one before: that one was rewritten.
    if (e.prevHash !== prev) return { ok: false, brokenAtSeq: Math.max(1, e.seq - 1), reason: 'changed' };
    const v = recordedVersion(e.payload);
    if (v !== null) {
      anchored = v;
      anchoredSeq = e.seq;
    }
    prev = e.hash;
    expected++;
  }
  const app = sqlite.prepare('SELECT version FROM applications WHERE id = ?').get(applicationId) as
    { version: number } | undefined;
  if (app) {
    if (app.version > anchored) return { ok: false, brokenAtSeq: expected, reason: 'missing' };
    if (app.version < anchored) return { ok: false, brokenAtSeq: Math.max(1, anchoredSeq), reason: 'changed' };
  }
  return { ok: true };
}
