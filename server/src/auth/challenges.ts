/**
 * EDS login challenges: a random nonce the server makes for one device,
 * live for CHALLENGE_TTL_MS and good for one login. Consuming it is one
 * conditional UPDATE, so two server instances (or two requests replaying
 * the same signature) cannot both use it.
 */
import { randomBytes } from 'node:crypto';
import { CHALLENGE_TTL_MS } from '#core/auth/challenge.js';
import type { z } from 'zod';
import type { Sql } from '../postgres/sql.js';
import type { challengeAnswer } from '#core/protocol.js';

export { CHALLENGE_TTL_MS };

export type ChallengeAnswer = z.infer<typeof challengeAnswer>;

export interface IssuedChallenge {
  nonce: string;
  issuedAt: number;
  expiresAt: number;
}

/** Used or expired challenges are deleted this long after they expired. */
const KEEP_EXPIRED_MS = 60 * 60 * 1000;

/** A new challenge for `deviceId`, stored; old expired ones are swept on the way. */
export async function issueChallenge(
  sql: Sql,
  deviceId: string,
  now: number,
  ttlMs = CHALLENGE_TTL_MS,
): Promise<IssuedChallenge> {
  const challenge = { nonce: randomBytes(32).toString('base64'), issuedAt: now, expiresAt: now + ttlMs };
  await sql.query('DELETE FROM challenges WHERE expires_at < $1', [now - KEEP_EXPIRED_MS]);
  await sql.query('INSERT INTO challenges (nonce, device_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)', [
    challenge.nonce,
    deviceId,
    challenge.issuedAt,
    challenge.expiresAt,
  ]);
  return challenge;
}

/**
 * Marks the challenge `nonce` used, if it is a live, unused challenge of
 * `deviceId` at `now`; returns it as issued, or null (unknown, another
 * device's, expired or used before: all the same to the caller).
 */
export async function consumeChallenge(
  sql: Sql,
  nonce: string,
  deviceId: string,
  now: number,
): Promise<IssuedChallenge | null> {
  const [row] = await sql.query<{ nonce: string; issued_at: string | number; expires_at: string | number }>(
    `UPDATE challenges SET used_at = $3
      WHERE nonce = $1 AND device_id = $2 AND used_at IS NULL AND expires_at >= $3
      RETURNING nonce, issued_at, expires_at`,
    [nonce, deviceId, now],
  );
  return row ? { nonce: row.nonce, issuedAt: Number(row.issued_at), expiresAt: Number(row.expires_at) } : null;
}
