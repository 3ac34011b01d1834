/**
 * The application journal as a hash chain, one chain per application.
 *
 * Each event's `hash` is SHA-256 (hex) over the canonical JSON of its fields
 * (keys sorted at every level, no spaces), and those fields include
 * `prevHash`: the previous event's hash, '' for the first event. So the hash
 * covers prev_hash followed by the event, and changing, removing or
 * reordering an event breaks every link after it. The demo hashes its
 * `received` events with `eventHash` too (seq 1, prevHash ''), so demo
 * chains verify.
 *
 * A removed last event leaves a shorter chain that is still consistent; the
 * anchor against that is the application row's `version`: every workflow
 * change bumps it and appends one event whose payload records the new
 * version, so the last recorded version must equal the row's.
 */
import { createHash } from 'node:crypto';
import type { Decision, Status } from '../vocabulary.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What one event says; hashed together with `prevHash`. */
export interface EventFields {
  applicationId: string;
  seq: number;
  at: number;
  actorUserId: string | null;
  action: string;
  fromStatus: Status | null;
  toStatus: Status | null;
  decision: Decision | null;
  comment: string | null;
  payload: JsonValue | null;
  prevHash: string;
}

export interface StoredEvent extends EventFields {
  hash: string;
}

/** The `prevHash` of an application's first event. */
export const GENESIS_HASH = '';

/** JSON with object keys sorted at every level and no whitespace; `undefined` members are left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('canonicalJson: non-finite number');
    return JSON.stringify(value);
  }
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
  }
  throw new Error(`canonicalJson: unsupported ${typeof value}`);
}

/** The hash of one event: SHA-256 over the canonical JSON of its fields, `prevHash` among them. */
export function eventHash(fields: EventFields): string {
  const canonical: Record<keyof EventFields, unknown> = {
    applicationId: fields.applicationId,
    seq: fields.seq,
    at: fields.at,
    actorUserId: fields.actorUserId,
    action: fields.action,
    fromStatus: fields.fromStatus,
    toStatus: fields.toStatus,
    decision: fields.decision,
    comment: fields.comment,
    payload: fields.payload,
    prevHash: fields.prevHash,
  };
  return createHash('sha256').update(canonicalJson(canonical), 'utf8').digest('hex');
}

export type NewEvent = Omit<EventFields, 'seq' | 'prevHash'>;

/**
 * The first event of every application's chain: it was received (by a clerk,
 * a centre operator, or with no actor from the portal). The workstation, the
 * server and the demo all start a chain with it.
 */
export function receivedEvent(applicationId: string, at: number, actorUserId: string | null): NewEvent {
  return {
    applicationId,
    at,
    actorUserId,
    action: 'received',
    fromStatus: null,
    toStatus: 'received',
    decision: null,
    comment: null,
    payload: null,
  };
}

/** The application version an event's payload records, if it records one. */
export function recordedVersion(payload: JsonValue | null): number | null {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  const v = payload.version;
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
}

export type ChainCheck = { ok: true } | { ok: false; brokenAtSeq: number; reason: 'changed' | 'missing' };
