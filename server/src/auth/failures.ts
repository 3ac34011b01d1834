/**
 * Password guessing on the central server (the login check and device
 * enrolment): every password try is counted per login AND per source
 * address, in the database (`login_guard`), so every server instance on it
 * sees the same counts.
 *
 * - A try whose login or source still owes a delay is refused at once with
 *   429 too_many_attempts and `retryAfterMs`, before any scrypt: nothing
 *   sleeps, so parallel tries cannot share one wait.
 * - One try of a login at a time: the try claims the login's row (a lease)
 *   in one statement; a parallel try of the same login gets 429 too.
 * - After `lockAfter` failures of a login in a row it is locked: its tries
 *   are answered 'locked' (no scrypt) until an administrator unblocks the
 *   user (clearLockout). Sources are only slowed, never locked: an office
 *   behind one address must not be shut out by one person's typos.
 * - Password hashes run under a cap per server instance (HashGate): past it,
 *   503 busy with `retryAfterMs` rather than an unbounded queue of 128 MiB
 *   scrypts.
 *
 * Logins and addresses are kept only as HMACs with a key of `server_keys`:
 * people type their password into the login field, and this table must not
 * let anyone find one by hashing guesses.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { DEFAULT_SCRYPT, hashPassword, needsRehash, verifyPassword, type ScryptParams } from '#core/auth/passwords.js';
import { HttpError } from '../http.js';
import type { Sql } from '../postgres/sql.js';

/** How long the try after `count` failures in a row waits, in ms. */
export type FailureDelay = (count: number) => number;

/** A login: three free tries, then 1 s, 2 s, 4 s… up to 5 min (it is locked at 10 anyway). */
export const defaultFailureDelayMs: FailureDelay = (count) =>
  count < 3 ? 0 : Math.min(1000 * 2 ** (count - 3), 5 * 60_000);

/** A source address (an office may be one address): 20 free failures, then 1 s doubling up to 5 min. */
export const defaultSourceDelayMs: FailureDelay = (count) =>
  count < 20 ? 0 : Math.min(1000 * 2 ** (count - 20), 5 * 60_000);

/** Failures of a login in a row that lock it. */
export const DEFAULT_LOCK_AFTER = 10;
/** scrypts at once per instance (libuv's thread pool has 4; at the default cost, 512 MiB). */
export const DEFAULT_MAX_CONCURRENT_HASHES = 4;
/** A run of failures older than this starts again from zero (a locked login stays locked). */
export const FORGET_FAILURES_AFTER_MS = 24 * 60 * 60 * 1000;
/** How long a claimed try holds its login at most (an instance that died mid-check lets go by then). */
const LEASE_MS = 30_000;
/** What a try refused because another try of its login is being checked is told to wait. */
const BUSY_RETRY_MS = 1000;
const GUARD_KEY_ID = 'login-guard-hmac';

// ------------------------------------------------------------------ keys ---

const secrets = new WeakMap<Sql, Buffer>();

/** This database's HMAC key of the guard: created by the first instance that needs it, read by every other. */
export async function guardSecret(sql: Sql, now = Date.now()): Promise<Buffer> {
  const cached = secrets.get(sql);
  if (cached) return cached;
  await sql.query('INSERT INTO server_keys (id, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [
    GUARD_KEY_ID,
    randomBytes(32),
    now,
  ]);
  const [row] = await sql.query<{ secret: Uint8Array }>('SELECT secret FROM server_keys WHERE id = $1', [GUARD_KEY_ID]);
  if (!row) throw new Error('no login guard key');
  const secret = Buffer.from(row.secret);
  secrets.set(sql, secret);
  return secret;
}

/** A login as people type it, folded: trimmed, NFC, lower case. */
export function foldLogin(login: string): string {
  return login.normalize('NFC').trim().toLowerCase();
}

/** The stored key of a login: an HMAC, not derivable without the server's secret. */
export function loginKey(secret: Buffer, login: string): string {
  return `l:${createHmac('sha256', secret)
    .update(`login\0${foldLogin(login)}`)
    .digest('hex')}`;
}

export function sourceKey(secret: Buffer, source: string): string {
  return `s:${createHmac('sha256', secret).update(`source\0${source}`).digest('hex')}`;
}

/**
 * The client address of a request: the socket's peer; with `trustProxy`
 * (a reverse proxy in front that appends the address it saw), the last
 * entry of X-Forwarded-For, the only one a client cannot forge.
 */
export function sourceOf(req: IncomingMessage, trustProxy = false): string {
  let address: string | undefined;
  if (trustProxy) {
    const header = req.headers['x-forwarded-for'];
    const value = Array.isArray(header) ? header.join(',') : header;
    address = value
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .pop();
  }
  address ??= req.socket.remoteAddress ?? 'unknown';
  // One IPv4 client either way it reaches a dual-stack socket.
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

// -------------------------------------------------------------- the gate ---

/** A cap on password hashes running at once in this instance: past it, 503 busy instead of a queue. */
export class HashGate {
  private active = 0;

  constructor(
    readonly max = DEFAULT_MAX_CONCURRENT_HASHES,
    private readonly retryAfterMs = 1000,
  ) {}

  get running(): number {
    return this.active;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) {
      throw new HttpError(503, 'busy', 'the server is busy checking passwords', { retryAfterMs: this.retryAfterMs });
    }
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
    }
  }
}

// ------------------------------------------------------------- the guard ---

export interface LoginGuardOptions {
  /** The wait after `count` failures of a login in a row (ms). */
  failureDelayMs?: FailureDelay;
  /** The wait after `count` failures from one source address in a row (ms). */
  sourceDelayMs?: FailureDelay;
  /** Failures of a login in a row that lock it until an administrator unblocks the user. */
  lockAfter?: number;
  /** Password hashes at once in this instance. */
  maxConcurrentHashes?: number;
  /** A reverse proxy in front: the client address is the last X-Forwarded-For entry. */
  trustProxy?: boolean;
  /** The cost new hashes get, and the dummy an unknown login is checked against. */
  scrypt?: ScryptParams;
  /** The hash cap to use (tests hold one from outside); default: a new one of `maxConcurrentHashes`. */
  gate?: HashGate;
}

export type TryOutcome = 'ok' | 'wrong' | 'locked';

interface GuardRow extends Record<string, unknown> {
  count: number;
  next_at: string | number;
  busy_until: string | number;
  locked_at: string | number | null;
}

function tooMany(retryAfterMs: number): HttpError {
  return new HttpError(429, 'too_many_attempts', 'too many failed attempts: try again later', {
    retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)),
  });
}

export class LoginGuard {
  readonly gate: HashGate;
  readonly scrypt: ScryptParams;
  readonly trustProxy: boolean;
  private readonly loginDelay: FailureDelay;
  private readonly sourceDelay: FailureDelay;
  private readonly lockAfter: number;

  constructor(options: LoginGuardOptions = {}) {
    this.loginDelay = options.failureDelayMs ?? defaultFailureDelayMs;
    this.sourceDelay = options.sourceDelayMs ?? defaultSourceDelayMs;
    this.lockAfter = options.lockAfter ?? DEFAULT_LOCK_AFTER;
    this.trustProxy = options.trustProxy ?? false;
    this.scrypt = options.scrypt ?? DEFAULT_SCRYPT;
    this.gate = options.gate ?? new HashGate(options.maxConcurrentHashes ?? DEFAULT_MAX_CONCURRENT_HASHES);
  }

  sourceOf(req: IncomingMessage): string {
    return sourceOf(req, this.trustProxy);
  }

  /**
   * One password try of `login` from `source`: refused with 429 while a
   * delay is pending or another try of the login is being checked, 'locked'
   * for a locked login (neither runs `verify`); else `verify` runs under the
   * hash cap (503 busy past it) and its verdict is counted.
   */
  async attempt(
    sql: Sql,
    login: string,
    source: string,
    now: () => number,
    verify: () => Promise<boolean>,
  ): Promise<TryOutcome> {
    const secret = await guardSecret(sql, now());
    const lk = loginKey(secret, login);
    const sk = sourceKey(secret, source);
    const at = now();

    const [src] = await sql.query<GuardRow>('SELECT next_at FROM login_guard WHERE key = $1', [sk]);
    if (src && Number(src.next_at) > at) throw tooMany(Number(src.next_at) - at);

    // Claim the login in one statement, so that of parallel tries one goes through.
    const claimed = await sql.query(
      `INSERT INTO login_guard (key, count, last_at, next_at, busy_until) VALUES ($1, 0, $2, 0, $3)
       ON CONFLICT (key) DO UPDATE SET busy_until = $3
        WHERE login_guard.locked_at IS NULL AND login_guard.next_at <= $2 AND login_guard.busy_until <= $2
       RETURNING key`,
      [lk, at, at + LEASE_MS],
    );
    if (claimed.length === 0) {
      const [row] = await sql.query<GuardRow>('SELECT next_at, busy_until, locked_at FROM login_guard WHERE key = $1', [
        lk,
      ]);
      if (row?.locked_at !== null && row?.locked_at !== undefined) return 'locked';
      const nextAt = row ? Number(row.next_at) : 0;
      const busy = row && Number(row.busy_until) > at ? BUSY_RETRY_MS : 0;
      throw tooMany(Math.max(nextAt - at, busy, 1));
    }

    let ok: boolean;
    try {
      ok = await this.gate.run(verify);
    } catch (err) {
      // Not a verdict (busy, a database error): the try does not count; let the login go.
      await sql.query('UPDATE login_guard SET busy_until = 0 WHERE key = $1', [lk]).catch(() => undefined);
      throw err;
    }
    const end = now();
    if (ok) {
      // The source's count stays: a guesser with one account of its own must not wash it.
      await sql.query('DELETE FROM login_guard WHERE key = $1', [lk]);
      return 'ok';
    }
    const logins = await this.fail(sql, lk, end, this.loginDelay, this.lockAfter);
    await this.fail(sql, sk, end, this.sourceDelay, null);
    return logins >= this.lockAfter ? 'locked' : 'wrong';
  }

  /** One more failure of `key` at `now`: its delay set, and locked at `lockAfter`. The count. */
  private async fail(
    sql: Sql,
    key: string,
    now: number,
    delay: FailureDelay,
    lockAfter: number | null,
  ): Promise<number> {
    const [row] = await sql.query<{ count: number }>(
      `INSERT INTO login_guard (key, count, last_at) VALUES ($1, 1, $2)
       ON CONFLICT (key) DO UPDATE
         SET count = CASE WHEN $2 - login_guard.last_at > $3 THEN 1 ELSE login_guard.count + 1 END,
             last_at = $2, busy_until = 0
       RETURNING count`,
      [key, now, FORGET_FAILURES_AFTER_MS],
    );
    const count = Number(row!.count);
    const lock = lockAfter !== null && count >= lockAfter;
    await sql.query(
      `UPDATE login_guard SET next_at = GREATEST(next_at, $2),
              locked_at = CASE WHEN $3 THEN COALESCE(locked_at, $4) ELSE locked_at END
        WHERE key = $1`,
      [key, now + Math.max(0, delay(count)), lock, now],
    );
    // Runs nobody continued are forgotten (locked ones stay for the administrator).
    await sql.query('DELETE FROM login_guard WHERE last_at < $1 AND locked_at IS NULL AND busy_until < $2', [
      now - FORGET_FAILURES_AFTER_MS,
      now,
    ]);
    return count;
  }

  /**
   * Whether `password` is `user`'s (an unknown user: a dummy hash of the same
   * cost, never a match). On a match, a hash weaker than this server's cost is
   * replaced by a new one (unless the hash changed meanwhile).
   */
  async verify(sql: Sql, user: { id: string; passwordHash: string | null } | null, password: string): Promise<boolean> {
    const stored = user?.passwordHash ?? null;
    const ok = await verifyPassword(password, stored, this.scrypt);
    if (!ok || !user || !stored) return false;
    if (needsRehash(stored, this.scrypt)) {
      const upgraded = await hashPassword(password, this.scrypt);
      await sql.query('UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3', [
        user.id,
        upgraded,
        stored,
      ]);
    }
    return true;
  }
}

/** An administrator's unblock: the user's login is no longer locked nor delayed. */
export async function clearLockout(sql: Sql, userId: string): Promise<void> {
  const [user] = await sql.query<{ login: string }>('SELECT login FROM users WHERE id = $1', [userId]);
  if (!user) return;
  await sql.query('DELETE FROM login_guard WHERE key = $1', [loginKey(await guardSecret(sql), user.login)]);
}
