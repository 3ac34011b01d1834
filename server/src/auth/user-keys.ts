/**
 * User keys (core/auth/change-key.ts): the server's side.
 *
 * A key is issued at every successful online login (password or EDS) for
 * that user at that device. Its secret is never stored: it is
 * HMAC-SHA256(master, "user-key.v1." + id), the master a random key kept in
 * `server_keys` (created by the first instance that needs it, like the
 * access token key of devices.ts), so every instance on the database derives
 * the same secret and a copy of `user_keys` alone forges nothing.
 *
 * A key is bound to its user and device; it stops working when revoked (the
 * user blocked, their password reset) and USER_KEY_GRACE_MS after it
 * expired. `last_online_at` is the user's last online proof at the device
 * (a login, a recheck), which user-management changes need to be recent.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { USER_KEY_GRACE_MS, USER_KEY_TTL_MS } from '#core/auth/change-key.js';
import type { UserKey } from '#core/protocol.js';
import type { Sql } from '../postgres/sql.js';

const MASTER_KEY_ID = 'user-key-hmac';

/** The master key of this database, created on first use. */
export async function userKeyMaster(sql: Sql, now: number): Promise<Buffer> {
  await sql.query('INSERT INTO server_keys (id, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [
    MASTER_KEY_ID,
    randomBytes(32),
    now,
  ]);
  const [row] = await sql.query<{ secret: Buffer | Uint8Array }>('SELECT secret FROM server_keys WHERE id = $1', [
    MASTER_KEY_ID,
  ]);
  if (!row) throw new Error('no user key master');
  return Buffer.from(row.secret);
}

/** A key's secret: derived from the master and the key's id (USER_KEY_BYTES bytes). */
export function deriveSecret(master: Uint8Array, keyId: string): Buffer {
  return createHmac('sha256', master).update(`user-key.v1.${keyId}`, 'utf8').digest();
}

/**
 * A fresh key for `userId` at `deviceId`, its user online there now (the
 * user's other keys at the device get the same online time).
 */
export async function issueUserKey(
  sql: Sql,
  userId: string,
  deviceId: string,
  now: number,
  ttlMs = USER_KEY_TTL_MS,
): Promise<UserKey> {
  const master = await userKeyMaster(sql, now);
  const id = randomBytes(18).toString('base64url');
  const expiresAt = now + ttlMs;
  await sql.query(
    `INSERT INTO user_keys (id, user_id, device_id, issued_at, expires_at, last_online_at)
     VALUES ($1, $2, $3, $4, $5, $4)`,
    [id, userId, deviceId, now, expiresAt],
  );
  await recordOnline(sql, userId, deviceId, now);
  return { id, secret: deriveSecret(master, id).toString('base64'), issuedAt: now, expiresAt };
}

/** The user proved to be online at the device now: their live keys there say so. */
export async function recordOnline(sql: Sql, userId: string, deviceId: string, now: number): Promise<void> {
  await sql.query(
    `UPDATE user_keys SET last_online_at = GREATEST(last_online_at, $3)
      WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL`,
    [userId, deviceId, now],
  );
}

/** Revokes every key of the user (blocked, password reset): their queued changes no longer apply. */
export async function revokeUserKeys(sql: Sql, userId: string, now: number): Promise<void> {
  await sql.query('UPDATE user_keys SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL', [userId, now]);
}

/** A stored key with its derived secret. */
export interface HeldKey {
  id: string;
  userId: string;
  deviceId: string;
  issuedAt: number;
  expiresAt: number;
  lastOnlineAt: number;
  revokedAt: number | null;
  secret: Buffer;
}

/**
 * The keys `keyIds` of `deviceId`, in one query (a push reads its batch's
 * keys together). Another device's keys are not returned.
 */
export async function deviceKeys(sql: Sql, deviceId: string, keyIds: readonly string[]): Promise<Map<string, HeldKey>> {
  const ids = [...new Set(keyIds)];
  if (ids.length === 0) return new Map();
  const rows = await sql.query<{
    id: string;
    userId: string;
    deviceId: string;
    issuedAt: number | string;
    expiresAt: number | string;
    lastOnlineAt: number | string;
    revokedAt: number | string | null;
    master: Buffer | Uint8Array;
  }>(
    `SELECT k.id, k.user_id AS "userId", k.device_id AS "deviceId", k.issued_at AS "issuedAt",
            k.expires_at AS "expiresAt", k.last_online_at AS "lastOnlineAt", k.revoked_at AS "revokedAt",
            s.secret AS master
       FROM user_keys k JOIN server_keys s ON s.id = $3
      WHERE k.id = ANY($1::text[]) AND k.device_id = $2`,
    [ids, deviceId, MASTER_KEY_ID],
  );
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        userId: r.userId,
        deviceId: r.deviceId,
        issuedAt: Number(r.issuedAt),
        expiresAt: Number(r.expiresAt),
        lastOnlineAt: Number(r.lastOnlineAt),
        revokedAt: r.revokedAt === null ? null : Number(r.revokedAt),
        secret: deriveSecret(r.master, r.id),
      },
    ]),
  );
}

/** Whether a key may authenticate what arrives at `now`: not revoked, issued by then, not past its grace. */
export function keyUsable(key: HeldKey, now: number): boolean {
  return key.revokedAt === null && key.issuedAt <= now && now <= key.expiresAt + USER_KEY_GRACE_MS;
}

/**
 * The secret of key `keyId` for a request of `deviceId` at `now`, with its
 * user; null when the key is unknown, revoked, another device's, or past
 * its grace. (For requests other than a push that act for a user.)
 */
export async function userKeySecret(
  sql: Sql,
  keyId: string,
  deviceId: string,
  now: number,
): Promise<{ userId: string; secret: Buffer; issuedAt: number; expiresAt: number; lastOnlineAt: number } | null> {
  const key = (await deviceKeys(sql, deviceId, [keyId])).get(keyId);
  if (!key || !keyUsable(key, now)) return null;
  return {
    userId: key.userId,
    secret: key.secret,
    issuedAt: key.issuedAt,
    expiresAt: key.expiresAt,
    lastOnlineAt: key.lastOnlineAt,
  };
}
