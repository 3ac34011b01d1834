/**
 * Which roles an administrator may grant, and where: the rule the
 * workstation's admin screens apply and the central server enforces again on
 * its own data.
 *
 * A role is granted at a provider (its id) or at none (''): an operator works
 * for the service centre, bound to no provider; a clerk, executor or head
 * always works at one; monitoring and administrators may be either (bound to
 * none: system-wide). An administrator bound to providers grants at those
 * providers only, and never a role that reaches past one provider (see
 * `regionWide`); a system-wide one grants anywhere, unbound roles included.
 */
import type { Role } from '../vocabulary.js';

/** A role held at a provider, or at none (''). */
export interface RoleGrant {
  role: Role;
  providerId: string;
}

/** Roles held at no provider. */
export const UNBOUND_ONLY_ROLES: readonly Role[] = ['operator'];
/** Roles held at a provider. */
export const PROVIDER_ROLES: readonly Role[] = ['clerk', 'executor', 'head'];

/** Whether `role` may be held at `providerId` ('' for none); `providerExists` tells a known provider. */
export function grantable(role: Role, providerId: string, providerExists: (id: string) => boolean): boolean {
  const bound = providerId !== '';
  if (UNBOUND_ONLY_ROLES.includes(role)) return !bound;
  if (PROVIDER_ROLES.includes(role)) return bound && providerExists(providerId);
  return !bound || providerExists(providerId);
}

/** What an administrator administers: everything (system-wide), or these providers. */
export interface AdminScope {
  systemWide: boolean;
  providerIds: Set<string>;
}

/** The scope of a user's administrator grants (empty when they hold none). */
export function adminScopeOf(grants: readonly { role: string; providerId: string }[]): AdminScope {
  const providerIds = new Set<string>();
  let systemWide = false;
  for (const g of grants) {
    if (g.role !== 'admin') continue;
    if (g.providerId === '') systemWide = true;
    else providerIds.add(g.providerId);
  }
  return { systemWide, providerIds };
}

/** Whether the scope administers anything at all. */
export function administersAny(scope: AdminScope): boolean {
  return scope.systemWide || scope.providerIds.size > 0;
}

/**
 * Whether a grant reaches past the provider it is held at: monitoring (bound
 * to a provider it sees that provider's whole region, bound to none the
 * country) and any role bound to no provider. Only a system administrator
 * grants or takes these away: a provider's administrator granting
 * monitoring at their own office would hand out every office of the region.
 */
export function regionWide(role: string, providerId: string): boolean {
  return role === 'monitoring' || providerId === '';
}

/** Whether an administrator with this scope may grant or take away `role` at `providerId` ('' for none). */
export function reaches(scope: AdminScope, providerId: string, role: string): boolean {
  if (scope.systemWide) return true;
  return providerId !== '' && scope.providerIds.has(providerId) && !regionWide(role, providerId);
}

/**
 * A user's roles after an administrator sets them: the ones out of the
 * administrator's reach stay as they are, the ones within it become
 * `requested` (those of `requested` out of reach are left out), each grant once.
 */
export function nextGrants<G extends { role: string; providerId: string }>(
  scope: AdminScope,
  current: readonly G[],
  requested: readonly G[],
): G[] {
  const kept = current.filter((g) => !reaches(scope, g.providerId, g.role));
  const seen = new Set<string>();
  return [...kept, ...requested.filter((g) => reaches(scope, g.providerId, g.role))].filter((g) => {
    const key = `${g.role}\0${g.providerId}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
