/**
 * Failed logins slow further tries down: after `freeFailures` failures of one
 * login, that login waits `firstDelaySeconds`, doubling with each further
 * failure up to `maxDelaySeconds`; after `deviceFreeFailures` failures on
 * this workstation (any logins), every login waits the same way. A try made
 * while waiting is answered "wait" without looking at the password, and does
 * not count. A success clears its login and the workstation's count.
 *
 * Kept in the `auth.throttle` setting, so restarting the app does not reset
 * it. Logins are kept only as keyed hashes (people type their password into
 * the login field), at most MAX_TRACKED of them, the oldest forgotten first.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { AuthPolicy } from './policy.js';

export const THROTTLE_SETTING = 'auth.throttle';
const MAX_TRACKED = 500;

interface Count {
  n: number;
  at: number;
}

interface State {
  logins: Record<string, Count>;
  device: Count;
}

function loginKey(login: string): string {
  return createHash('sha256').update(`qyzmet-login-throttle\0${login.trim().toLowerCase()}`).digest('hex').slice(0, 32);
}

export class LoginThrottle {
  constructor(
    private readonly sqlite: Database.Database,
    private readonly policy: () => AuthPolicy,
    private readonly now: () => number,
  ) {}

  private read(): State {
    const row = this.sqlite.prepare('SELECT value FROM settings WHERE key = ?').get(THROTTLE_SETTING) as
      { value: string } | undefined;
    if (row) {
      try {
        const v = JSON.parse(row.value) as Partial<State>;
        if (v && typeof v === 'object' && v.logins && v.device) return { logins: v.logins, device: v.device };
      } catch {
        // Start over.
      }
    }
    return { logins: {}, device: { n: 0, at: 0 } };
  }

  private write(state: State): void {
    const entries = Object.entries(state.logins);
    if (entries.length > MAX_TRACKED) {
      entries.sort((a, b) => b[1].at - a[1].at);
      state.logins = Object.fromEntries(entries.slice(0, MAX_TRACKED));
    }
    this.sqlite
      .prepare(
        `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      )
      .run(THROTTLE_SETTING, JSON.stringify(state), this.now());
  }

  private fresh(c: Count | undefined): Count {
    const memory = this.policy().failureMemoryMinutes * 60_000;
    return c && this.now() - c.at < memory ? c : { n: 0, at: 0 };
  }

  private delayMs(n: number, free: number): number {
    if (n < free) return 0;
    const p = this.policy();
    return Math.min(p.maxDelaySeconds, p.firstDelaySeconds * 2 ** (n - free)) * 1000;
  }

  /** Seconds this login must still wait before a try is looked at; 0: it may try now. */
  waitSeconds(login: string): number {
    const state = this.read();
    const p = this.policy();
    const mine = this.fresh(state.logins[loginKey(login)]);
    const device = this.fresh(state.device);
    const until = Math.max(
      mine.n > 0 ? mine.at + this.delayMs(mine.n, p.freeFailures) : 0,
      device.n > 0 ? device.at + this.delayMs(device.n, p.deviceFreeFailures) : 0,
    );
    const left = until - this.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  fail(login: string): void {
    const state = this.read();
    const key = loginKey(login);
    const now = this.now();
    const mine = this.fresh(state.logins[key]);
    const device = this.fresh(state.device);
    state.logins[key] = { n: mine.n + 1, at: now };
    state.device = { n: device.n + 1, at: now };
    this.write(state);
  }

  succeed(login: string): void {
    const state = this.read();
    delete state.logins[loginKey(login)];
    state.device = { n: 0, at: 0 };
    this.write(state);
  }
}
