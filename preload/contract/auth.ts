/**
 * Login, logout, lock, password and the admin's user screens: merged into the
 * contract in preload/api.ts.
 *
 * Secrets (passwords, PINs, key file passwords) are strings of at most 256
 * characters that go to main once and never come back: no output below
 * carries one. The one exception is on purpose: `admin.resetPassword`
 * answers the temporary password it made, once, for the administrator to
 * hand over.
 *
 * The shapes it shares with signing (certificate facts, tokens, key sources)
 * come from ./common.ts, which preload/api.ts uses too.
 */
import { z } from 'zod';
import { PASSWORD_RULES, type PasswordRule } from '#core/auth/password-rules.js';
import { ROLES } from '#core/vocabulary.js';
import type { CallSpec } from './call.js';
import {
  certificateFacts as loginCertificate,
  secret,
  signingSource as edsSource,
  tokenInfo as loginToken,
} from './common.js';

const noInput = z.strictObject({});
const id = z.string().min(1).max(100);

const roleGrant = z.strictObject({
  role: z.enum(ROLES),
  /** '' for roles not bound to one provider (centre operator, system-wide monitoring or admin). */
  providerId: z.string().max(100),
});

const authUser = z.strictObject({
  id: z.string(),
  login: z.string(),
  fullName: z.string(),
  roles: z.array(roleGrant),
});

const keyfileSource = z.strictObject({
  kind: z.literal('keyfile'),
  fileName: z.string().min(1).max(260),
  data: z.base64().max(200_000),
  password: secret,
  alias: z.string().max(200).optional(),
});

/** Why the last session ended without the user asking: shown once on the login screen. */
export const SESSION_NOTICES = ['blocked', 'unlockFailures'] as const;

/** The session as the renderer sees it: who, how, and what they may call now. */
export const authSession = z.strictObject({
  user: authUser.nullable(),
  /** How the user logged in. */
  method: z.enum(['password', 'keyfile', 'token']).nullable(),
  /** Logged in without the central server (the top bar says so). */
  offline: z.boolean(),
  /** Locked after idle time or by the user: only unlock and logout work. */
  locked: z.boolean(),
  /** An administrator reset the password: only changing it (or logging out) works. */
  mustChangePassword: z.boolean(),
  startedAt: z.number().nullable(),
  /** Idle minutes before the session locks; 0: never. */
  idleLockMinutes: z.int().min(0),
  /** The channels this user may call now (the renderer hides the rest; main enforces). */
  permissions: z.array(z.string()),
  notice: z.enum(SESSION_NOTICES).nullable(),
});
export type AuthSession = z.infer<typeof authSession>;

export { PASSWORD_RULES, type PasswordRule };

export const adminUser = z.strictObject({
  id: z.string(),
  login: z.string(),
  fullName: z.string(),
  iin: z.string(),
  positionKk: z.string().nullable(),
  positionRu: z.string().nullable(),
  blocked: z.boolean(),
  mustChangePassword: z.boolean(),
  hasPassword: z.boolean(),
  lastOnlineLoginAt: z.number().nullable(),
  roles: z.array(roleGrant),
});
export type AdminUser = z.infer<typeof adminUser>;

export const authContract = {
  /** Login by login and password: online through the central server, else by the local rules. */
  'auth.loginPassword': {
    kind: 'read',
    input: z.strictObject({ login: z.string().trim().min(1).max(100), password: secret }),
    output: authSession,
  },
  /** The tokens plugged in, with whose certificates they hold (shown before any PIN). */
  'auth.edsTokens': {
    kind: 'poll',
    input: noInput,
    output: z.strictObject({ tokens: z.array(loginToken) }),
  },
  /**
   * Opens a key for login (key file + password, or token + PIN) and checks its
   * certificate; nothing is signed yet. Answers whose certificate it is; the
   * key stays open for a short while for `auth.loginEds`.
   */
  'auth.edsOpen': {
    kind: 'read',
    input: z.strictObject({ source: edsSource }),
    output: z.strictObject({ handle: z.string(), certificate: loginCertificate, warnings: z.array(z.string()) }),
  },
  /** Forgets a key opened for login. */
  'auth.edsCancel': {
    kind: 'read',
    input: z.strictObject({ handle: z.string().max(100) }),
    output: z.strictObject({}),
  },
  /** Signs a fresh challenge with the opened key (or opens `source` and signs), checks it, and logs in. */
  'auth.loginEds': {
    kind: 'read',
    input: z.union([z.strictObject({ handle: z.string().max(100) }), z.strictObject({ source: edsSource })]),
    output: authSession,
  },
  'auth.logout': { kind: 'read', input: noInput, output: authSession },
  'auth.lock': { kind: 'read', input: noInput, output: authSession },
  /** Unlocks with the account password, the token's PIN (token sessions), or the key file and its password. */
  'auth.unlock': {
    kind: 'read',
    input: z.union([
      z.strictObject({ password: secret }),
      z.strictObject({ pin: secret }),
      z.strictObject({ source: keyfileSource }),
    ]),
    output: authSession,
  },
  'auth.changePassword': {
    kind: 'write',
    input: z.strictObject({ current: secret, next: secret, repeat: secret }),
    output: authSession,
  },
  /** The session now. `activity: true` tells main the user is at the keyboard (resets the idle timer). */
  'auth.session': {
    kind: 'poll',
    input: z.strictObject({ activity: z.boolean().optional() }),
    output: authSession,
  },
  /** The users an administrator manages (their providers' staff; every user for a system administrator). */
  'admin.users': {
    kind: 'read',
    input: z.strictObject({ search: z.string().trim().max(100).optional() }),
    output: z.strictObject({
      users: z.array(adminUser),
      providers: z.array(
        z.strictObject({
          id: z.string(),
          bin: z.string(),
          name: z.strictObject({ kk: z.string(), ru: z.string(), en: z.string() }),
        }),
      ),
      /** Whether the administrator may grant roles not bound to a provider. */
      systemWide: z.boolean(),
    }),
  },
  /** Replaces a user's roles at the administrator's providers (roles elsewhere stay as they are). */
  'admin.setRoles': {
    kind: 'write',
    input: z.strictObject({ userId: id, roles: z.array(roleGrant).max(50) }),
    output: z.strictObject({ user: adminUser }),
  },
  /** A new temporary password, shown once; the user must change it at the next login. */
  'admin.resetPassword': {
    kind: 'write',
    input: z.strictObject({ userId: id }),
    output: z.strictObject({ user: adminUser, temporaryPassword: z.string() }),
  },
  'admin.blockUser': {
    kind: 'write',
    input: z.strictObject({ userId: id, blocked: z.boolean() }),
    output: z.strictObject({ user: adminUser }),
  },
} as const satisfies Record<string, CallSpec>;
