/**
 * The core routes: health, device enrolment and tokens, push, pull and the
 * first-sync snapshot. Every JSON answer is checked against its protocol.ts
 * schema before it leaves, so the server never sends what a workstation
 * would refuse.
 */
import type { ServiceDefinitions, SignerTrust } from '../apply/common.js';
import { LoginGuard } from '../auth/failures.js';
import { enrolDevice, issueToken } from '../devices.js';
import { HttpError, readJson, sendJson, type Route, type RouteContext } from '../http.js';
import {
  enrolAnswer,
  enrolRequest,
  healthAnswer,
  pullAnswer,
  pushAnswer,
  pushRequest,
  tokenAnswer,
  tokenRequest,
} from '#core/protocol.js';
import { pull, snapshot } from '../pull.js';
import { checkProtocol, push } from '../push.js';

export interface CoreConfig {
  protocolVersion: number;
  minProtocolVersion: number;
  accessTokenTtlMs: number;
  /** The database's access token key (devices.ts tokenKey). */
  tokenKey: Buffer;
  services: ServiceDefinitions;
  /** The server build's version, for GET /version. */
  version: string;
  /** Rows per database read of a snapshot (pull.ts SNAPSHOT_BATCH_ROWS). */
  snapshotBatchRows?: number;
  /** The trust pushed signatures' certificates are checked against (the login's). */
  certificates: SignerTrust;
  /** Password tries of enrolment, counted with the login check's (auth/failures.ts). */
  guard?: LoginGuard;
}

/**
 * A push of at most MAX_PUSH_BATCH changes: measured, a signature.add with a CMS signature and its
 * chain is about 5 KB of JSON (10 KB with a timestamp token), an XMLDSig one carrying its form about
 * 20 KB; 500 of 24 KB are 12 MiB, above the workstation's 8 MiB batches (main/sync/push.ts). A larger
 * Content-Length is refused before a byte is read.
 */
export const PUSH_BODY_LIMIT = 12 * 1024 * 1024;

function deviceOf(ctx: RouteContext) {
  if (!ctx.device) throw new HttpError(401, 'unauthorized', 'a device call');
  return ctx.device;
}

export function coreRoutes(config: CoreConfig): Route[] {
  const guard = config.guard ?? new LoginGuard();
  return [
    {
      method: 'GET',
      pattern: '/health',
      auth: 'none',
      handler: (_req, res, ctx) => {
        sendJson(
          res,
          200,
          healthAnswer.parse({
            status: 'ok',
            protocolVersion: config.protocolVersion,
            minProtocolVersion: config.minProtocolVersion,
            serverTime: ctx.now(),
          }),
        );
        return Promise.resolve();
      },
    },
    {
      method: 'GET',
      pattern: '/version',
      auth: 'none',
      handler: (_req, res) => {
        sendJson(res, 200, { version: config.version, protocolVersion: config.protocolVersion });
        return Promise.resolve();
      },
    },
    {
      method: 'POST',
      pattern: '/v1/devices/enrol',
      auth: 'none',
      handler: async (req, res, ctx) => {
        const body = await readJson(req, enrolRequest, 64 * 1024);
        checkProtocol(config, body.protocolVersion);
        const enrolled = await enrolDevice(ctx.sql, body, ctx.now(), { guard, source: guard.sourceOf(req) });
        sendJson(res, 200, enrolAnswer.parse(enrolled));
      },
    },
    {
      method: 'POST',
      pattern: '/v1/devices/token',
      auth: 'none',
      handler: async (req, res, ctx) => {
        const body = await readJson(req, tokenRequest, 64 * 1024);
        const now = ctx.now();
        const token = await issueToken(
          ctx.sql,
          config.tokenKey,
          body.deviceId,
          body.deviceSecret,
          now,
          config.accessTokenTtlMs,
        );
        sendJson(res, 200, tokenAnswer.parse({ ...token, serverTime: now }));
      },
    },
    {
      method: 'POST',
      pattern: '/v1/push',
      auth: 'device',
      handler: async (req, res, ctx) => {
        const body = await readJson(req, pushRequest, PUSH_BODY_LIMIT);
        const answer = await push(ctx.sql, deviceOf(ctx), body, { ...config, now: ctx.now });
        sendJson(res, 200, pushAnswer.parse(answer));
      },
    },
    {
      method: 'GET',
      pattern: '/v1/pull',
      auth: 'device',
      handler: async (_req, res, ctx) => {
        sendJson(res, 200, pullAnswer.parse(await pull(ctx.sql, deviceOf(ctx), ctx.query, ctx.now)));
      },
    },
    {
      method: 'GET',
      pattern: '/v1/snapshot',
      auth: 'device',
      handler: (_req, res, ctx) => snapshot(ctx.sql, deviceOf(ctx), ctx.query, res, ctx.now, config.snapshotBatchRows),
    },
  ];
}
