/**
 * The administrator's user screens: the users they manage, their roles per
 * provider, a password reset (a temporary password shown once, to be changed
 * at the next login) and blocking.
 *
 * An administrator bound to providers manages the users who hold a role or a
 * staff position there, and grants roles at those providers only; a
 * system-wide administrator (bound to none) manages everyone. Nobody changes,
 * resets or blocks themselves here. Every change is written with an outbox
 * row for the central server, in one transaction.
 *
 * With a central server, a change here needs the administrator online: the
 * server applies user management only for an administrator it saw at the
 * device shortly before (core/auth/change-key.ts ADMIN_ONLINE_MS, else
 * 'adminOffline'), so an offline change is refused here rather than queued
 * to be rejected later, and an accepted one is pushed at once.
 */
import type { CallOutput } from '#preload/api.js';
import type { AdminUser } from '#preload/contract/auth.js';
import { ServiceError, type Principal } from '../rpc.js';
import { adminScopeOf, administersAny, grantable, nextGrants, reaches, type AdminScope } from '#core/auth/grants.js';
import type { RoleGrant, UserDirectory, UserRow } from './directory.js';
import { DEFAULT_SCRYPT, hashPassword, temporaryPassword, type ScryptParams } from '#core/auth/passwords.js';

/** How recent the server's confirmation of the administrator must be here: under the server's ADMIN_ONLINE_MS, leaving time for the push. */
export const ADMIN_PRESENCE_MS = 10 * 60_000;

export interface AdminServiceOptions {
  scrypt?: ScryptParams;
  now?: () => number;
  /**
   * Whether the central server confirms the administrator here now (AuthService.provePresence);
   * absent: no central server, nothing to confirm.
   */
  presence?: (maxAgeMs: number) => Promise<boolean>;
  /** Pushes the outbox now (the sync engine). */
  pushNow?: () => void;
}

// The grant rule is the domain's (the central server applies it too).
export { adminScopeOf, type AdminScope };

const notFound = () => new ServiceError('userNotFound', 'messages.userNotFound');

export class AdminService {
  constructor(
    private readonly directory: UserDirectory,
    private readonly options: AdminServiceOptions = {},
  ) {}

  /** Refused unless the administrator is online (when there is a central server to tell). */
  private async online(): Promise<void> {
    if (!this.options.presence) return;
    let ok: boolean;
    try {
      ok = await this.options.presence(ADMIN_PRESENCE_MS);
    } catch {
      ok = false;
    }
    if (!ok) throw new ServiceError('adminOffline', 'errors.auth.admin.offline');
  }

  private get sqlite() {
    return this.directory.sqlite;
  }

  private scope(principal: Principal | null | undefined): AdminScope & { userId: string } {
    if (!principal) throw new ServiceError('noSession', 'errors.auth.noSession');
    const scope = adminScopeOf(principal.roles);
    if (!administersAny(scope)) throw new ServiceError('forbidden', 'errors.auth.forbidden');
    return { ...scope, userId: principal.userId };
  }

  private manages(scope: AdminScope, userId: string): boolean {
    if (scope.systemWide) return true;
    const ids = [...scope.providerIds];
    const marks = ids.map(() => '?').join(', ');
    return (
      this.sqlite
        .prepare(
          `SELECT 1 FROM user_roles WHERE user_id = ? AND provider_id IN (${marks})
           UNION ALL SELECT 1 FROM provider_staff WHERE user_id = ? AND provider_id IN (${marks}) LIMIT 1`,
        )
        .get(userId, ...ids, userId, ...ids) !== undefined
    );
  }

  private view(user: UserRow): AdminUser {
    return {
      id: user.id,
      login: user.login,
      fullName: user.fullName,
      iin: user.iin,
      positionKk: user.positionKk,
      positionRu: user.positionRu,
      blocked: user.blocked,
      mustChangePassword: user.mustChangePassword,
      hasPassword: user.passwordHash !== null,
      lastOnlineLoginAt: user.lastOnlineLoginAt,
      roles: this.directory.roles(user.id),
    };
  }

  /** A user the administrator may change: managed, and not themselves. */
  private target(scope: AdminScope & { userId: string }, userId: string): UserRow {
    const user = this.directory.byId(userId);
    if (!user || !this.manages(scope, userId)) throw notFound();
    if (user.id === scope.userId) throw new ServiceError('selfChange', 'errors.auth.admin.self');
    return user;
  }

  users(principal: Principal | null | undefined, search?: string): CallOutput<'admin.users'> {
    const scope = this.scope(principal);
    const needle = search?.trim().toLocaleLowerCase('ru') ?? '';
    const users = this.directory
      .all()
      .filter((u) => this.manages(scope, u.id))
      .filter(
        (u) =>
          needle === '' ||
          u.login.toLocaleLowerCase('ru').includes(needle) ||
          u.fullName.toLocaleLowerCase('ru').includes(needle) ||
          u.iin.includes(needle),
      )
      .map((u) => this.view(u));
    const providers = this.directory
      .providers()
      .filter((p) => scope.systemWide || scope.providerIds.has(p.id))
      .map(({ id, bin, name }) => ({ id, bin, name }));
    return { users, providers, systemWide: scope.systemWide };
  }

  async setRoles(
    principal: Principal | null | undefined,
    userId: string,
    roles: readonly RoleGrant[],
  ): Promise<{ user: AdminUser }> {
    const scope = this.scope(principal);
    this.target(scope, userId);
    await this.online();
    const user = this.target(scope, userId);
    const known = new Set(this.directory.providers().map((p) => p.id));
    for (const g of roles) {
      if (!grantable(g.role, g.providerId, (id) => known.has(id))) {
        throw new ServiceError('invalidRole', 'errors.auth.admin.invalidRole', { role: g.role });
      }
      if (!reaches(scope, g.providerId, g.role)) {
        throw new ServiceError('roleOutOfScope', 'errors.auth.admin.roleOutOfScope', { role: g.role });
      }
    }
    // Roles at providers this administrator does not manage stay as they are.
    const next = nextGrants(scope, this.directory.roles(userId), roles);
    this.sqlite.transaction(() => {
      this.directory.setRoles(userId, next);
      this.directory.queue('user.setRoles', userId, { userId, roles: next, by: scope.userId });
    })();
    this.options.pushNow?.();
    return { user: this.view(this.directory.byId(user.id)!) };
  }

  async resetPassword(
    principal: Principal | null | undefined,
    userId: string,
  ): Promise<{ user: AdminUser; temporaryPassword: string }> {
    const scope = this.scope(principal);
    this.target(scope, userId);
    await this.online();
    const user = this.target(scope, userId);
    const password = temporaryPassword();
    const hash = await hashPassword(password, this.options.scrypt ?? DEFAULT_SCRYPT);
    const at = (this.options.now ?? Date.now)();
    this.sqlite.transaction(() => {
      this.directory.setPasswordHash(user.id, hash, true);
      this.directory.queue('user.passwordReset', user.id, {
        userId: user.id,
        passwordHash: hash,
        mustChangePassword: true,
        resetAt: at,
        by: scope.userId,
      });
    })();
    this.options.pushNow?.();
    return { user: this.view(this.directory.byId(user.id)!), temporaryPassword: password };
  }

  async blockUser(
    principal: Principal | null | undefined,
    userId: string,
    blocked: boolean,
  ): Promise<{ user: AdminUser }> {
    const scope = this.scope(principal);
    this.target(scope, userId);
    await this.online();
    const user = this.target(scope, userId);
    this.sqlite.transaction(() => {
      this.directory.setBlocked(user.id, blocked);
      this.directory.queue(blocked ? 'user.block' : 'user.unblock', user.id, { userId: user.id, by: scope.userId });
    })();
    this.options.pushNow?.();
    return { user: this.view(this.directory.byId(user.id)!) };
  }
}
