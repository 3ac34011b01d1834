/**
 * Look-ups (device calls) through a LookupAdapter (server/src/lookups):
 * - GET /v1/lookup/individual/:iin?purpose=P
 * - GET /v1/lookup/legal-entity/:bin?purpose=P
 * - GET /v1/lookup/powers-of-attorney?principal=IIN | agent=IIN | number=N &purpose=P
 *
 * A device alone looks nobody up. Each look-up is made by a user proved
 * with their user key (core/auth/change-key.ts requestMac: headers
 * X-Qyzmet-User-Key, X-Qyzmet-User-Mac, X-Qyzmet-At, the time within
 * REQUEST_MAC_SKEW_MS of the server's, each MAC taken once) who takes in
 * applications: a clerk at the device's provider or a centre operator.
 * It names its purpose (core/lookup-proof.ts LOOKUP_PURPOSES), is
 * rate-limited per device and per user, and is audited answered or refused
 * (table lookup_audit, migration 0008: the subject as a keyed HMAC).
 *
 * Refusals: 400 bad_request (no purpose, a malformed IIN or BIN: format,
 * date, checksum), 403 user_proof_required (no proof, a wrong, stale or
 * replayed one), 403 forbidden (a user who takes in nothing here), 429
 * rate_limited; an unknown subject is 404 not_found.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { isValidBin, isValidIin } from '#core/identity/iin.js';
import { REQUEST_MAC_SKEW_MS, requestMacMatches } from '#core/auth/change-key.js';
import {
  AT_HEADER,
  EMPTY_SHA256,
  LOOKUP_PURPOSES,
  USER_KEY_HEADER,
  USER_MAC_HEADER,
  type LookupPurpose,
} from '#core/lookup-proof.js';
import type { individualAnswer, legalEntityAnswer, powersOfAttorneyAnswer } from '#core/protocol.js';
import { userKeySecret } from '../auth/user-keys.js';
import type { Sql } from '../postgres/sql.js';
import { HttpError, sendJson, type DeviceIdentity, type Route, type RouteContext } from '../http.js';
import { SqlLookupAdapter, type LookupAdapter, type PowerOfAttorneyQuery } from '../lookups/adapter.js';
import { RateLimiter, type RateLimitOptions } from '../rate-limit.js';

export type LookupKind = 'individual' | 'legalEntity' | 'powersOfAttorney';

export interface LookupRouteOptions {
  /** Look-ups per device (a brake on a device hammering whoever logs in there). */
  perDevice?: RateLimitOptions;
  /** Look-ups per user (a person takes in a few applications an hour, not a register). */
  perUser?: RateLimitOptions;
}

/** Defaults: a user 20 at once then one every 6 s; a device 60 at once then one every 2 s. */
export const DEFAULT_LOOKUP_LIMITS: Required<LookupRouteOptions> = {
  perDevice: { burst: 60, perSecond: 0.5 },
  perUser: { burst: 20, perSecond: 1 / 6 },
};

/** The roles that take in applications, and so may look applicants up. */
const INTAKE_ROLES = ['clerk', 'operator'] as const;

function iinParam(value: string | undefined | null, name: string): string {
  const iin = value ?? '';
  if (!isValidIin(iin)) throw new HttpError(400, 'bad_request', `${name}: not a valid IIN`);
  return iin;
}

/** The one query parameter a powers-of-attorney look-up takes. */
function powerQuery(query: URLSearchParams): PowerOfAttorneyQuery {
  const given = (['principal', 'agent', 'number'] as const).filter((k) => query.has(k));
  if (given.length !== 1) throw new HttpError(400, 'bad_request', 'exactly one of principal, agent, number');
  const key = given[0]!;
  if (key === 'number') {
    const number = (query.get('number') ?? '').trim();
    if (number.length === 0 || number.length > 100) throw new HttpError(400, 'bad_request', 'number: 1–100 characters');
    return { number };
  }
  const iin = iinParam(query.get(key), key);
  return key === 'principal' ? { principal: iin } : { agent: iin };
}

const AUDIT_KEY_ID = 'lookup-audit-hmac';
const auditKeys = new WeakMap<Sql, Promise<Buffer>>();

/** The key the audit's subjects are HMACed with: one per database, made by the first instance that needs it. */
function auditKey(sql: Sql, now: number): Promise<Buffer> {
  let key = auditKeys.get(sql);
  if (!key) {
    key = (async () => {
      await sql.query(
        'INSERT INTO server_keys (id, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
        [AUDIT_KEY_ID, randomBytes(32), now],
      );
      const [row] = await sql.query<{ secret: Buffer | Uint8Array }>('SELECT secret FROM server_keys WHERE id = $1', [
        AUDIT_KEY_ID,
      ]);
      if (!row) throw new Error('no look-up audit key');
      return Buffer.from(row.secret);
    })();
    key.catch(() => auditKeys.delete(sql));
    auditKeys.set(sql, key);
  }
  return key;
}

/** The audit's name of a subject: HMAC-SHA256 (hex) of its kind and value (see migration 0008 for why not in clear). */
export async function subjectHmac(sql: Sql, kind: LookupKind, subject: string, now: number): Promise<string> {
  return createHmac('sha256', await auditKey(sql, now))
    .update(`${kind}\n${subject}`, 'utf8')
    .digest('hex');
}

interface Attempt {
  kind: LookupKind;
  subject: string | null;
  userId: string | null;
  purpose: LookupPurpose | null;
}

async function audit(sql: Sql, device: DeviceIdentity, a: Attempt, outcome: string, now: number): Promise<void> {
  const subject = a.subject === null ? null : await subjectHmac(sql, a.kind, a.subject.slice(0, 200), now);
  await sql.query(
    `INSERT INTO lookup_audit (at, device_id, user_id, kind, subject_hmac, purpose, outcome)
     VALUES ($1, $2::uuid, $3, $4, $5, $6, $7)`,
    [now, device.deviceId, a.userId, a.kind, subject, a.purpose, outcome],
  );
}

const proofRefused = (why: string) => new HttpError(403, 'user_proof_required', why);

function header(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name.toLowerCase()];
  return typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : null;
}

/** The user the request's proof names, once it holds (fresh, of this device, not seen before); throws otherwise. */
async function provedUser(req: IncomingMessage, ctx: RouteContext, device: DeviceIdentity): Promise<string> {
  const keyId = header(req, USER_KEY_HEADER);
  const mac = header(req, USER_MAC_HEADER);
  const atText = header(req, AT_HEADER);
  if (!keyId || !mac || !atText) throw proofRefused('a look-up is made by a user: their proof is required');
  const now = ctx.now();
  const at = /^\d{1,15}$/.test(atText) ? Number(atText) : NaN;
  if (!(Math.abs(now - at) <= REQUEST_MAC_SKEW_MS)) throw proofRefused("the proof's time is too far from the server's");
  const key = await userKeySecret(ctx.sql, keyId, device.deviceId, now);
  const method = req.method ?? 'GET';
  const path = req.url ?? '/';
  if (!key || !requestMacMatches(key.secret, device.deviceId, method, path, EMPTY_SHA256, at, mac)) {
    throw proofRefused('the user proof does not hold');
  }
  // Each proof once: kept while its time is acceptable, then dropped.
  await ctx.sql.query('DELETE FROM used_request_macs WHERE at < $1', [now - 2 * REQUEST_MAC_SKEW_MS]);
  const fresh = await ctx.sql.query(
    'INSERT INTO used_request_macs (mac, at) VALUES ($1, $2) ON CONFLICT (mac) DO NOTHING RETURNING mac',
    [mac, at],
  );
  if (fresh.length === 0) throw proofRefused('this proof was used already');
  return key.userId;
}

/** Refused unless the user takes in applications for the device's provider (a clerk there, or a centre operator). */
async function mustTakeIn(sql: Sql, userId: string, device: DeviceIdentity): Promise<void> {
  const [row] = await sql.query(
    `SELECT 1 FROM users u JOIN user_roles r ON r.user_id = u.id
      WHERE u.id = $1 AND NOT u.blocked AND r.role = ANY($3::text[])
        AND (r.role = 'operator' OR r.provider_id = $2) LIMIT 1`,
    [userId, device.providerId, [...INTAKE_ROLES]],
  );
  if (!row) throw new HttpError(403, 'forbidden', 'look-ups are made by who takes in applications here');
}

function purposeOf(query: URLSearchParams): LookupPurpose {
  const p = query.get('purpose');
  if (!(LOOKUP_PURPOSES as readonly (string | null)[]).includes(p)) {
    throw new HttpError(400, 'bad_request', `purpose: one of ${LOOKUP_PURPOSES.join(', ')}`);
  }
  return p as LookupPurpose;
}

/** The look-up routes over the adapter `adapterFor` gives for a request's database. */
export function createLookupRoutes(adapterFor: (sql: Sql) => LookupAdapter, options: LookupRouteOptions = {}): Route[] {
  const adapter = (ctx: RouteContext) => adapterFor(ctx.sql);
  const perDevice = new RateLimiter(options.perDevice ?? DEFAULT_LOOKUP_LIMITS.perDevice);
  const perUser = new RateLimiter(options.perUser ?? DEFAULT_LOOKUP_LIMITS.perUser);

  /** A look-up route: the checks, the audit of whatever comes of it, then `answer`. */
  const guarded =
    (
      kind: LookupKind,
      subjectOf: (ctx: RouteContext) => string | null,
      /** The answer's body (null: 404), and whether it found anyone (for the audit). */
      answer: (ctx: RouteContext) => Promise<{ found: boolean; body: unknown }>,
    ): Route['handler'] =>
    async (req, res, ctx) => {
      const device = ctx.device;
      if (!device) throw new HttpError(401, 'unauthorized', 'a device call');
      const attempt: Attempt = { kind, subject: subjectOf(ctx), userId: null, purpose: null };
      let result: { found: boolean; body: unknown };
      try {
        perDevice.check(`device:${device.deviceId}`);
        attempt.purpose = purposeOf(ctx.query);
        attempt.userId = await provedUser(req, ctx, device);
        await mustTakeIn(ctx.sql, attempt.userId, device);
        perUser.check(`user:${attempt.userId}`);
        result = await answer(ctx);
      } catch (err) {
        await audit(ctx.sql, device, attempt, err instanceof HttpError ? err.code : 'internal', ctx.now());
        throw err;
      }
      await audit(ctx.sql, device, attempt, result.found ? 'found' : 'notFound', ctx.now());
      if (result.body === null) throw new HttpError(404, 'not_found', 'not found');
      sendJson(res, 200, result.body);
    };

  return [
    {
      method: 'GET',
      pattern: '/v1/lookup/individual/:iin',
      auth: 'device',
      handler: guarded(
        'individual',
        (ctx) => ctx.params.iin ?? null,
        async (ctx) => {
          const iin = iinParam(ctx.params.iin, 'iin');
          const found = await adapter(ctx).individual(iin);
          const body: z.infer<typeof individualAnswer> | null = found ? { ...found, serverTime: ctx.now() } : null;
          return { found: body !== null, body };
        },
      ),
    },
    {
      method: 'GET',
      pattern: '/v1/lookup/legal-entity/:bin',
      auth: 'device',
      handler: guarded(
        'legalEntity',
        (ctx) => ctx.params.bin ?? null,
        async (ctx) => {
          const bin = ctx.params.bin ?? '';
          if (!isValidBin(bin)) throw new HttpError(400, 'bad_request', 'bin: not a valid BIN');
          const found = await adapter(ctx).legalEntity(bin);
          const body: z.infer<typeof legalEntityAnswer> | null = found ? { ...found, serverTime: ctx.now() } : null;
          return { found: body !== null, body };
        },
      ),
    },
    {
      method: 'GET',
      pattern: '/v1/lookup/powers-of-attorney',
      auth: 'device',
      handler: guarded(
        'powersOfAttorney',
        (ctx) => ctx.query.get('principal') ?? ctx.query.get('agent') ?? ctx.query.get('number'),
        async (ctx) => {
          const items = await adapter(ctx).powersOfAttorney(powerQuery(ctx.query));
          const body: z.infer<typeof powersOfAttorneyAnswer> = { items, serverTime: ctx.now() };
          return { found: items.length > 0, body };
        },
      ),
    },
  ];
}

/** The look-up routes over the server's own tables, with rate limits of their own (one set per server). */
export function lookupRoutes(options: LookupRouteOptions = {}): Route[] {
  return createLookupRoutes((sql) => new SqlLookupAdapter(sql), options);
}
