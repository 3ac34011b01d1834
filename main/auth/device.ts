/**
 * This workstation's id, kept in its settings table: the device an EDS
 * login challenge is bound to and the sync enrolment names.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';

export const DEVICE_SETTING = 'device.id';

/** This workstation's id: made once, kept in the settings (the sync issue's enrolment may replace it). */
export function deviceIdOf(sqlite: Database.Database, now: () => number = Date.now): string {
  const row = sqlite.prepare('SELECT value FROM settings WHERE key = ?').get(DEVICE_SETTING) as
    { value: string } | undefined;
  if (row) {
    try {
      const v: unknown = JSON.parse(row.value);
      if (typeof v === 'string' && v.length > 0) return v;
    } catch {
      // Made again below.
    }
  }
  const id = randomUUID();
  sqlite
    .prepare(
      `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    )
    .run(DEVICE_SETTING, JSON.stringify(id), now());
  return id;
}
