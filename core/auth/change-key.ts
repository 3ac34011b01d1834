/**
 * How a queued change proves who made it.
 *
 * A device's secret proves only that a call comes from an enrolled
 * workstation. A change is applied for a person only when it carries a MAC
 * made with a key the server gave that person at that device: at each
 * online login (password or EDS) the server answers with a fresh user key
 * `{ id, secret, issuedAt, expiresAt }`, bound to the user and the device
 * and good for the offline-login window. The workstation keeps the secret
 * encrypted at rest and, when it pushes, authenticates each change with its
 * author's key: `auth = { keyId, mac }`, the MAC being HMAC-SHA256 over the
 * canonical JSON of the device id and every field of the change but `auth`.
 *
 * The server recomputes the MAC, and applies the change only for the key's
 * user (the author the payload names must be that user), on the key's
 * device, with a key not revoked, made at most the window before the change
 * was received (plus the grace a queue may wait), and only within what that
 * user's roles allow now. A change whose author never logged in online at
 * the device (queued before keys existed, or by a user who only ever logged
 * in offline there) waits in the outbox until that user logs in online.
 *
 * User management (roles, password resets, blocking) needs more: an
 * administrator who proved to the server that they were at the device
 * shortly before the change arrived (ADMIN_ONLINE_MS).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../workflow/chain.js';
import type { ChangeOp } from '../vocabulary.js';

const DAY = 86_400_000;

/** A user key's life when the server's policy says nothing else: the offline-login window. */
export const USER_KEY_TTL_MS = 14 * DAY;
/** How long after its key expired a change made with it may still arrive (a regional office offline for weeks). */
export const USER_KEY_GRACE_MS = 30 * DAY;
/** How recent an administrator's online proof must be for a user-management change to apply. */
export const ADMIN_ONLINE_MS = 15 * 60_000;

/** Bytes of a user key's secret. */
export const USER_KEY_BYTES = 32;

/** The ops that manage other users: only for an administrator online at the device. */
export const ADMIN_OPS: ReadonlySet<ChangeOp> = new Set<ChangeOp>([
  'user.setRoles',
  'user.passwordReset',
  'user.block',
  'user.unblock',
]);

/** What of a change its MAC covers (everything the server reads; `auth` itself excluded). */
export interface MacFields {
  seq: number;
  op: string;
  entity: string;
  entityId: string;
  payload: unknown;
  protocolVersion: number;
  schemaVersion: number;
  createdAt: number;
  signature: string | null;
}

/** The text a change's MAC is made over: the device and the change, in canonical JSON. */
export function macText(deviceId: string, c: MacFields): string {
  return canonicalJson({
    deviceId,
    seq: c.seq,
    op: c.op,
    entity: c.entity,
    entityId: c.entityId,
    payload: c.payload ?? null,
    protocolVersion: c.protocolVersion,
    schemaVersion: c.schemaVersion,
    createdAt: c.createdAt,
    signature: c.signature ?? null,
  });
}

/** The MAC of a change (base64). */
export function changeMac(secret: Uint8Array, deviceId: string, c: MacFields): string {
  return createHmac('sha256', secret).update(macText(deviceId, c), 'utf8').digest('base64');
}

/** Whether `mac` is the change's MAC under `secret` (constant time). */
export function macMatches(secret: Uint8Array, deviceId: string, c: MacFields, mac: string): boolean {
  const want = Buffer.from(changeMac(secret, deviceId, c), 'base64');
  const got = Buffer.from(mac, 'base64');
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * The user a change is made by, as its payload names them, by op: the
 * event's actor (a workflow action), the actor (a new application or a
 * discard), the signer (a signature's `userId`), the user changing their own
 * profile (`id`) or password (`userId`), the administrator (`by`). Null when
 * the payload does not name one.
 */
export function changeAuthorOf(op: string, payload: unknown): string | null {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  const p = payload as Record<string, unknown>;
  let author: unknown;
  switch (op) {
    case 'application.transition':
      author =
        p.event !== null && typeof p.event === 'object' ? (p.event as Record<string, unknown>).actorUserId : null;
      break;
    case 'application.create':
    case 'change.discard':
      author = p.actorUserId;
      break;
    case 'signature.add':
    case 'user.passwordChange':
      author = p.userId;
      break;
    case 'user.profile':
      author = p.id;
      break;
    default:
      author = ADMIN_OPS.has(op as ChangeOp) ? p.by : null;
  }
  return typeof author === 'string' && author !== '' ? author : null;
}

/** How far a signed request's time may be from the server's (either way). */
export const REQUEST_MAC_SKEW_MS = 5 * 60_000;

/**
 * The proof that a user, not only a device, makes a request (a citizen
 * look-up): HMAC-SHA256 (base64) under the user's key over the device, the
 * method, the request target (path and query as sent), the body's SHA-256
 * (hex; that of nothing for a GET) and the time (ms). Sent as the headers
 * X-Qyzmet-User-Key (the key's id), X-Qyzmet-User-Mac and X-Qyzmet-At.
 */
export function requestMac(
  secret: Uint8Array,
  deviceId: string,
  method: string,
  path: string,
  bodySha256: string,
  at: number,
): string {
  const text = canonicalJson({ deviceId, method: method.toUpperCase(), path, bodySha256, at });
  return createHmac('sha256', secret).update(`qyzmet-request.v1\n${text}`, 'utf8').digest('base64');
}

/** Whether `mac` is the request's proof under `secret` (constant time). */
export function requestMacMatches(
  secret: Uint8Array,
  deviceId: string,
  method: string,
  path: string,
  bodySha256: string,
  at: number,
  mac: string,
): boolean {
  const want = Buffer.from(requestMac(secret, deviceId, method, path, bodySha256, at), 'base64');
  const got = Buffer.from(mac, 'base64');
  return got.length === want.length && timingSafeEqual(got, want);
}
