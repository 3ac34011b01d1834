/**
 * Failed password logins on the central server: after a few failures of
 * one login in a row, the next try of that login waits, longer with each
 * failure, before its password is even looked at. Counted in the database
 * (`login_failures`), so every server instance on it sees the same count;
 * a success clears it, and a count left alone for a day is forgotten.
 *
 * Logins are kept only as hashes: people type their password into the login
 * field, and this table must never hold one in clear.
 */
import { createHash } from 'node:crypto';
import type { Sql } from '../postgres/sql.js';

/** How long the try after `count` failures in a row waits, in ms. */
export type FailureDelay = (count: number) => number;

/** Three free tries, then 1 s, 2 s, 4 s… up to 8 s (well inside a workstation's request timeout). */
export const defaultFailureDelayMs: FailureDelay = (count) =>
  count < 3 ? 0 : Math.min(1000 * 2 ** (count - 3), 8_000);

/** A run of failures older than this starts again from zero. */
export const FORGET_FAILURES_AFTER_MS = 24 * 60 * 60 * 1000;

/** The stored key of a login: a hash of the login as people type it (trimmed, case folded). */
export function failureKey(login: string): string {
  const folded = login.normalize('NFC').trim().toLowerCase();
  return createHash('sha256').update(`qyzmet-server-login-failures\0${folded}`).digest('hex');
}

/** Failures in a row of `key` that still count at `now`. */
export async function failuresOf(sql: Sql, key: string, now: number): Promise<{ count: number; lastAt: number }> {
  const [row] = await sql.query<{ count: number; last_at: string | number }>(
    'SELECT count, last_at FROM login_failures WHERE key = $1',
    [key],
  );
  if (!row) return { count: 0, lastAt: 0 };
  const lastAt = Number(row.last_at);
  if (now - lastAt > FORGET_FAILURES_AFTER_MS) return { count: 0, lastAt: 0 };
  return { count: Number(row.count), lastAt };
}

/** How long (ms) a try of `key` made at `now` must wait: what is left of the delay its failures earned. */
export async function waitBeforeTry(sql: Sql, key: string, now: number, delay: FailureDelay): Promise<number> {
  const { count, lastAt } = await failuresOf(sql, key, now);
  if (count === 0) return 0;
  const earned = Math.max(0, delay(count));
  return Math.max(0, Math.min(earned, lastAt + earned - now));
}

/** One more failure of `key` at `now` (a run older than a day starts again at one). */
export async function recordFailure(sql: Sql, key: string, now: number): Promise<void> {
  await sql.query(
    `INSERT INTO login_failures (key, count, last_at) VALUES ($1, 1, $2)
     ON CONFLICT (key) DO UPDATE
       SET count = CASE WHEN $2 - login_failures.last_at > $3 THEN 1 ELSE login_failures.count + 1 END,
           last_at = $2`,
    [key, now, FORGET_FAILURES_AFTER_MS],
  );
}

export async function clearFailures(sql: Sql, key: string): Promise<void> {
  await sql.query('DELETE FROM login_failures WHERE key = $1', [key]);
}
