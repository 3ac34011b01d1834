/**
 * Login endpoints (device calls; main/auth/online-http.ts is the
 * workstation's side):
 * - POST /v1/auth/challenge: a nonce for an EDS login, bound to the calling device;
 * - POST /v1/auth/check: the verdict on a password, a signed challenge, or a
 *   re-check of a session started offline (server/src/auth/check.ts).
 */
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { issueChallenge, type ChallengeAnswer } from '../auth/challenges.js';
import { LoginCertificates, type LoginTrustOptions } from '../auth/certificates.js';
import { LoginCheck } from '../auth/check.js';
import { issueUserKey, recordOnline } from '../auth/user-keys.js';
import { LoginGuard, type LoginGuardOptions } from '../auth/failures.js';
import { HttpError, readBody, readJson, sendJson, type Route, type RouteContext } from '../http.js';
import { checkRequest, type CheckAnswer } from '#core/protocol.js';

/** Trust material, and the guard against password guessing (delays, lockout, hash cap, proxy, hash cost). */
export interface AuthRoutesOptions extends LoginTrustOptions, LoginGuardOptions {
  /** A user key's life (default USER_KEY_TTL_MS). */
  userKeyTtlMs?: number;
}

function deviceOf(ctx: RouteContext): string {
  if (!ctx.device) throw new HttpError(401, 'unauthorized', 'a device call');
  return ctx.device.deviceId;
}

/** The login routes with their trust material and guard (shared with enrolment: one hash cap per instance). */
export function createAuthRoutes(
  options: AuthRoutesOptions,
  certificates: LoginCertificates = new LoginCertificates(options),
  guard: LoginGuard = new LoginGuard(options),
): Route[] {
  const check = new LoginCheck({ certificates, guard });
  return [
    {
      method: 'POST',
      pattern: '/v1/auth/challenge',
      auth: 'device',
      handler: async (req, res, ctx) => {
        const deviceId = deviceOf(ctx);
        await readBody(req, 4096);
        const issued = await issueChallenge(ctx.sql, deviceId, ctx.now());
        const answer: ChallengeAnswer = { ...issued, serverTime: ctx.now() };
        sendJson(res, 200, answer);
      },
    },
    {
      method: 'POST',
      pattern: '/v1/auth/check',
      auth: 'device',
      handler: async (req, res, ctx) => {
        const deviceId = deviceOf(ctx);
        const request = await readJson(req, checkRequest, 256 * 1024);
        let answer: CheckAnswer = await check.check(ctx.sql, deviceId, request, ctx.now, guard.sourceOf(req));
        if (answer.ok && request.kind === 'recheck') {
          // A recheck carries no credential: it renews the online time of keys the user already holds here, never a new key.
          await recordOnline(ctx.sql, answer.user.id, deviceId, ctx.now());
        } else if (answer.ok) {
          const key = await issueUserKey(ctx.sql, answer.user.id, deviceId, ctx.now(), options.userKeyTtlMs);
          answer = { ...answer, key };
        }
        sendJson(res, 200, answer);
      },
    },
  ];
}

/** Same as createAuthRoutes. */
export const authRoutes = createAuthRoutes;

/** The CA certificates shipped with the app (resources/trusted), trusted by the server too. */
export const SHIPPED_TRUST_DIR = fileURLToPath(new URL('../../../resources/trusted/', import.meta.url));

/**
 * The defaults: the shipped trust and the folders of QYZMET_SERVER_TRUST_DIRS
 * (separated by the platform's path delimiter); CRLs from
 * QYZMET_SERVER_CRL_DIR and the database; QYZMET_SERVER_TRUST_PROXY=1 behind
 * a reverse proxy; QYZMET_SERVER_MAX_HASHES password hashes at once.
 */
export function defaultAuthOptions(env: NodeJS.ProcessEnv = process.env): AuthRoutesOptions {
  const dirs = (env.QYZMET_SERVER_TRUST_DIRS ?? '').split(delimiter).filter((d) => d.length > 0);
  const hashes = Number(env.QYZMET_SERVER_MAX_HASHES);
  return {
    trustDirs: [SHIPPED_TRUST_DIR, ...dirs],
    crlDir: env.QYZMET_SERVER_CRL_DIR || null,
    // Only when a reverse proxy in front sets X-Forwarded-For: else any client could pick its own address.
    trustProxy: env.QYZMET_SERVER_TRUST_PROXY === '1',
    ...(Number.isInteger(hashes) && hashes > 0 ? { maxConcurrentHashes: hashes } : {}),
  };
}

export const routes: Route[] = createAuthRoutes(defaultAuthOptions());
