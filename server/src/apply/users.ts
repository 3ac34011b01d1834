/**
 * Changes to users: a user's own (profile, password change) and an
 * administrator's (roles, password reset, block, unblock). An administrator
 * bound to providers manages the users who hold a role or a staff position
 * there and grants roles at those providers only; a system administrator
 * (bound to none) manages everyone; nobody changes themselves this way (the
 * workstation's rules, core/auth/grants.ts, enforced again here on the server's data).
 *
 * Each checks first, then writes, and rewrites the user's feed row in the
 * partitions of the providers they work at (directory.ts; without the
 * password hash).
 */
import { parseHash } from '#core/auth/passwords.js';
import {
  adminScopeOf,
  administersAny,
  grantable,
  nextGrants,
  reaches,
  type AdminScope,
  type RoleGrant,
} from '#core/auth/grants.js';
import type { Sql } from '../postgres/sql.js';
import {
  blockPayload,
  passwordChangePayload,
  passwordResetPayload,
  setRolesPayload,
  userProfilePayload,
} from '#core/protocol.js';
import { bufferUser } from '../directory.js';
import { revokeUserKeys } from '../auth/user-keys.js';
import { clearLockout } from '../auth/failures.js';
import {
  activeActor,
  loadActor,
  payloadOf,
  Rejection,
  type Actor,
  type ApplyContext,
  type OpHandler,
} from './common.js';

/**
 * After a change to the user: their feed row rewritten in the partitions of the providers they work at
 * (directory.ts; `before`: the providers they were at, a tombstone where they left), and the
 * transaction's cached copy dropped.
 */
async function changed(c: ApplyContext, userId: string, before: readonly string[] = []): Promise<void> {
  c.cache.forget(userId);
  await bufferUser(c.sql, c.feed, userId, before);
}

/** A user's own change: only by that user (push.ts proved who made it). */
function ownOnly(c: ApplyContext, userId: string): void {
  if (c.author !== userId) throw new Rejection('forbidden', `${c.author} cannot change ${userId}'s account`);
}

/** The user the change is about, locked; refused when the change names someone else or nobody. */
async function target(sql: Sql, entityId: string, userId: string): Promise<Actor> {
  if (entityId !== userId) throw new Rejection('invalid', 'the change names another user');
  const user = await loadActor(sql, userId, true);
  if (!user) throw new Rejection('notFound', `no user ${userId}`);
  return user;
}

function validHash(hash: string): string {
  if (!parseHash(hash)) throw new Rejection('invalid', 'not a password hash this server reads');
  return hash;
}

// ------------------------------------------------------------- own ---

export const profile: OpHandler = async (c) => {
  const p = payloadOf(userProfilePayload, c.change.payload);
  ownOnly(c, p.id);
  const user = await target(c.sql, c.change.entityId, p.id);
  if (user.blocked) throw new Rejection('userBlocked', `user ${user.id} is blocked`);
  return async () => {
    await c.sql.query(
      `UPDATE users SET full_name = $2, email = $3, phone = $4, position_kk = $5, position_ru = $6, updated_at = $7
        WHERE id = $1`,
      [user.id, p.fullName.trim(), p.email, p.phone, p.positionKk, p.positionRu, c.now],
    );
    await changed(c, user.id);
  };
};

export const passwordChange: OpHandler = async (c) => {
  const p = payloadOf(passwordChangePayload, c.change.payload);
  ownOnly(c, p.userId);
  const user = await target(c.sql, c.change.entityId, p.userId);
  if (user.blocked) throw new Rejection('userBlocked', `user ${user.id} is blocked`);
  const hash = validHash(p.passwordHash);
  return async () => {
    await c.sql.query(
      'UPDATE users SET password_hash = $2, must_change_password = false, updated_at = $3 WHERE id = $1',
      [user.id, hash, c.now],
    );
    await changed(c, user.id);
  };
};

// ----------------------------------------------------- administrator ---

interface ActingAdmin extends AdminScope {
  admin: Actor;
}

/** The administrator acting, with what they administer; refused when they administer nothing. */
async function adminScope(c: ApplyContext, adminId: string): Promise<ActingAdmin> {
  if (adminId !== c.author) throw new Rejection('forbidden', `the change names ${adminId}, not its author`);
  const admin = await activeActor(c, adminId);
  const scope = adminScopeOf(admin.grants);
  if (!administersAny(scope)) throw new Rejection('forbidden', `${adminId} is no administrator`);
  return { admin, ...scope };
}

/** The user an administrator may change: managed by them, and not themselves. */
async function managed(sql: Sql, scope: ActingAdmin, entityId: string, userId: string): Promise<Actor> {
  const user = await target(sql, entityId, userId);
  if (user.id === scope.admin.id) throw new Rejection('forbidden', 'administrators do not change themselves here');
  if (scope.systemWide) return user;
  const ids = [...scope.providerIds];
  const [link] = await sql.query(
    `SELECT 1 FROM user_roles WHERE user_id = $1 AND provider_id = ANY($2::text[])
     UNION ALL SELECT 1 FROM provider_staff WHERE user_id = $1 AND provider_id = ANY($2::text[]) LIMIT 1`,
    [user.id, ids],
  );
  if (!link) throw new Rejection('forbidden', `${scope.admin.id} does not manage ${user.id}`);
  return user;
}

export const setRoles: OpHandler = async (c) => {
  const p = payloadOf(setRolesPayload, c.change.payload);
  const scope = await adminScope(c, p.by);
  const user = await managed(c.sql, scope, c.change.entityId, p.userId);
  const known = new Set((await c.sql.query<{ id: string }>('SELECT id FROM providers')).map((r) => r.id));
  const inScope = (g: RoleGrant) => reaches(scope, g.providerId, g.role);
  for (const g of p.roles) {
    if (!grantable(g.role, g.providerId, (id) => known.has(id))) {
      throw new Rejection('invalid', `role ${g.role} cannot be granted at "${g.providerId}"`);
    }
  }
  // The roles the administrator cannot reach stay as they are, whatever the change says about them.
  const outOfScope = p.roles.filter(
    (g) => !inScope(g) && !user.grants.some((h) => h.role === g.role && h.providerId === g.providerId),
  );
  if (outOfScope.length > 0) {
    throw new Rejection(
      'forbidden',
      `${scope.admin.id} cannot grant ${outOfScope.map((g) => g.role).join(', ')} there`,
    );
  }
  const next = nextGrants(scope, user.grants, p.roles);
  return async () => {
    await c.sql.query('DELETE FROM user_roles WHERE user_id = $1', [user.id]);
    if (next.length > 0) {
      await c.sql.query(
        `INSERT INTO user_roles (user_id, role, provider_id)
         SELECT $1, r.role, r.provider_id FROM jsonb_to_recordset($2::jsonb) AS r(role text, provider_id text)`,
        [user.id, JSON.stringify(next.map((g) => ({ role: g.role, provider_id: g.providerId })))],
      );
    }
    await c.sql.query('UPDATE users SET updated_at = $2 WHERE id = $1', [user.id, c.now]);
    await changed(
      c,
      user.id,
      user.grants.map((g) => g.providerId),
    );
  };
};

export const passwordReset: OpHandler = async (c) => {
  const p = payloadOf(passwordResetPayload, c.change.payload);
  const scope = await adminScope(c, p.by);
  const user = await managed(c.sql, scope, c.change.entityId, p.userId);
  const hash = validHash(p.passwordHash);
  return async () => {
    await c.sql.query('UPDATE users SET password_hash = $2, must_change_password = $3, updated_at = $4 WHERE id = $1', [
      user.id,
      hash,
      p.mustChangePassword,
      c.now,
    ]);
    // Whoever held the old password may have logged in with it: their keys go with it.
    await revokeUserKeys(c.sql, user.id, c.now);
    await changed(c, user.id);
  };
};

function blocking(blocked: boolean): OpHandler {
  return async (c) => {
    const p = payloadOf(blockPayload, c.change.payload);
    const scope = await adminScope(c, p.by);
    const user = await managed(c.sql, scope, c.change.entityId, p.userId);
    return async () => {
      await c.sql.query('UPDATE users SET blocked = $2, updated_at = $3 WHERE id = $1', [user.id, blocked, c.now]);
      // A blocked user's queued changes no longer apply, even after an unblock: they log in online again.
      if (blocked) await revokeUserKeys(c.sql, user.id, c.now);
      // An unblock also lifts a lockout after too many failed passwords (auth/failures.ts).
      else await clearLockout(c.sql, user.id);
      await changed(c, user.id);
    };
  };
}

export const block = blocking(true);
export const unblock = blocking(false);
