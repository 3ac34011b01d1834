/** The local changes queued for the central server (the outbox), as the sync panel's choices need them. */
import type Database from 'better-sqlite3';

/**
 * Who made the queued change `seq`: the actor its payload names (the event's
 * actor, or the payload's own actor field), null when it names none or cannot
 * be read; undefined when there is no such change.
 */
export function changeAuthor(sqlite: Database.Database, seq: number): string | null | undefined {
  const row = sqlite.prepare('SELECT payload FROM outbox WHERE seq = ?').get(seq) as { payload: string } | undefined;
  if (!row) return undefined;
  let author: unknown;
  try {
    const p = JSON.parse(row.payload) as Record<string, unknown>;
    const event = p.event as Record<string, unknown> | undefined;
    author = event?.actorUserId ?? p.actorUserId ?? p.by ?? p.userId ?? null;
  } catch {
    author = null;
  }
  return typeof author === 'string' ? author : null;
}
