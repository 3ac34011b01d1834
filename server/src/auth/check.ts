/**
 * The central server's verdict on a login (protocol.ts checkRequest →
 * checkAnswer), the other side of main/auth/online.ts:
 * - password: the user's scrypt hash, compared in constant time; an unknown
 *   login costs the same scrypt and gets the same answer as a wrong
 *   password; a blocked user hears so only after the right password; tries
 *   are counted per login and per source, delayed, refused while a delay is
 *   pending (429) and locked after too many failures (failures.ts); a hash
 *   weaker than the server's cost is redone on a right password;
 * - eds: a live, unused challenge of this device (used up now), the exact
 *   challenge document signed with the certificate's key, the certificate
 *   fit to log in (certificates.ts), its IIN (and BIN) a registered user;
 * - recheck: a session started offline: is its user still allowed?
 * Nothing here logs or keeps a password.
 */
import { challengeDocument, verifyChallengeSignature } from '#core/auth/challenge.js';
import type { Sql } from '../postgres/sql.js';
import type { CheckAnswer, CheckRequest, DirectoryUser } from '#core/protocol.js';
import { consumeChallenge } from './challenges.js';
import type { LoginCertificates } from './certificates.js';
import { LoginGuard } from './failures.js';
import { knownAtDevice } from '../directory.js';

export interface LoginCheckOptions {
  certificates: LoginCertificates;
  /** Counting, delays, lockout, the hash cap and the hash cost (shared with enrolment). */
  guard?: LoginGuard;
}

type Refusal = Extract<CheckAnswer, { ok: false }>;
type Reason = Refusal['reason'];

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
  readonly guard: LoginGuard;

  constructor(private readonly options: LoginCheckOptions) {
    this.guard = options.guard ?? new LoginGuard();
  }

  /** The verdict on `request` from device `deviceId` at client address `source`. */
  async check(
    sql: Sql,
    deviceId: string,
    request: CheckRequest,
    now: () => number,
    source = 'unknown',
  ): Promise<CheckAnswer> {
    switch (request.kind) {
      case 'password':
        return this.password(sql, request.login, request.password, source, now);
      case 'eds':
        return this.eds(sql, deviceId, request, now());
      case 'recheck':
        // A device hears only about its office's people, or who logged in online at it before.
        if (!(await knownAtDevice(sql, request.userId, deviceId))) return refuse('userNotFound', now());
        return this.allowed(sql, request.userId, now());
    }
  }

  private async password(
    sql: Sql,
    login: string,
    password: string,
    source: string,
    now: () => number,
  ): Promise<CheckAnswer> {
    const found: { userId?: string } = {};
    const outcome = await this.guard.attempt(sql, login, source, now, async () => {
      const [user] = await sql.query<{ id: string; password_hash: string | null }>(
        `SELECT id, password_hash FROM users WHERE lower(login) = lower($1)
          ORDER BY (login = $1) DESC, id LIMIT 1`,
        [login.trim()],
      );
      // Always one scrypt: against the user's hash, or a dummy one of the same cost.
      const ok = await this.guard.verify(
        sql,
        user ? { id: user.id, passwordHash: user.password_hash } : null,
        password,
      );
      if (ok && user) found.userId = user.id;
      return ok;
    });
    if (outcome === 'locked') return refuse('locked', now());
    if (outcome === 'wrong' || found.userId === undefined) return refuse('wrongLoginOrPassword', now());
    return this.allowed(sql, found.userId, now());
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
