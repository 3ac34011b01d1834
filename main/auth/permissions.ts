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
import { ROLES, type Role } from '#core/vocabulary.js';
import type { HandlerInput } from '../rpc.js';
import type { RoleGrant } from './directory.js';

export interface Access<C extends Channel = Channel> {
  /** 'anyone': no session needed (the login screen's calls); 'user': any logged-in user; or these roles. */
  who: 'anyone' | 'user' | readonly Role[];
  /** Callable while the session is locked (the lock screen's calls). 'anyone' calls always are. */
  whileLocked?: boolean;
  /** Callable before a password an administrator reset has been changed. 'anyone' calls always are. */
  whileMustChange?: boolean;
  /** What the call's validated input names that must be within the caller's scope (see `DataScope`). */
  scope?: {
    /** The ids of the applications the input names. */
    applications?(input: HandlerInput<C>): readonly string[];
    /** The ids of the providers it names. */
    providers?(input: HandlerInput<C>): readonly string[];
  };
}

/** One access rule per call, each typed by its call's input. */
export type AccessTable = { readonly [C in Channel]?: Access<C> };

// The executor signs where the service's executor issues the result itself (core/workflow/machine.ts actorFor).
const SIGNERS: readonly Role[] = ['head', 'executor', 'operator'];
const READERS: readonly Role[] = ['clerk', 'executor', 'head', 'monitoring'];
const byId = { applications: (input: { id: string }) => [input.id] };

/*
 * Whether a call is a poll that does not count as the user's activity (status, progress) comes from its
 * contract entry's kind ('poll'), not from here.
 */
export const PERMISSIONS: AccessTable = {
  // Before login: the frame, the login screen.
  'app.info': { who: 'anyone' },
  'session.current': { who: 'anyone' },
  'preferences.get': { who: 'anyone' },
  'preferences.set': { who: 'anyone' },
  'sync.status': { who: 'anyone' },
  'auth.session': { who: 'anyone' },
  'auth.loginPassword': { who: 'anyone' },
  'auth.edsTokens': { who: 'anyone' },
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
  // The sync panel. Retry and discard are checked again by the sync handlers:
  // the change's own author, or a head or administrator.
  'sync.details': { who: 'user' },
  'sync.now': { who: 'user' },
  'sync.retry': { who: 'user' },
  'sync.discard': { who: 'user' },

  // The provider's work (the workflow service checks each transition's role and state again).
  'journal.list': { who: READERS },
  // The journal's Excel export, within the same scope as journal.list; progress and cancel are the starter's alone.
  'journal.export': { who: READERS },
  'export.progress': { who: READERS },
  'export.cancel': { who: READERS },
  'application.card': { who: READERS, scope: byId },
  'application.preview': { who: READERS, scope: byId },
  'documents.pdf': { who: READERS, scope: byId },
  // Checking a paper reads only the file given: any logged-in user.
  'documents.check': { who: 'user' },
  'application.verifyChain': { who: READERS, scope: byId },
  'application.assign': { who: ['head'], scope: { applications: (input) => input.applications.map((a) => a.id) } },
  'application.accept': { who: ['executor'], scope: byId },
  'application.save': { who: ['executor'], scope: byId },
  'application.decide': { who: ['executor'], scope: byId },
  'application.refer': { who: ['executor'], scope: byId },
  'application.commission': { who: ['executor'], scope: byId },
  'application.send': { who: ['executor'], scope: byId },
  'application.return': { who: ['head', 'executor'], scope: byId },
  'application.sign': { who: ['head', 'executor'], scope: byId },
  /** The provider's executors, for "Assign responsible"; the administrator's staff screen. */
  'staff.list': { who: ['head', 'admin'], scope: { providers: (input) => [input.providerId] } },

  // Monitoring by region (seed 002 §5.6): monitoring officers and heads, figures within their scope.
  'monitoring.report': { who: ['monitoring', 'head'] },

  // Signing: the head signs results; the centre operator signs requests (intake).
  'signing.tokens': { who: SIGNERS },
  'signing.open': { who: SIGNERS },
  'signing.start': { who: ['head', 'executor'], scope: { applications: (input) => input.applicationIds } },
  'signing.progress': { who: SIGNERS },
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
export function refusalOf(access: Omit<Access, 'scope'> | undefined, state: GateState | null): Refusal | null {
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
export function permittedChannels(state: GateState | null, table: AccessTable = PERMISSIONS): Channel[] {
  return CHANNELS.filter((c) => refusalOf(table[c], state) === null);
}

/** The roles that grant `channel` (all roles for 'user' calls, none for 'anyone' or unlisted ones). */
export function rolesFor(channel: Channel, table: AccessTable = PERMISSIONS): Role[] {
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
