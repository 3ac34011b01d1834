/**
 * Who may call what: one entry per contract call, checked in main before the
 * handler runs (main/auth/gate.ts through main/rpc.ts `dispatch`). The
 * renderer gets the list of calls the user may make (`auth.session`) and only
 * hides what is not in it.
 *
 * A call that is not listed here is refused to everyone, logged in or not:
 * a new call is closed until someone decides who may make it and adds it
 * below (and its row to the matrix in permissions.test.ts).
 *
 * Data scope: a user reaches the applications of the providers where they
 * hold the role that grants the call; a monitoring officer bound to a
 * provider (an education department) reaches that provider's region, one
 * bound to none ('') the whole country; centre operators reach none through
 * these calls (what they take in comes with the intake issue).
 */
import { CHANNELS, type Channel } from '#preload/api.js';
import { ROLES, type Role } from '#db/schema.js';
import type { RoleGrant } from './directory.js';

export interface Access {
  /** 'anyone': no session needed (the login screen's calls); 'user': any logged-in user; or these roles. */
  who: 'anyone' | 'user' | readonly Role[];
  /** Callable while the session is locked (the lock screen's calls). 'anyone' calls always are. */
  whileLocked?: boolean;
  /** Callable before a password an administrator reset has been changed. 'anyone' calls always are. */
  whileMustChange?: boolean;
  /** A poll (status, progress): does not count as the user's activity for the idle lock. */
  passive?: boolean;
  /** What the input names that must be within the caller's scope (see `DataScope`). */
  scope?: {
    /** The ids of the applications the (validated) input names. */
    applications?: (input: unknown) => string[];
    /** The ids of the providers it names. */
    providers?: (input: unknown) => string[];
  };
}

function field(input: unknown, name: string): unknown {
  return input && typeof input === 'object' ? (input as Record<string, unknown>)[name] : undefined;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Extractors for `Access.scope`: the input's `id`, its `applicationIds`, its `applications[].id`, its `providerId`. */
export const names = {
  id: (input: unknown) => strings(field(input, 'id')),
  applicationIds: (input: unknown) => strings(field(input, 'applicationIds')),
  applicationsList: (input: unknown) => {
    const list = field(input, 'applications');
    return Array.isArray(list) ? list.flatMap((a) => strings(field(a, 'id'))) : [];
  },
  providerId: (input: unknown) => strings(field(input, 'providerId')),
} as const;

const SIGNERS: readonly Role[] = ['head', 'operator'];
const READERS: readonly Role[] = ['clerk', 'executor', 'head', 'monitoring'];
const byId = { applications: names.id };

export const PERMISSIONS: Readonly<Partial<Record<Channel, Access>>> = {
  // Before login: the frame, the login screen.
  'app.info': { who: 'anyone', passive: true },
  'session.current': { who: 'anyone', passive: true },
  'preferences.get': { who: 'anyone', passive: true },
  'preferences.set': { who: 'anyone' },
  'sync.status': { who: 'anyone', passive: true },
  'auth.session': { who: 'anyone', passive: true },
  'auth.loginPassword': { who: 'anyone' },
  'auth.edsTokens': { who: 'anyone', passive: true },
  'auth.edsOpen': { who: 'anyone' },
  'auth.edsCancel': { who: 'anyone' },
  'auth.loginEds': { who: 'anyone' },
  // Enrolment is authorised by the central server, which checks the administrator's
  // credentials passed with it: a fresh workstation has nobody who could log in yet.
  'sync.enrol': { who: 'anyone' },

  // Any logged-in user.
  'auth.logout': { who: 'user', whileLocked: true, whileMustChange: true },
  'auth.lock': { who: 'user', whileLocked: true, whileMustChange: true },
  'auth.unlock': { who: 'user', whileLocked: true, whileMustChange: true },
  'auth.changePassword': { who: 'user', whileMustChange: true },
  'catalogue.list': { who: 'user' },
  'profile.get': { who: 'user' },
  'profile.update': { who: 'user' },
  // The sync panel. Retry and discard are checked again by the sync service:
  // the change's own author, or a head or administrator of its provider.
  'sync.details': { who: 'user', passive: true },
  'sync.now': { who: 'user' },
  'sync.retry': { who: 'user' },
  'sync.discard': { who: 'user' },

  // The provider's work (the workflow service checks each transition's role and state again).
  'journal.list': { who: READERS },
  'application.card': { who: READERS, scope: byId },
  'application.preview': { who: READERS, scope: byId },
  'application.verifyChain': { who: READERS, scope: byId },
  'application.assign': { who: ['head'], scope: { applications: names.applicationsList } },
  'application.accept': { who: ['executor'], scope: byId },
  'application.save': { who: ['executor'], scope: byId },
  'application.decide': { who: ['executor'], scope: byId },
  'application.refer': { who: ['executor'], scope: byId },
  'application.commission': { who: ['executor'], scope: byId },
  'application.send': { who: ['executor'], scope: byId },
  'application.return': { who: ['head'], scope: byId },
  'application.sign': { who: ['head'], scope: byId },
  /** The provider's executors, for "Assign responsible"; the administrator's staff screen. */
  'staff.list': { who: ['head', 'admin'], scope: { providers: names.providerId } },

  // Signing: the head signs results; the centre operator signs requests (intake).
  'signing.tokens': { who: SIGNERS, passive: true },
  'signing.open': { who: SIGNERS },
  'signing.start': { who: ['head'], scope: { applications: names.applicationIds } },
  'signing.progress': { who: SIGNERS, passive: true },
  'signing.cancel': { who: SIGNERS },
  // Forgetting a key only takes a power away: allowed on the lock screen too.
  'signing.close': { who: SIGNERS, whileLocked: true },

  // Administration.
  'admin.users': { who: ['admin'] },
  'admin.setRoles': { who: ['admin'] },
  'admin.resetPassword': { who: ['admin'] },
  'admin.blockUser': { who: ['admin'] },
};

/** What the gate knows of the session when a call comes in. */
export interface GateState {
  roles: readonly RoleGrant[];
  locked: boolean;
  mustChangePassword: boolean;
}

export type Refusal = 'forbidden' | 'noSession' | 'locked' | 'mustChangePassword';

/** Why `access` refuses a call in `state` (null: no session), or null when it may go ahead. */
export function refusalOf(access: Access | undefined, state: GateState | null): Refusal | null {
  if (!access) return 'forbidden';
  if (access.who === 'anyone') return null;
  if (!state) return 'noSession';
  if (state.locked && !access.whileLocked) return 'locked';
  if (state.mustChangePassword && !access.whileMustChange) return 'mustChangePassword';
  if (access.who === 'user') return null;
  const allowed = access.who;
  return state.roles.some((g) => allowed.includes(g.role)) ? null : 'forbidden';
}

/** The calls of the contract `state` may make now, in contract order. */
export function permittedChannels(
  state: GateState | null,
  table: Readonly<Partial<Record<Channel, Access>>> = PERMISSIONS,
): Channel[] {
  return CHANNELS.filter((c) => refusalOf(table[c], state) === null);
}

/** The roles that grant `channel` (all roles for 'user' calls, none for 'anyone' or unlisted ones). */
export function rolesFor(channel: Channel, table: Readonly<Partial<Record<Channel, Access>>> = PERMISSIONS): Role[] {
  const who = table[channel]?.who;
  if (who === undefined || who === 'anyone') return [];
  return who === 'user' ? [...ROLES] : [...who];
}

// ------------------------------------------------------------------- scope ---

/** The applications a user reaches: those of these providers or in these regions (KATO), or all. */
export interface DataScope {
  all: boolean;
  providerIds: string[];
  regionKatos: string[];
}

/**
 * The scope the user's `roles` give, counting only the roles in `only` (the
 * ones that grant the call at hand; all of them by default).
 */
export function scopeOf(
  roles: readonly RoleGrant[],
  regionOf: (providerId: string) => string | null,
  only: readonly Role[] = ROLES,
): DataScope {
  const providers = new Set<string>();
  const regions = new Set<string>();
  let all = false;
  for (const g of roles) {
    if (!only.includes(g.role)) continue;
    if (g.role === 'operator') continue;
    if (g.role === 'monitoring') {
      if (g.providerId === '') all = true;
      else {
        const kato = regionOf(g.providerId);
        if (kato) regions.add(kato);
      }
      continue;
    }
    if (g.providerId === '') {
      // A system-wide administrator; a clerk, executor or head must be bound to a provider.
      if (g.role === 'admin') all = true;
      continue;
    }
    providers.add(g.providerId);
  }
  return { all, providerIds: [...providers].sort(), regionKatos: [...regions].sort() };
}

/** Whether an application (or a provider: its id and region) is within `scope`. */
export function inScope(scope: DataScope, item: { providerId: string; regionKato: string }): boolean {
  return scope.all || scope.providerIds.includes(item.providerId) || scope.regionKatos.includes(item.regionKato);
}

/**
 * The scope as an SQL condition over an applications table aliased `alias`,
 * with named parameters (`@scopeP0`…, `@scopeR0`…) for better-sqlite3:
 * `WHERE ${sql}` with `params` merged into the query's.
 */
export function scopeSql(scope: DataScope, alias = 'a'): { sql: string; params: Record<string, string> } {
  if (scope.all) return { sql: '1 = 1', params: {} };
  const params: Record<string, string> = {};
  const parts: string[] = [];
  if (scope.providerIds.length > 0) {
    const names = scope.providerIds.map((id, i) => {
      params[`scopeP${i}`] = id;
      return `@scopeP${i}`;
    });
    parts.push(`${alias}.provider_id IN (${names.join(', ')})`);
  }
  if (scope.regionKatos.length > 0) {
    const names = scope.regionKatos.map((kato, i) => {
      params[`scopeR${i}`] = kato;
      return `@scopeR${i}`;
    });
    parts.push(`${alias}.region_kato IN (${names.join(', ')})`);
  }
  return { sql: parts.length > 0 ? `(${parts.join(' OR ')})` : '0 = 1', params };
}
