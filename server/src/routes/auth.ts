/**
 * Login endpoints (device calls; main/auth/online-http.ts is the
 * workstation's side):
 * - POST /v1/auth/challenge: a nonce for an EDS login, bound to the calling device;
 * - POST /v1/auth/check: the verdict on a password, a signed challenge, or a
 *   re-check of a session started offline (server/src/auth/check.ts).
 */
import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScryptParams } from '#core/auth/passwords.js';
import { issueChallenge, type ChallengeAnswer } from '../auth/challenges.js';
import { LoginCertificates, type LoginTrustOptions } from '../auth/certificates.js';
import { LoginCheck } from '../auth/check.js';
import type { FailureDelay } from '../auth/failures.js';
import { HttpError, readBody, readJson, sendJson, type Route, type RouteContext } from '../http.js';
import { checkRequest, type CheckAnswer } from '#core/protocol.js';

export interface AuthRoutesOptions extends LoginTrustOptions {
  /** The wait after `count` failed password logins in a row (ms). */
  failureDelayMs?: FailureDelay;
  sleep?: (ms: number) => Promise<void>;
  scrypt?: ScryptParams;
}

function deviceOf(ctx: RouteContext): string {
  if (!ctx.device) throw new HttpError(401, 'unauthorized', 'a device call');
  return ctx.device.deviceId;
}

/** The login routes with their trust material and failure delay. */
export function createAuthRoutes(
  options: AuthRoutesOptions,
  certificates: LoginCertificates = new LoginCertificates(options),
): Route[] {
  const check = new LoginCheck({
    certificates,
    ...(options.failureDelayMs ? { failureDelayMs: options.failureDelayMs } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    ...(options.scrypt ? { scrypt: options.scrypt } : {}),
  });
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
        const answer: CheckAnswer = await check.check(ctx.sql, deviceId, request, ctx.now);
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
 * QYZMET_SERVER_CRL_DIR and the database.
 */
export function defaultAuthOptions(env: NodeJS.ProcessEnv = process.env): AuthRoutesOptions {
  const dirs = (env.QYZMET_SERVER_TRUST_DIRS ?? '').split(delimiter).filter((d) => d.length > 0);
  return { trustDirs: [SHIPPED_TRUST_DIR, ...dirs], crlDir: env.QYZMET_SERVER_CRL_DIR || null };
}

export const routes: Route[] = createAuthRoutes(defaultAuthOptions());
