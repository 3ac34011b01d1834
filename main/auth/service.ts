/**
 * The session of this workstation: login by password or by EDS, online
 * through the central server (`OnlineAuth`) or offline by the local rules,
 * logout, lock after idle time and unlock, change of password.
 *
 * One session at a time, held in memory only: restarting the app logs out.
 * What it carries is read fresh from the local directory on every call, so
 * a role or block an administrator (or sync) writes takes effect at once.
 *
 * Answers that must not tell anything: an unknown login and a wrong password
 * both get 'wrongLoginOrPassword' (after the same scrypt work); a blocked
 * user hears so only after giving the right password. Failures make later
 * tries wait (throttle.ts). Secrets: every password or PIN becomes a buffer
 * that is wiped once used; none is logged or kept.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { AuthSession, SESSION_NOTICES } from '#preload/contract/auth.js';
import type { CallOutput, SigningSource } from '#preload/api.js';
import { ServiceError, type Principal } from '../rpc.js';
import { type CertificateFacts, isSigningError, SIGNING_ERROR_CODES, type SigningKey, wipe } from '#signing/index.js';
import type { OpenedKey, SignerBackend } from '../signing/service.js';
import { challengeDocument, localChallenge, verifyChallengeSignature } from '#core/auth/challenge.js';
import { deviceIdOf } from './device.js';
import { UserDirectory, type RoleGrant, type UserRow } from './directory.js';
import type { UserKey } from '#core/protocol.js';
import { OnlineUnreachable, OnlineWait, unreachableOnlineAuth, type OnlineAuth, type OnlineVerdict } from './online.js';
import {
  checkPasswordPolicy,
  DEFAULT_SCRYPT,
  hashPassword,
  needsRehash,
  passwordBytes,
  verifyPassword,
  type ScryptParams,
} from '#core/auth/passwords.js';
import { permittedChannels, type GateState } from './permissions.js';
import { readPolicy, type AuthPolicy } from './policy.js';
import { LoginThrottle } from './throttle.js';

/** What login needs of the signer (signing/backend.ts `Signer` is one). */
export type AuthSigner = Pick<SignerBackend, 'listTokens' | 'openToken' | 'openKeyFile' | 'facts' | 'check'>;

export type LoginMethod = 'password' | 'keyfile' | 'token';
export type SessionNotice = (typeof SESSION_NOTICES)[number];
export type SessionEnd = 'logout' | 'lock';

export interface SessionUser {
  id: string;
  login: string;
  fullName: string;
  roles: RoleGrant[];
}

export interface AuthServiceOptions {
  sqlite: Database.Database;
  /** The signer; null: EDS login is not offered. */
  signer: AuthSigner | null;
  /** The central server's login calls; default: unreachable (offline rules). */
  online?: OnlineAuth;
  /** Whether the central server answered its last health check (sync knows); default: never. */
  isOnline?: () => boolean;
  /** This workstation's id; default: the `device.id` setting (made once). */
  deviceId?: string;
  policy?: Partial<AuthPolicy>;
  scrypt?: ScryptParams;
  now?: () => number;
  /** Events worth a line in the log (never a secret, never which of login or password was wrong). */
  log?: (message: string) => void;
  /**
   * Keeps the user key an online login brought (sync's UserKeys, sealed):
   * the user's changes are pushed with it. Never logged.
   */
  keepUserKey?: (userId: string, key: UserKey) => void;
}

interface Live {
  userId: string;
  method: LoginMethod;
  offline: boolean;
  locked: boolean;
  startedAt: number;
  lastActivity: number;
  /** When the central server last confirmed this user here (an online login or recheck); null: never this session. */
  provedAt: number | null;
  unlockFailures: number;
  /** The token and key of a token session (for unlock by PIN). */
  token: { tokenId: string; keyId: string } | null;
}

interface PendingKey {
  handle: string;
  opened: OpenedKey;
  method: 'keyfile' | 'token';
  token: { tokenId: string; keyId: string } | null;
  timer: NodeJS.Timeout;
}

/** The session's state as the gate and the handlers read it. */
export interface SessionState extends GateState {
  user: UserRow;
  roles: RoleGrant[];
  live: Readonly<Live>;
}

const DAY = 86_400_000;
const RECHECK_EVERY_MS = 30_000;

const wrongLoginOrPassword = () => new ServiceError('wrongLoginOrPassword', 'messages.wrongLoginOrPassword');
const userNotFound = () => new ServiceError('userNotFound', 'messages.userNotFound');
const userBlocked = () => new ServiceError('userBlocked', 'errors.auth.userBlocked');
const noSession = () => new ServiceError('noSession', 'errors.auth.noSession');

/** A signer's error as the caller sees it (its code and message); anything else goes on as it is. */
function asServiceError(err: unknown): unknown {
  if (isSigningError(err)) return new ServiceError(err.code, err.messageKey, { ...err.details });
  return err;
}

export class AuthService {
  readonly directory: UserDirectory;
  readonly deviceId: string;
  private policyNow: AuthPolicy;
  private readonly throttle: LoginThrottle;
  private readonly online: OnlineAuth;
  private readonly isOnline: () => boolean;
  private readonly scrypt: ScryptParams;
  private readonly now: () => number;
  private readonly log: (message: string) => void;
  private live: Live | null = null;
  private notice: SessionNotice | null = null;
  private pending: PendingKey | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners: ((end: SessionEnd) => void)[] = [];
  private recheckAt = 0;

  constructor(private readonly o: AuthServiceOptions) {
    this.now = o.now ?? Date.now;
    this.directory = new UserDirectory(o.sqlite, this.now);
    this.deviceId = o.deviceId ?? deviceIdOf(o.sqlite, this.now);
    this.policyNow = readPolicy(o.sqlite, o.policy);
    this.throttle = new LoginThrottle(o.sqlite, () => this.policyNow, this.now);
    this.online = o.online ?? unreachableOnlineAuth;
    this.isOnline = o.isOnline ?? (() => false);
    this.scrypt = o.scrypt ?? DEFAULT_SCRYPT;
    this.log = o.log ?? (() => {});
  }

  get policy(): Readonly<AuthPolicy> {
    return this.policyNow;
  }

  /** Reads the `auth.policy` setting again (after an administrator or sync changed it). */
  reloadPolicy(): void {
    this.policyNow = readPolicy(this.o.sqlite, this.o.policy);
  }

  /** Called when a session ends ('logout') or locks ('lock'): e.g. to forget opened signing keys. */
  onEnd(listener: (end: SessionEnd) => void): void {
    this.listeners.push(listener);
  }

  // ---------------------------------------------------------------- state ---

  /**
   * The session now, or null. Locks it when it has been idle too long, and
   * ends it when its user is gone or blocked in the local directory.
   */
  state(): SessionState | null {
    const live = this.live;
    if (!live) return null;
    const user = this.directory.byId(live.userId);
    if (!user || user.blocked) {
      this.end('blocked');
      return null;
    }
    const idle = this.policyNow.idleLockMinutes * 60_000;
    if (!live.locked && idle > 0 && this.now() - live.lastActivity >= idle) {
      live.locked = true;
      this.log('auth: session locked after idle time');
      this.emit('lock');
    }
    const roles = this.directory.roles(user.id);
    return {
      user,
      roles,
      live,
      locked: live.locked,
      // An EDS login proves who it is without the password: the reset password waits for a password login.
      mustChangePassword: live.method === 'password' && user.mustChangePassword,
    };
  }

  /** The user at this workstation when the session is open and unlocked (what services act for). */
  current(): SessionUser | null {
    const st = this.state();
    return st && !st.locked
      ? { id: st.user.id, login: st.user.login, fullName: st.user.fullName, roles: st.roles }
      : null;
  }

  /** The user of the session, locked or not (the frame shows who is logged in). */
  sessionUser(): SessionUser | null {
    const st = this.state();
    return st ? { id: st.user.id, login: st.user.login, fullName: st.user.fullName, roles: st.roles } : null;
  }

  principal(): Principal | null {
    const user = this.current();
    return user ? { userId: user.id, roles: user.roles } : null;
  }

  /** The user is active: the idle timer starts again (not while locked). */
  touch(): void {
    if (this.live && !this.live.locked) this.live.lastActivity = this.now();
  }

  /** The session as the renderer sees it; `activity` resets the idle timer. */
  session(activity = false): AuthSession {
    if (activity) this.touch();
    const st = this.state();
    if (st?.live.offline) this.maybeRecheck();
    const idleLockMinutes = this.policyNow.idleLockMinutes;
    if (!st) {
      return {
        user: null,
        method: null,
        offline: false,
        locked: false,
        mustChangePassword: false,
        startedAt: null,
        idleLockMinutes,
        permissions: permittedChannels(null),
        notice: this.notice,
      };
    }
    return {
      user: { id: st.user.id, login: st.user.login, fullName: st.user.fullName, roles: st.roles },
      method: st.live.method,
      offline: st.live.offline,
      locked: st.locked,
      mustChangePassword: st.mustChangePassword,
      startedAt: st.live.startedAt,
      idleLockMinutes,
      permissions: permittedChannels(st),
      notice: null,
    };
  }

  private emit(end: SessionEnd): void {
    for (const l of this.listeners) {
      try {
        l(end);
      } catch {
        // A listener's failure does not keep a session open.
      }
    }
  }

  private start(user: UserRow, method: LoginMethod, offline: boolean, token: Live['token'] = null): void {
    if (this.live) this.end(null);
    const now = this.now();
    this.live = {
      userId: user.id,
      method,
      offline,
      locked: false,
      startedAt: now,
      lastActivity: now,
      provedAt: offline ? null : now,
      unlockFailures: 0,
      token,
    };
    this.notice = null;
    // Just asked (or just found unreachable): the first re-check waits a while.
    this.recheckAt = now + RECHECK_EVERY_MS;
    this.log(`auth: ${user.login} logged in by ${method}${offline ? ' (offline)' : ''}`);
  }

  private end(notice: SessionNotice | null): void {
    if (!this.live) return;
    this.live = null;
    this.notice = notice;
    this.log(`auth: session ended${notice ? ` (${notice})` : ''}`);
    this.emit('logout');
  }

  /** One login, unlock or password change at a time (the throttle counts them in order). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Hands the key a login brought to sync (a failure to keep it does not fail the login: the changes wait). */
  private keepKey(verdict: Extract<OnlineVerdict, { ok: true }>): void {
    if (!verdict.key || !this.o.keepUserKey) return;
    try {
      this.o.keepUserKey(verdict.user.id, verdict.key);
    } catch (err) {
      this.log(`auth: the user key could not be kept (${err instanceof Error ? err.name : 'error'})`);
    }
  }

  /** Asks the central server when it is reachable; null when it is not (offline rules apply). */
  private async askServer<T>(fn: () => Promise<T>): Promise<T | null> {
    if (!this.isOnline()) return null;
    try {
      return await fn();
    } catch (err) {
      if (err instanceof OnlineUnreachable) return null;
      if (err instanceof OnlineWait) {
        const seconds = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
        throw new ServiceError('accountWaiting', 'errors.auth.accountWaiting', { seconds });
      }
      throw err;
    }
  }

  private checkOfflineWindow(user: UserRow): void {
    const days = this.policyNow.offlineWindowDays;
    if (days === null) return;
    const last = user.lastOnlineLoginAt;
    if (last === null || this.now() - last > days * DAY) {
      throw new ServiceError('offlineWindowPassed', 'errors.auth.offlineWindowPassed', { days: String(days) });
    }
  }

  private waitCheck(login: string): void {
    const seconds = this.throttle.waitSeconds(login);
    if (seconds > 0)
      throw new ServiceError('accountWaiting', 'errors.auth.accountWaiting', { seconds: String(seconds) });
  }

  // ------------------------------------------------------------- password ---

  loginPassword(login: string, password: string): Promise<AuthSession> {
    return this.serial(async () => {
      this.waitCheck(login);
      let user = this.directory.byLogin(login);
      let verdict: OnlineVerdict | null;
      const bytes = passwordBytes(password);
      // The local hash for the next offline login is made while the server checks (a scrypt of ~0.3 s each,
      // side by side instead of one after the other); it is kept only if the server accepts the password.
      const localHash = hashPassword(password, this.scrypt).catch(() => null);
      try {
        verdict = await this.askServer(() =>
          this.online.check({ kind: 'password', deviceId: this.deviceId, login, password: bytes }),
        );
      } finally {
        wipe(bytes);
      }

      // A password set here (an administrator's reset, the user's own change) that has not
      // reached the server yet: the server still knows the old one; this workstation decides.
      if (verdict && !verdict.ok && verdict.reason === 'wrongLoginOrPassword' && user && this.passwordUnsent(user.id)) {
        verdict = null;
      }
      if (verdict) {
        if (!verdict.ok) {
          if (verdict.reason === 'userBlocked') {
            if (user) this.directory.setBlocked(user.id, true);
            throw userBlocked();
          }
          if (verdict.reason === 'locked') throw new ServiceError('accountLocked', 'errors.auth.accountLocked');
          this.throttle.fail(login);
          throw wrongLoginOrPassword();
        }
        this.directory.applyDirectoryUser(verdict.user);
        this.keepKey(verdict);
        // The local hash follows the password the server accepted, for the next offline login.
        this.directory.setPasswordHash(
          verdict.user.id,
          (await localHash) ?? (await hashPassword(password, this.scrypt)),
        );
        this.directory.markOnlineLogin(verdict.user.id, this.now());
        user = this.directory.byId(verdict.user.id);
        if (!user) throw wrongLoginOrPassword();
      } else {
        const ok = await verifyPassword(password, user?.passwordHash ?? null, this.scrypt);
        if (!ok || !user) {
          this.throttle.fail(login);
          throw wrongLoginOrPassword();
        }
        if (user.passwordHash && needsRehash(user.passwordHash, this.scrypt)) {
          this.directory.setPasswordHash(user.id, await hashPassword(password, this.scrypt));
        }
      }
      this.throttle.succeed(login);
      if (user.blocked) throw userBlocked();
      if (!verdict) this.checkOfflineWindow(user);
      this.start(user, 'password', verdict === null);
      return this.session();
    });
  }

  /** A password change or reset of this user waits in the outbox (not yet applied by the server). */
  private passwordUnsent(userId: string): boolean {
    return (
      this.o.sqlite
        .prepare(
          `SELECT 1 FROM outbox WHERE entity = 'user' AND entity_id = ?
             AND op IN ('user.passwordReset', 'user.passwordChange') AND state = 'pending' LIMIT 1`,
        )
        .get(userId) !== undefined
    );
  }

  changePassword(current: string, next: string, repeat: string): Promise<AuthSession> {
    const st = this.state();
    if (!st) return Promise.reject(noSession());
    const user = st.user;
    const broken = checkPasswordPolicy({ password: next, repeat, login: user.login, iin: user.iin, current });
    if (broken.length > 0) {
      return Promise.reject(
        new ServiceError('passwordPolicy', `errors.auth.password.${broken[0]}`, {
          rules: broken.join(','),
          min: '8',
        }),
      );
    }
    return this.serial(async () => {
      this.waitCheck(user.login);
      if (!(await verifyPassword(current, user.passwordHash, this.scrypt))) {
        this.throttle.fail(user.login);
        throw new ServiceError('currentPasswordWrong', 'errors.auth.currentPasswordWrong');
      }
      this.throttle.succeed(user.login);
      const hash = await hashPassword(next, this.scrypt);
      const at = this.now();
      this.o.sqlite.transaction(() => {
        this.directory.setPasswordHash(user.id, hash, false);
        this.directory.queue('user.passwordChange', user.id, { userId: user.id, passwordHash: hash, changedAt: at });
      })();
      this.log(`auth: ${user.login} changed the password`);
      return this.session();
    });
  }

  // ------------------------------------------------------------------ EDS ---

  private signer(): AuthSigner {
    if (!this.o.signer) throw new ServiceError('edsUnavailable', 'errors.auth.edsUnavailable');
    return this.o.signer;
  }

  async edsTokens(): Promise<{ tokens: CallOutput<'signing.tokens'>['tokens'] }> {
    try {
      const { tokens } = await this.signer().listTokens();
      return { tokens };
    } catch (err) {
      throw asServiceError(err);
    }
  }

  private async openSource(source: SigningSource): Promise<OpenedKey> {
    const signer = this.signer();
    const secret = Buffer.from(source.kind === 'keyfile' ? source.password : source.pin, 'utf8');
    try {
      return source.kind === 'keyfile'
        ? await signer.openKeyFile(Buffer.from(source.data, 'base64'), secret, source.alias)
        : await signer.openToken(source.tokenId, source.keyId, secret);
    } catch (err) {
      throw asServiceError(err);
    } finally {
      wipe(secret);
    }
  }

  /** Chain, validity, revocation (cached CRL offline) and an authentication key; throws the signer's error. */
  private async checkCertificate(certificate: Uint8Array): Promise<{ facts: CertificateFacts; warnings: string[] }> {
    const signer = this.signer();
    try {
      const facts = signer.facts(certificate);
      const outcome = await signer.check(certificate, { act: 'auth', at: new Date(this.now()) });
      return { facts, warnings: outcome.warnings };
    } catch (err) {
      throw asServiceError(err);
    }
  }

  /** Opens a key for login and checks its certificate; nothing is signed until `loginEds`. */
  async edsOpen(source: SigningSource): Promise<CallOutput<'auth.edsOpen'>> {
    await this.edsCancel();
    const opened = await this.openSource(source);
    try {
      const { facts, warnings } = await this.checkCertificate(opened.key.certificate);
      const handle = randomUUID();
      const timer = setTimeout(() => void this.edsCancel(handle), this.policyNow.edsOpenSeconds * 1000);
      timer.unref();
      this.pending = {
        handle,
        opened,
        method: source.kind,
        token: source.kind === 'token' ? { tokenId: source.tokenId, keyId: source.keyId } : null,
        timer,
      };
      return { handle, certificate: facts, warnings };
    } catch (err) {
      await opened.close().catch(() => undefined);
      throw err;
    }
  }

  /** Forgets the key opened for login (`handle`, or whichever is open). */
  async edsCancel(handle?: string): Promise<Record<string, never>> {
    const p = this.pending;
    if (p && (handle === undefined || p.handle === handle)) {
      this.pending = null;
      clearTimeout(p.timer);
      await p.opened.close().catch(() => undefined);
    }
    return {};
  }

  loginEds(input: { handle: string } | { source: SigningSource }): Promise<AuthSession> {
    return this.serial(async () => {
      let opened: OpenedKey;
      let method: 'keyfile' | 'token';
      let token: Live['token'] = null;
      if ('handle' in input) {
        const p = this.pending;
        if (!p || p.handle !== input.handle) throw new ServiceError('edsNotOpen', 'errors.auth.edsNotOpen');
        this.pending = null;
        clearTimeout(p.timer);
        ({ opened, method, token } = p);
      } else {
        opened = await this.openSource(input.source);
        method = input.source.kind;
        if (input.source.kind === 'token') token = { tokenId: input.source.tokenId, keyId: input.source.keyId };
      }
      try {
        const { user, offline } = await this.authenticateKey(opened.key, 'login');
        this.start(user, method, offline, token);
        return this.session();
      } finally {
        await opened.close().catch(() => undefined);
      }
    });
  }

  /**
   * Who the key belongs to: its certificate checked for authentication, a
   * fresh challenge signed with it and the signature verified, then the
   * certificate's IIN (and BIN) mapped to a registered user, by the central
   * server when it answers, else by the local directory.
   */
  private async authenticateKey(
    key: SigningKey,
    mode: 'login' | 'unlock',
  ): Promise<{ user: UserRow; offline: boolean }> {
    const certificate = key.certificate;
    // A signing key refused before it signs anything ('wrongKeyUsage').
    const { facts } = await this.checkCertificate(certificate);

    const fromServer = mode === 'login' ? await this.askServer(() => this.online.challenge(this.deviceId)) : null;
    const challenge = fromServer ?? localChallenge(this.now());
    const signed = challengeDocument(challenge, this.deviceId);
    let signature: Uint8Array;
    try {
      signature = await key.sign(signed);
    } catch (err) {
      throw asServiceError(err);
    }
    if (!verifyChallengeSignature(signed, signature, certificate)) {
      throw new ServiceError('signatureInvalid', 'errors.signing.signatureInvalid');
    }
    if (this.now() > challenge.expiresAt) throw new ServiceError('challengeExpired', 'errors.auth.challengeExpired');

    let verdict: OnlineVerdict | null = null;
    if (fromServer) {
      verdict = await this.askServer(() =>
        this.online.check({ kind: 'eds', deviceId: this.deviceId, challenge, signed, signature, certificate }),
      );
    }
    let user: UserRow | null;
    if (verdict) {
      if (!verdict.ok) {
        if (verdict.reason === 'userBlocked') {
          for (const u of this.candidates(facts)) this.directory.setBlocked(u.id, true);
          throw userBlocked();
        }
        throw edsRefusal(verdict);
      }
      this.directory.applyDirectoryUser(verdict.user);
      this.directory.markOnlineLogin(verdict.user.id, this.now());
      this.keepKey(verdict);
      user = this.directory.byId(verdict.user.id);
      if (!user) throw userNotFound();
    } else {
      user = this.userFor(facts);
    }
    if (user.blocked) throw userBlocked();
    if (mode === 'login' && !verdict) this.checkOfflineWindow(user);
    return { user, offline: verdict === null };
  }

  private candidates(facts: CertificateFacts): UserRow[] {
    if (!facts.iin) return [];
    const byIin = this.directory.byIin(facts.iin);
    // An organisation's certificate: only the staff of that organisation.
    const bin = facts.bin;
    return bin ? byIin.filter((u) => this.directory.worksFor(u.id, bin)) : byIin;
  }

  private userFor(facts: CertificateFacts): UserRow {
    const found = this.candidates(facts);
    if (found.length === 0) throw userNotFound();
    if (found.length === 1) return found[0]!;
    const active = found.filter((u) => !u.blocked);
    if (active.length === 1) return active[0]!;
    throw new ServiceError('userAmbiguous', 'errors.auth.userAmbiguous');
  }

  // ------------------------------------------------------ logout and lock ---

  async logout(): Promise<AuthSession> {
    await this.edsCancel();
    this.end(null);
    return this.session();
  }

  lock(): AuthSession {
    const live = this.live;
    if (live && !live.locked) {
      live.locked = true;
      this.emit('lock');
    }
    return this.session();
  }

  unlock(input: { password: string } | { pin: string } | { source: SigningSource }): Promise<AuthSession> {
    return this.serial(async () => {
      const st = this.state();
      if (!st) throw noSession();
      if (!st.locked) return this.session();
      const live = this.live!;
      try {
        if ('password' in input) {
          if (!(await verifyPassword(input.password, st.user.passwordHash, this.scrypt))) {
            throw new ServiceError('unlockFailed', 'errors.auth.unlockFailed');
          }
        } else {
          let source: SigningSource;
          if ('pin' in input) {
            if (!live.token) throw new ServiceError('unlockMethod', 'errors.auth.unlockMethod');
            source = { kind: 'token', ...live.token, pin: input.pin };
          } else {
            source = input.source;
          }
          const opened = await this.openSource(source);
          try {
            const { user } = await this.authenticateKey(opened.key, 'unlock');
            if (user.id !== live.userId) throw new ServiceError('otherUser', 'errors.auth.otherUser');
          } finally {
            await opened.close().catch(() => undefined);
          }
        }
      } catch (err) {
        if (!(err instanceof ServiceError) || this.live !== live) throw err;
        live.unlockFailures += 1;
        if (live.unlockFailures >= this.policyNow.maxUnlockFailures) {
          this.end('unlockFailures');
          throw new ServiceError('unlockFailures', 'errors.auth.unlockFailures');
        }
        throw err;
      }
      live.locked = false;
      live.unlockFailures = 0;
      live.lastActivity = this.now();
      return this.session();
    });
  }

  // -------------------------------------------------------------- recheck ---

  private maybeRecheck(): void {
    if (!this.isOnline() || this.now() < this.recheckAt) return;
    this.recheckAt = this.now() + RECHECK_EVERY_MS;
    void this.recheck().catch((err: unknown) =>
      this.log(`auth: recheck failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /**
   * A session started offline, once the central server answers: is the user
   * still allowed? Blocked meanwhile (or gone): logged out, with the notice
   * 'blocked' for the login screen; what they queued stays in the outbox for
   * review. Allowed: the session is online from now on.
   */
  async recheck(): Promise<'online' | 'loggedOut' | 'unreachable' | 'nothing'> {
    const live = this.live;
    if (!live?.offline) return 'nothing';
    const verdict = await this.askServer(() =>
      this.online.check({ kind: 'recheck', deviceId: this.deviceId, userId: live.userId }),
    );
    if (!verdict) return 'unreachable';
    if (this.live !== live) return 'nothing';
    if (!verdict.ok) {
      if (verdict.reason === 'userBlocked') this.directory.setBlocked(live.userId, true);
      this.end('blocked');
      return 'loggedOut';
    }
    this.directory.applyDirectoryUser(verdict.user);
    if (verdict.user.blocked) {
      this.end('blocked');
      return 'loggedOut';
    }
    this.keepKey(verdict);
    live.offline = false;
    live.provedAt = this.now();
    return 'online';
  }

  /**
   * Whether the central server has confirmed the session's user here within
   * `maxAgeMs` (an online login, or a recheck made now when it is older or
   * the session began offline): what user management needs, since the
   * server applies it only for an administrator online at the device
   * (core/auth/change-key.ts ADMIN_ONLINE_MS).
   */
  async provePresence(maxAgeMs: number): Promise<boolean> {
    const live = this.live;
    if (!live || live.locked) return false;
    if (!live.offline && live.provedAt !== null && this.now() - live.provedAt < maxAgeMs) return true;
    const verdict = await this.askServer(() =>
      this.online.check({ kind: 'recheck', deviceId: this.deviceId, userId: live.userId }),
    );
    if (!verdict || this.live !== live) return false;
    if (!verdict.ok || verdict.user.blocked) {
      if (!verdict.ok && verdict.reason === 'userBlocked') this.directory.setBlocked(live.userId, true);
      this.end('blocked');
      return false;
    }
    this.directory.applyDirectoryUser(verdict.user);
    this.keepKey(verdict);
    live.offline = false;
    live.provedAt = this.now();
    return true;
  }
}

/**
 * The central server's refusal of an EDS login in the user's words: an
 * expired challenge, a bad signature, the certificate refused with the
 * signer's own reason (revoked, expired, not an authentication key…), else
 * "User not found in the system".
 */
function edsRefusal(verdict: Extract<OnlineVerdict, { ok: false }>): ServiceError {
  if (verdict.reason === 'challengeExpired')
    return new ServiceError('challengeExpired', 'errors.auth.challengeExpired');
  if (verdict.reason === 'signatureInvalid')
    return new ServiceError('signatureInvalid', 'errors.signing.signatureInvalid');
  const detail = SIGNING_ERROR_CODES.find((c) => c === verdict.detail);
  if (verdict.reason === 'certificateRejected' && detail) {
    return new ServiceError(detail, `errors.signing.${detail}`);
  }
  return userNotFound();
}
