/**
 * The journal's call over the Journal, for the composition root (main/app.ts):
 * each page holds only the applications within the caller's reach.
 */
import { scopeSql, type DataScope } from '../auth/permissions.js';
import type { Handlers, Principal } from '../rpc.js';
import type { Journal } from './journal.js';

/**
 * `scopeOf` answers the applications `principal` reaches through `journal.list`
 * (the gate's `scopeFor`).
 */
export function journalHandlers(
  journal: Journal,
  scopeOf: (principal: Principal | null | undefined) => DataScope,
): Pick<Handlers, 'journal.list'> {
  return {
    'journal.list': (q, ctx) => journal.list(q, scopeSql(scopeOf(ctx.principal))),
  };
}
