/**
 * The central server's verdict on a login (protocol.ts checkRequest →
 * checkAnswer), the other side of main/auth/online.ts:
 * - password: the user's scrypt hash, compared in constant time; an unknown
 *   login costs the same scrypt and gets the same answer as a wrong
 *   password; a blocked user hears so only after the right password;
 *   failures in a row make the next try of that login wait (failures.ts);
 * - eds: a live, unused challenge of this device (used up now), the exact
 *   challenge document signed with the certificate's key, the certificate
 *   fit to log in (certificates.ts), its IIN (and BIN) a registered user;
 * - recheck: a session started offline: is its user still allowed?
 * Nothing here logs or keeps a password.
 */
import { challengeDocument, verifyChallengeSignature } from '#core/auth/challenge.js';
import { DEFAULT_SCRYPT, verifyPassword, type ScryptParams } from '#core/auth/passwords.js';
import type { Sql } from '../postgres/sql.js';
import type { CheckAnswer, CheckRequest, DirectoryUser } from '#core/protocol.js';
import { consumeChallenge } from './challenges.js';
import type { LoginCertificates } from './certificates.js';
import {
  clearFailures,
  defaultFailureDelayMs,
  failureKey,
  recordFailure,
  waitBeforeTry,
  type FailureDelay,
} from './failures.js';

export interface LoginCheckOptions {
  certificates: LoginCertificates;
  failureDelayMs?: FailureDelay;
  /** How a try waits out its delay (tests may record instead of waiting). */
  sleep?: (ms: number) => Promise<void>;
  /** The cost of the dummy hash an unknown login is checked against (the real hashes' cost). */
  scrypt?: ScryptParams;
}

type Refusal = Extract<CheckAnswer, { ok: false }>;
type Reason = Refusal['reason'];

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface UserRow extends Record<string, unknown> {
  id: string;
  login: string;
  full_name: string;
  iin: string;
  blocked: boolean;
  must_change_password: boolean;
}

const USER_COLUMNS = 'id, login, full_name, iin, blocked, must_change_password';

/** The user `userId` as the directory answers it (roles included), or null. */
export async function directoryUser(sql: Sql, userId: string): Promise<DirectoryUser | null> {
  const [user] = await sql.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [userId]);
  if (!user) return null;
  const roles = await sql.query<{ role: DirectoryUser['roles'][number]['role']; provider_id: string }>(
    'SELECT role, provider_id FROM user_roles WHERE user_id = $1 ORDER BY provider_id, role',
    [userId],
  );
  return {
    id: user.id,
    login: user.login,
    fullName: user.full_name,
    iin: user.iin,
    blocked: user.blocked,
    mustChangePassword: user.must_change_password,
    roles: roles.map((r) => ({ role: r.role, providerId: r.provider_id })),
  };
}

export class LoginCheck {
  private readonly delay: FailureDelay;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly scrypt: ScryptParams;

  constructor(private readonly options: LoginCheckOptions) {
    this.delay = options.failureDelayMs ?? defaultFailureDelayMs;
    this.sleep = options.sleep ?? sleepFor;
    this.scrypt = options.scrypt ?? DEFAULT_SCRYPT;
  }

  /** The verdict on `request` from device `deviceId`; `now` is read again after any wait. */
  async check(sql: Sql, deviceId: string, request: CheckRequest, now: () => number): Promise<CheckAnswer> {
    switch (request.kind) {
      case 'password':
        return this.password(sql, request.login, request.password, now);
      case 'eds':
        return this.eds(sql, deviceId, request, now());
      case 'recheck':
        return this.allowed(sql, request.userId, now());
    }
  }

  private async password(sql: Sql, login: string, password: string, now: () => number): Promise<CheckAnswer> {
    const key = failureKey(login);
    const wait = await waitBeforeTry(sql, key, now(), this.delay);
    if (wait > 0) await this.sleep(wait);
    const [user] = await sql.query<{ id: string; password_hash: string | null }>(
      `SELECT id, password_hash FROM users WHERE lower(login) = lower($1)
        ORDER BY (login = $1) DESC, id LIMIT 1`,
      [login.trim()],
    );
    // Always one scrypt: against the user's hash, or a dummy one of the same cost.
    const matches = await verifyPassword(password, user?.password_hash ?? null, this.scrypt);
    if (!user || !matches) {
      await recordFailure(sql, key, now());
      return refuse('wrongLoginOrPassword', now());
    }
    await clearFailures(sql, key);
    return this.allowed(sql, user.id, now());
  }

  private async eds(
    sql: Sql,
    deviceId: string,
    request: Extract<CheckRequest, { kind: 'eds' }>,
    now: number,
  ): Promise<CheckAnswer> {
    const challenge = await consumeChallenge(sql, request.nonce, deviceId, now);
    if (!challenge) return refuse('challengeExpired', now);
    const signed = Buffer.from(request.signed, 'base64');
    const signature = Buffer.from(request.signature, 'base64');
    const certificate = Buffer.from(request.certificate, 'base64');
    // The bytes signed must be this challenge's document for this device, nothing else.
    if (!signed.equals(Buffer.from(challengeDocument(challenge, deviceId)))) return refuse('signatureInvalid', now);
    if (!verifyChallengeSignature(signed, signature, certificate)) return refuse('signatureInvalid', now);

    const verdict = await this.options.certificates.check(sql, certificate, now);
    if (!verdict.ok) return refuse('certificateRejected', now, verdict.code);
    if (!verdict.iin) return refuse('userNotFound', now);

    // An organisation's certificate (with a BIN): only that organisation's staff.
    const users = await sql.query<{ id: string; blocked: boolean }>(
      `SELECT u.id, u.blocked FROM users u
        WHERE u.iin = $1
          AND ($2::text IS NULL OR EXISTS (
            SELECT 1 FROM user_roles r JOIN providers p ON p.id = r.provider_id
             WHERE r.user_id = u.id AND p.bin = $2))
        ORDER BY u.id`,
      [verdict.iin, verdict.bin],
    );
    const active = users.filter((u) => !u.blocked);
    if (active.length === 1) return this.allowed(sql, active[0]!.id, now);
    if (active.length > 1) return refuse('userNotFound', now, 'ambiguous');
    return refuse(users.length > 0 ? 'userBlocked' : 'userNotFound', now);
  }

  /** The user `userId` if they may work: else unknown or blocked. */
  private async allowed(sql: Sql, userId: string, now: number): Promise<CheckAnswer> {
    const user = await directoryUser(sql, userId);
    if (!user) return refuse('userNotFound', now);
    if (user.blocked) return refuse('userBlocked', now);
    return { ok: true, user, serverTime: now };
  }
}

function refuse(reason: Reason, serverTime: number, detail?: string): Refusal {
  return detail === undefined ? { ok: false, reason, serverTime } : { ok: false, reason, detail, serverTime };
}
