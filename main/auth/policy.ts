/**
 * The login policy of this workstation: the offline window, the idle lock,
 * and how failures slow further tries down. Defaults here; an administrator's
 * values in the `auth.policy` setting (a JSON object with any of the fields);
 * the composition root may override both (the demo start does).
 */
import type Database from 'better-sqlite3';
import { z } from 'zod';

export interface AuthPolicy {
  /** A user may log in offline only this many days after their last online login here; null: no limit (demo only). */
  offlineWindowDays: number | null;
  /** Idle minutes before the session locks; 0: never. */
  idleLockMinutes: number;
  /** Failed logins of one login before it waits. */
  freeFailures: number;
  /** Failed logins on this workstation (any login) before every login waits. */
  deviceFreeFailures: number;
  /** The first wait; each further failure doubles it. */
  firstDelaySeconds: number;
  maxDelaySeconds: number;
  /** Failures older than this are forgotten. */
  failureMemoryMinutes: number;
  /** Wrong passwords or PINs on the lock screen before the session ends. */
  maxUnlockFailures: number;
  /** How long a key opened for login waits for its signature. */
  edsOpenSeconds: number;
}

export const DEFAULT_POLICY: Readonly<AuthPolicy> = {
  offlineWindowDays: 14,
  idleLockMinutes: 15,
  freeFailures: 3,
  deviceFreeFailures: 10,
  firstDelaySeconds: 5,
  maxDelaySeconds: 15 * 60,
  failureMemoryMinutes: 60,
  maxUnlockFailures: 5,
  edsOpenSeconds: 120,
};

export const POLICY_SETTING = 'auth.policy';

const stored = z
  .strictObject({
    offlineWindowDays: z.int().min(0).max(365).nullable(),
    idleLockMinutes: z
      .int()
      .min(0)
      .max(24 * 60),
    freeFailures: z.int().min(1).max(20),
    deviceFreeFailures: z.int().min(1).max(100),
    firstDelaySeconds: z.int().min(1).max(600),
    maxDelaySeconds: z
      .int()
      .min(1)
      .max(24 * 3600),
    failureMemoryMinutes: z
      .int()
      .min(1)
      .max(7 * 24 * 60),
    maxUnlockFailures: z.int().min(1).max(20),
    edsOpenSeconds: z.int().min(10).max(600),
  })
  .partial();

/** The policy: defaults, then the `auth.policy` setting (ignored when malformed), then `overrides`. */
export function readPolicy(sqlite: Database.Database, overrides: Partial<AuthPolicy> = {}): AuthPolicy {
  let fromSettings: Partial<AuthPolicy> = {};
  const row = sqlite.prepare('SELECT value FROM settings WHERE key = ?').get(POLICY_SETTING) as
    { value: string } | undefined;
  if (row) {
    try {
      const parsed = stored.safeParse(JSON.parse(row.value));
      if (parsed.success) fromSettings = parsed.data;
    } catch {
      // A malformed setting leaves the defaults.
    }
  }
  return { ...DEFAULT_POLICY, ...fromSettings, ...overrides };
}
