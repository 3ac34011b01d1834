/**
 * The provider's staff list on the server: a position given (or changed)
 * and a position removed. A removal leaves a tombstone in the global feed,
 * so every workstation drops the row at its next pull.
 */
import type { Sql } from './postgres/sql.js';
import { bump, GLOBAL_PARTITION, writeFeed } from './feed.js';
import { readStaff, staffFeedId } from './rows.js';

export interface StaffPosition {
  providerId: string;
  userId: string;
  positionKk: string;
  positionRu: string;
  active: boolean;
}

/** Gives a user a position in a provider's staff (or changes it); returns the feed version. */
export async function upsertStaff(sql: Sql, p: StaffPosition): Promise<number> {
  return sql.tx(async (tx) => {
    await tx.query(
      `INSERT INTO provider_staff (provider_id, user_id, position_kk, position_ru, active) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (provider_id, user_id) DO UPDATE
         SET position_kk = EXCLUDED.position_kk, position_ru = EXCLUDED.position_ru, active = EXCLUDED.active`,
      [p.providerId, p.userId, p.positionKk, p.positionRu, p.active],
    );
    const version = await bump(tx, GLOBAL_PARTITION);
    const id = staffFeedId(p.providerId, p.userId);
    await writeFeed(tx, GLOBAL_PARTITION, 'staff', id, 'upsert', await readStaff(tx, p.providerId, p.userId), version);
    return version;
  });
}

/** Removes a position from the staff list; its feed row becomes a tombstone. Null when there was none. */
export async function removeStaff(sql: Sql, providerId: string, userId: string): Promise<number | null> {
  return sql.tx(async (tx) => {
    const removed = await tx.query(
      'DELETE FROM provider_staff WHERE provider_id = $1 AND user_id = $2 RETURNING user_id',
      [providerId, userId],
    );
    if (removed.length === 0) return null;
    const version = await bump(tx, GLOBAL_PARTITION);
    await writeFeed(tx, GLOBAL_PARTITION, 'staff', staffFeedId(providerId, userId), 'delete', null, version);
    return version;
  });
}
