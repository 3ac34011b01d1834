/**
 * The gate `dispatch` asks before every call (main/rpc.ts): the session and
 * its roles against the permission table, then the applications the input
 * names against the user's scope. Refusals are ServiceErrors with their own
 * codes: 'noSession', 'locked', 'mustChangePassword', 'forbidden',
 * 'outOfScope'.
 */
import type Database from 'better-sqlite3';
import { callKind, type Channel } from '#preload/api.js';
import { ServiceError, type CallContext, type Gate, type HandlerInput, type Principal } from '../rpc.js';
import type { RoleGrant } from './directory.js';
import {
  inScope,
  PERMISSIONS,
  refusalOf,
  rolesFor,
  scopeOf,
  type AccessTable,
  type DataScope,
  type Refusal,
} from './permissions.js';
import type { AuthService } from './service.js';

const REFUSALS: Readonly<Record<Refusal, string>> = {
  forbidden: 'errors.auth.forbidden',
  noSession: 'errors.auth.noSession',
  locked: 'errors.auth.locked',
  mustChangePassword: 'errors.auth.mustChangePassword',
};

export class AuthGate implements Gate {
  constructor(
    private readonly auth: AuthService,
    private readonly sqlite: Database.Database,
    private readonly table: AccessTable = PERMISSIONS,
  ) {}

  admit(channel: Channel, _ctx: CallContext): Principal | null {
    const access = this.table[channel];
    const state = this.auth.state();
    const refused = refusalOf(access, state);
    if (refused) throw new ServiceError(refused, REFUSALS[refused]);
    if (!state || state.locked) return null;
    // The app's own polls (the contract's 'poll' calls) are not the user's activity: they leave the idle lock be.
    if (callKind(channel) !== 'poll') this.auth.touch();
    return { userId: state.user.id, roles: state.roles };
  }

  inScope<C extends Channel>(channel: C, input: HandlerInput<C>, principal: Principal | null): void {
    const spec = this.table[channel]?.scope;
    if (!spec) return;
    const applications = [...new Set(spec.applications?.(input) ?? [])];
    const providers = [...new Set(spec.providers?.(input) ?? [])];
    if (applications.length === 0 && providers.length === 0) return;
    if (!principal) throw new ServiceError('noSession', REFUSALS.noSession);
    const scope = this.scopeFor(principal, channel);
    if (scope.all) return;
    const outOfScope = () => new ServiceError('outOfScope', 'errors.auth.outOfScope');
    const app = this.sqlite.prepare(
      'SELECT provider_id AS providerId, region_kato AS regionKato FROM applications WHERE id = ?',
    );
    for (const id of applications) {
      const row = app.get(id) as { providerId: string; regionKato: string } | undefined;
      // An unknown id reaches the handler, which answers "not found" for it.
      if (row && !inScope(scope, row)) throw outOfScope();
    }
    const provider = this.sqlite.prepare(
      'SELECT id AS providerId, region_kato AS regionKato FROM providers WHERE id = ?',
    );
    for (const id of providers) {
      const row = provider.get(id) as { providerId: string; regionKato: string } | undefined;
      if (!row || !inScope(scope, row)) throw outOfScope();
    }
  }

  /**
   * The applications `principal` reaches through `channel`: the scope of the
   * roles that grant it. Journal-like handlers filter by it (scopeSql).
   */
  scopeFor(principal: Principal | null | undefined, channel: Channel): DataScope {
    if (!principal) return { all: false, providerIds: [], regionKatos: [] };
    const region = this.sqlite.prepare('SELECT region_kato AS kato FROM providers WHERE id = ?');
    return scopeOf(
      principal.roles as readonly RoleGrant[],
      (id) => (region.get(id) as { kato: string } | undefined)?.kato ?? null,
      rolesFor(channel, this.table),
    );
  }
}
