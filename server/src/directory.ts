/**
 * The staff directory in the feed. A user's row (roles, IIN, e-mail, phone)
 * and the staff positions go to the partitions of the providers the user
 * works at (a role bound to the provider, or a position in its staff), never
 * to the global partition: a workstation learns its own office's people and
 * no one else's. Users bound to no provider (system administrators,
 * country-wide monitoring, centre operators) are in no partition: they log
 * in online, and the server's login check answers their directory entry.
 *
 * When the providers a user works at change, the row goes to every provider
 * they are at now, and to every one they have just left without their roles
 * there (userFeedRows says why it is no tombstone).
 */
import type { Sql } from './postgres/sql.js';
import { bumpAll, providerPartition, writeFeedRows, type FeedBuffer, type FeedWrite } from './feed.js';
import { readStaff, readUser, staffFeedId, type UserData } from './rows.js';

export interface StaffPosition {
  providerId: string;
  userId: string;
  positionKk: string;
  positionRu: string;
  active: boolean;
}

/** The providers a user works at: a role bound to one, or a staff position there (sorted). */
export async function providersOfUser(sql: Sql, userId: string): Promise<string[]> {
  const rows = await sql.query<{ id: string }>(
    `SELECT provider_id AS id FROM user_roles WHERE user_id = $1 AND provider_id <> ''
     UNION SELECT provider_id AS id FROM provider_staff WHERE user_id = $1 ORDER BY id`,
    [userId],
  );
  return rows.map((r) => r.id);
}

/**
 * The user's row as provider `providerId`'s partition holds it: their roles
 * there and their system-wide ones (an office learns nothing of the user's
 * work elsewhere).
 */
export function scopedUser<T extends Pick<UserData, 'roles'>>(data: T, providerId: string): T {
  return { ...data, roles: data.roles.filter((r) => r.providerId === providerId || r.providerId === '') };
}

/**
 * The user's feed rows after a change: their row in the partition of every
 * provider they work at; in those of `before` they no longer work at, their
 * row without roles there. It is not a tombstone: the office's applications
 * and signatures still name them (a responsible executor, a signer), and a
 * workstation syncing for the first time must find them.
 */
export async function userFeedRows(
  sql: Sql,
  userId: string,
  before: readonly string[] = [],
): Promise<{ partition: string; row: FeedWrite }[]> {
  const data = await readUser(sql, userId);
  if (!data) return [];
  const now = await providersOfUser(sql, userId);
  const out: { partition: string; row: FeedWrite }[] = [];
  for (const p of new Set([...now, ...before])) {
    if (p === '') continue;
    out.push({
      partition: providerPartition(p),
      row: { entity: 'user', id: userId, op: 'upsert', data: scopedUser(data, p) },
    });
  }
  return out;
}

/** Queues the user's feed rows (see `userFeedRows`) into a push's buffer. */
export async function bufferUser(
  sql: Sql,
  feed: FeedBuffer,
  userId: string,
  before: readonly string[] = [],
): Promise<void> {
  for (const { partition, row } of await userFeedRows(sql, userId, before)) feed.write(partition, row);
}

/** Writes rows of several partitions now, each partition's in the order given (one transaction). */
async function writeNow(tx: Sql, rows: readonly { partition: string; row: FeedWrite }[]): Promise<number> {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.partition, (counts.get(r.partition) ?? 0) + 1);
  const last = await bumpAll(tx, counts);
  const next = new Map([...last].map(([p, v]) => [p, v - counts.get(p)! + 1]));
  await writeFeedRows(
    tx,
    rows.map((r) => {
      const version = next.get(r.partition)!;
      next.set(r.partition, version + 1);
      return { partition: r.partition, version, ...r.row };
    }),
  );
  return Math.max(...last.values());
}

/**
 * Gives a user a position in a provider's staff (or changes it); returns the
 * version of the provider's partition that holds it. The user's row comes
 * first, so a workstation has the person before their position.
 */
export async function upsertStaff(sql: Sql, p: StaffPosition): Promise<number> {
  return sql.tx(async (tx) => {
    const before = await providersOfUser(tx, p.userId);
    await tx.query(
      `INSERT INTO provider_staff (provider_id, user_id, position_kk, position_ru, active) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (provider_id, user_id) DO UPDATE
         SET position_kk = EXCLUDED.position_kk, position_ru = EXCLUDED.position_ru, active = EXCLUDED.active`,
      [p.providerId, p.userId, p.positionKk, p.positionRu, p.active],
    );
    const partition = providerPartition(p.providerId);
    const user = before.includes(p.providerId)
      ? []
      : (await userFeedRows(tx, p.userId)).filter((r) => r.partition === partition);
    const staff = await readStaff(tx, p.providerId, p.userId);
    return writeNow(tx, [
      ...user,
      { partition, row: { entity: 'staff', id: staffFeedId(p.providerId, p.userId), op: 'upsert', data: staff } },
    ]);
  });
}

/**
 * Removes a position from the staff list: its feed row becomes a tombstone,
 * and the user's row there is written again (without roles there when they
 * no longer work at the provider).
 * Null when there was none.
 */
export async function removeStaff(sql: Sql, providerId: string, userId: string): Promise<number | null> {
  return sql.tx(async (tx) => {
    const removed = await tx.query(
      'DELETE FROM provider_staff WHERE provider_id = $1 AND user_id = $2 RETURNING user_id',
      [providerId, userId],
    );
    if (removed.length === 0) return null;
    const partition = providerPartition(providerId);
    const user = (await userFeedRows(tx, userId, [providerId])).filter((r) => r.partition === partition);
    return writeNow(tx, [
      { partition, row: { entity: 'staff', id: staffFeedId(providerId, userId), op: 'delete', data: null } },
      ...user,
    ]);
  });
}

/**
 * Whether device `deviceId` may hear about user `userId`: the user works at
 * the device's provider, or logged in online at this device before (a user
 * key issued there: the server's login answer gave it their entry then).
 */
export async function knownAtDevice(sql: Sql, userId: string, deviceId: string): Promise<boolean> {
  const [row] = await sql.query(
    `SELECT 1 FROM devices d WHERE d.id = $2::uuid AND (
       EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = $1 AND r.provider_id = d.provider_id)
       OR EXISTS (SELECT 1 FROM provider_staff s WHERE s.user_id = $1 AND s.provider_id = d.provider_id)
       OR EXISTS (SELECT 1 FROM user_keys k WHERE k.user_id = $1 AND k.device_id = d.id))`,
    [userId, deviceId],
  );
  return row !== undefined;
}
