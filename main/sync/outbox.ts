/** The local changes queued for the central server (the outbox), as the sync panel's choices need them. */
import type Database from 'better-sqlite3';
import { changeAuthorOf } from '#core/auth/change-key.js';

/**
 * Who made the queued change `seq`: the user its payload names, by the one
 * rule the server applies too (core/auth/change-key.ts changeAuthorOf); null
 * when it names none or cannot be read; undefined when there is no such change.
 */
export function changeAuthor(sqlite: Database.Database, seq: number): string | null | undefined {
  const row = sqlite.prepare('SELECT op, payload FROM outbox WHERE seq = ?').get(seq) as
    { op: string; payload: string } | undefined;
  if (!row) return undefined;
  return authorOfRow(row.op, row.payload);
}

/** The author of an outbox row's op and JSON payload (null when unreadable). */
export function authorOfRow(op: string, payload: string): string | null {
  try {
    return changeAuthorOf(op, JSON.parse(payload) as unknown);
  } catch {
    return null;
  }
}
