/**
 * The integrity check of the local database, shared by the start path
 * (db/connection.ts, check 'start') and the check's worker thread
 * (db/check-worker.ts, check 'background'): SQLite's own check of every page
 * and record, then the foreign keys.
 */
import type Database from 'better-sqlite3';

export type IntegrityMode = 'full' | 'quick';

/**
 * What is wrong with the database, empty when nothing is: `integrity_check`
 * (every page, every index entry) for 'full', `quick_check` (every page and
 * record, without cross-checking index contents) for 'quick', and
 * `foreign_key_check` for both.
 */
export function integrityProblems(sqlite: Database.Database, mode: IntegrityMode): string[] {
  const pragma = mode === 'full' ? 'integrity_check' : 'quick_check';
  const rows = sqlite.prepare(`PRAGMA ${pragma}`).all() as Record<string, string>[];
  const problems = rows.map((r) => r[pragma] ?? '').filter((r) => r !== 'ok');
  const fk = sqlite.prepare('PRAGMA foreign_key_check').all() as { table: string }[];
  if (fk.length > 0) problems.push(`${fk.length} rows break foreign keys (first in ${fk[0]?.table})`);
  return problems;
}

/** What the worker is asked to do: check `path`, then, when it is sound and `backupTo` is set, back it up there. */
export interface CheckRequest {
  path: string;
  mode: IntegrityMode;
  backupTo: string | null;
}

/** What the worker answers, once. */
export interface CheckReply {
  problems: string[];
  /** How long the check took (ms). */
  ms: number;
  /** The backup taken after a passing check, if one was asked for and succeeded. */
  backupPath: string | null;
  /** Why the backup failed, if it did (the check's verdict stands). */
  backupError: string | null;
}
