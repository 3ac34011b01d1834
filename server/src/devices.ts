/**
 * Devices: enrolment of a workstation into an office by an administrator,
 * short-lived access tokens for its calls, and revocation.
 *
 * The device secret is shown once (the enrolment answer) and only its
 * SHA-256 is kept. Access tokens are `v1.<deviceId>.<expiresAt>.<mac>`, the
 * mac an HMAC-SHA256 over deviceId and expiry with a key kept in
 * `server_keys`, created once per database: every instance on the database
 * verifies every token, and nothing about a token lives in one instance's
 * memory. A revoked device is refused at its next call, whatever its token.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { LoginGuard } from './auth/failures.js';
import { orm } from './postgres/orm.js';
import { devices, providers, serverKeys, userRoles, users } from './postgres/schema.js';
import type { Sql } from './postgres/sql.js';
import { HttpError, type DeviceIdentity } from './http.js';
import { GLOBAL_PARTITION, providerPartition, type enrolAnswer, type enrolRequest } from '#core/protocol.js';
import type { z } from 'zod';

export const DEFAULT_ACCESS_TOKEN_TTL_MS = 15 * 60_000;
const TOKEN_KEY_ID = 'access-token-hmac';
const TOKEN_PREFIX = 'v1';

const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** The partitions a device of `providerId` pulls. */
export function partitionsOf(providerId: string): string[] {
  return [GLOBAL_PARTITION, providerPartition(providerId)];
}

/** The token key of this database: created by the first instance that needs it, read by every other. */
export async function tokenKey(sql: Sql, now: number): Promise<Buffer> {
  const db = orm(sql);
  await db
    .insert(serverKeys)
    .values({ id: TOKEN_KEY_ID, secret: randomBytes(32), createdAt: now })
    .onConflictDoNothing();
  const [row] = await db.select({ secret: serverKeys.secret }).from(serverKeys).where(eq(serverKeys.id, TOKEN_KEY_ID));
  if (!row) throw new Error('no token key');
  return row.secret;
}

function mac(key: Buffer, deviceId: string, expiresAt: number): string {
  return createHmac('sha256', key).update(`${TOKEN_PREFIX}.${deviceId}.${expiresAt}`).digest('base64url');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

type EnrolRequest = z.infer<typeof enrolRequest>;
type EnrolAnswer = z.infer<typeof enrolAnswer>;

/**
 * Enrols (or enrols again) a device into the office of `providerId`. The
 * credentials must be an administrator's of that provider, or a system
 * administrator's. Wrong login or password: 401 wrong_credentials after the
 * same work either way; a blocked user or no such administrator role: 403;
 * an unknown provider: 404. Password tries count with the login check's
 * (per login and per source): 429 too_many_attempts while a delay is
 * pending, 403 locked for a locked login, 503 busy past the hash cap. A device enrolled before (same id, same office)
 * gets a new secret and keeps its last seq, so its queue goes on.
 */
export async function enrolDevice(
  sql: Sql,
  req: EnrolRequest,
  now: number,
  access: { guard: LoginGuard; source: string },
): Promise<EnrolAnswer> {
  const db = orm(sql);
  const found: { user?: { id: string; passwordHash: string | null; blocked: boolean } } = {};
  const outcome = await access.guard.attempt(
    sql,
    req.login,
    access.source,
    () => now,
    async () => {
      [found.user] = await db
        .select({ id: users.id, passwordHash: users.passwordHash, blocked: users.blocked })
        .from(users)
        .where(eq(users.login, req.login));
      // A dummy hash of the same cost when there is no user: an unknown login costs the same.
      return access.guard.verify(sql, found.user ?? null, req.password);
    },
  );
  if (outcome === 'locked') {
    throw new HttpError(403, 'locked', 'too many failed attempts: an administrator must unblock the user');
  }
  const user = found.user;
  if (outcome === 'wrong' || !user) throw new HttpError(401, 'wrong_credentials', 'wrong login or password');
  if (user.blocked) throw new HttpError(403, 'forbidden', 'the user is blocked');

  const [provider] = await db.select({ id: providers.id }).from(providers).where(eq(providers.id, req.providerId));
  if (!provider) throw new HttpError(404, 'not_found', `no provider ${req.providerId}`);

  const grants = await db
    .select({ providerId: userRoles.providerId })
    .from(userRoles)
    .where(and(eq(userRoles.userId, user.id), eq(userRoles.role, 'admin')));
  if (!grants.some((g) => g.providerId === '' || g.providerId === req.providerId)) {
    throw new HttpError(403, 'forbidden', `not an administrator of ${req.providerId}`);
  }

  const secret = randomBytes(32).toString('base64url');
  await sql.tx(async (tx) => {
    const t = orm(tx);
    const [existing] = await t
      .select({ providerId: devices.providerId })
      .from(devices)
      .where(eq(devices.id, req.deviceId))
      .for('update');
    if (existing && existing.providerId !== req.providerId) {
      throw new HttpError(409, 'conflict', 'this device is enrolled in another office');
    }
    if (existing) {
      await t
        .update(devices)
        .set({ name: req.name, secretSha256: sha256Hex(secret), enrolledBy: user.id, enrolledAt: now, revokedAt: null })
        .where(eq(devices.id, req.deviceId));
    } else {
      await t.insert(devices).values({
        id: req.deviceId,
        name: req.name,
        providerId: req.providerId,
        secretSha256: sha256Hex(secret),
        enrolledBy: user.id,
        enrolledAt: now,
      });
    }
  });
  return {
    deviceId: req.deviceId,
    deviceSecret: secret,
    partitions: partitionsOf(req.providerId),
    providerId: req.providerId,
    serverTime: now,
  };
}

/** A new access token for the device's secret; 401 unauthorized for a wrong one, 401 device_revoked for a revoked device. */
export async function issueToken(
  sql: Sql,
  key: Buffer,
  deviceId: string,
  deviceSecret: string,
  now: number,
  ttlMs = DEFAULT_ACCESS_TOKEN_TTL_MS,
): Promise<{ accessToken: string; expiresAt: number }> {
  const [device] = await orm(sql)
    .select({ secretSha256: devices.secretSha256, revokedAt: devices.revokedAt })
    .from(devices)
    .where(eq(devices.id, deviceId));
  const given = sha256Hex(deviceSecret);
  // Compared even for an unknown device, so the answer takes the same time.
  const matches = sameText(given, device?.secretSha256 ?? sha256Hex(''));
  if (!device || !matches) throw new HttpError(401, 'unauthorized', 'unknown device or wrong secret');
  if (device.revokedAt !== null) throw new HttpError(401, 'device_revoked', 'the device was revoked: enrol it again');
  const expiresAt = now + ttlMs;
  return { accessToken: `${TOKEN_PREFIX}.${deviceId}.${expiresAt}.${mac(key, deviceId, expiresAt)}`, expiresAt };
}

/**
 * The device a bearer token stands for. 401 unauthorized when the token is
 * missing, malformed, forged or expired; 401 device_revoked when the device
 * was revoked since.
 */
export async function authenticate(
  sql: Sql,
  key: Buffer,
  authorization: string | undefined,
  now: number,
): Promise<DeviceIdentity> {
  const m = /^Bearer ([A-Za-z0-9._-]{16,2000})$/.exec(authorization ?? '');
  if (!m) throw new HttpError(401, 'unauthorized', 'no access token');
  const parts = m[1]!.split('.');
  const [prefix, deviceId, expiry, sig] = parts;
  if (parts.length !== 4 || prefix !== TOKEN_PREFIX || !deviceId || !expiry || !sig || !/^\d{1,15}$/.test(expiry)) {
    throw new HttpError(401, 'unauthorized', 'malformed access token');
  }
  const expiresAt = Number(expiry);
  if (!sameText(sig, mac(key, deviceId, expiresAt))) throw new HttpError(401, 'unauthorized', 'bad access token');
  if (expiresAt <= now) throw new HttpError(401, 'unauthorized', 'access token expired');
  const [device] = await orm(sql)
    .select({ providerId: devices.providerId, revokedAt: devices.revokedAt })
    .from(devices)
    .where(eq(devices.id, deviceId));
  if (!device) throw new HttpError(401, 'unauthorized', 'unknown device');
  if (device.revokedAt !== null) throw new HttpError(401, 'device_revoked', 'the device was revoked: enrol it again');
  return { deviceId, providerId: device.providerId, partitions: partitionsOf(device.providerId) };
}

/** Revokes a device: its tokens and its secret stop working at once. Returns whether it was enrolled and not yet revoked. */
export async function revokeDevice(sql: Sql, deviceId: string, now: number): Promise<boolean> {
  const rows = await sql.query('UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id', [
    deviceId,
    now,
  ]);
  return rows.length > 0;
}
