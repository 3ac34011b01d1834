/**
 * The handlers of the session, login and admin calls, for the composition
 * root to spread into its handler table (main/app.ts).
 */
import type { Channel } from '#preload/api.js';
import type { CallContext, Handlers, Principal } from '../rpc.js';
import type { AdminService } from './admin.js';
import type { AuthService } from './service.js';

export type AuthChannel = Extract<Channel, `auth.${string}` | `admin.${string}` | `session.${string}`>;

export function authHandlers(auth: AuthService, admin: AdminService): Pick<Handlers, AuthChannel> {
  // Under the gate the principal comes with the call; without one (tests of a single service), from the session.
  const principal = (ctx: CallContext): Principal | null => ctx.principal ?? auth.principal();
  return {
    'session.current': () => ({ user: auth.sessionUser() }),
    'auth.loginPassword': (input) => auth.loginPassword(input.login, input.password),
    'auth.edsTokens': () => auth.edsTokens(),
    'auth.edsOpen': (input) => auth.edsOpen(input.source),
    'auth.edsCancel': (input) => auth.edsCancel(input.handle),
    'auth.loginEds': (input) => auth.loginEds(input),
    'auth.logout': () => auth.logout(),
    'auth.lock': () => auth.lock(),
    'auth.unlock': (input) => auth.unlock(input),
    'auth.changePassword': (input) => auth.changePassword(input.current, input.next, input.repeat),
    'auth.session': (input) => auth.session(input.activity === true),
    'admin.users': (input, ctx) => admin.users(principal(ctx), input.search),
    'admin.setRoles': (input, ctx) => admin.setRoles(principal(ctx), input.userId, input.roles),
    'admin.resetPassword': (input, ctx) => admin.resetPassword(principal(ctx), input.userId),
    'admin.blockUser': (input, ctx) => admin.blockUser(principal(ctx), input.userId, input.blocked),
  };
}
