/**
 * The monitoring report's figures from the central server (seed 002 §5.6):
 * GET /v1/monitoring?from=YYYY-MM-DD&to=YYYY-MM-DD[&service=code] → the
 * report (core/monitoring/report.ts) with `dataAt` the server's time.
 *
 * A device call. Without a user's proof (core/lookup-proof.ts headers) the
 * figures are the device's provider's. With the proof of a user of this
 * device they are that user's reach, as on the workstation
 * (main/auth/permissions.ts scopeOf): a monitoring officer bound to no
 * provider (the ministry) sees the whole country, one bound to a provider
 * that provider's region, a head their providers; anyone else is refused.
 */
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { REQUEST_MAC_SKEW_MS, requestMacMatches } from '#core/auth/change-key.js';
import { AT_HEADER, EMPTY_SHA256, USER_KEY_HEADER, USER_MAC_HEADER } from '#core/lookup-proof.js';
import { userKeySecret } from '../auth/user-keys.js';
import type { Sql } from '../postgres/sql.js';
import { loadRegions } from '#core/node/region-loader.js';
import { buildReport, monitoringQuery, periodBounds } from '#core/monitoring/report.js';
import { FINISHED_STATUSES } from '#core/vocabulary.js';
import { RESOURCES_DIR } from '../catalogue.js';
import { HttpError, sendJson, type DeviceIdentity, type Route, type RouteContext } from '../http.js';

/** The period's days are Kazakhstan's (UTC+5), as on the workstations. */
const UTC_OFFSET_MINUTES = 300;

let regions: ReturnType<typeof loadRegions>['regions'] | null = null;
const classifier = () => (regions ??= loadRegions(join(RESOURCES_DIR, 'regions')).regions);

type Reach = { kind: 'country' } | { kind: 'region' | 'provider'; providerIds: string[]; regionKatos: string[] };

function header(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name.toLowerCase()];
  return typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : null;
}

const proofRefused = (why: string) => new HttpError(403, 'user_proof_required', why);

/** The user a request's proof names (fresh, of this device, used once); null when it carries none. */
async function provedUser(req: IncomingMessage, ctx: RouteContext, device: DeviceIdentity): Promise<string | null> {
  const keyId = header(req, USER_KEY_HEADER);
  const mac = header(req, USER_MAC_HEADER);
  const atText = header(req, AT_HEADER);
  if (!keyId && !mac && !atText) return null;
  if (!keyId || !mac || !atText) throw proofRefused('an incomplete user proof');
  const now = ctx.now();
  const at = /^\d{1,15}$/.test(atText) ? Number(atText) : NaN;
  if (!(Math.abs(now - at) <= REQUEST_MAC_SKEW_MS)) throw proofRefused("the proof's time is too far from the server's");
  const key = await userKeySecret(ctx.sql, keyId, device.deviceId, now);
  if (!key || !requestMacMatches(key.secret, device.deviceId, 'GET', req.url ?? '/', EMPTY_SHA256, at, mac)) {
    throw proofRefused('the user proof does not hold');
  }
  await ctx.sql.query('DELETE FROM used_request_macs WHERE at < $1', [now - 2 * REQUEST_MAC_SKEW_MS]);
  const fresh = await ctx.sql.query(
    'INSERT INTO used_request_macs (mac, at) VALUES ($1, $2) ON CONFLICT (mac) DO NOTHING RETURNING mac',
    [mac, at],
  );
  if (fresh.length === 0) throw proofRefused('this proof was used already');
  return key.userId;
}

/** What `userId`'s monitoring and head roles reach; refused when they hold neither. */
async function reachOf(sql: Sql, userId: string): Promise<Reach> {
  const roles = await sql.query<{ role: string; provider_id: string; region_kato: string | null }>(
    `SELECT r.role, r.provider_id, p.region_kato
       FROM users u JOIN user_roles r ON r.user_id = u.id LEFT JOIN providers p ON p.id = r.provider_id
      WHERE u.id = $1 AND NOT u.blocked AND r.role IN ('monitoring', 'head')`,
    [userId],
  );
  if (roles.some((r) => r.role === 'monitoring' && r.provider_id === '')) return { kind: 'country' };
  const providerIds = roles.filter((r) => r.role === 'head' && r.provider_id !== '').map((r) => r.provider_id);
  const regionKatos = roles.flatMap((r) => (r.role === 'monitoring' && r.region_kato ? [r.region_kato] : []));
  if (providerIds.length === 0 && regionKatos.length === 0) {
    throw new HttpError(403, 'forbidden', 'the monitoring report is for monitoring officers and heads');
  }
  return { kind: regionKatos.length > 0 ? 'region' : 'provider', providerIds, regionKatos };
}

export const routes: Route[] = [
  {
    method: 'GET',
    pattern: '/v1/monitoring',
    auth: 'device',
    handler: async (req, res, ctx) => {
      if (!ctx.device) throw new HttpError(401, 'unauthorized', 'a device call');
      const url = new URL(req.url ?? '/', 'http://server');
      const parsed = monitoringQuery.safeParse({
        from: url.searchParams.get('from') ?? undefined,
        to: url.searchParams.get('to') ?? undefined,
        ...(url.searchParams.has('service') ? { serviceCode: url.searchParams.get('service') } : {}),
      });
      if (!parsed.success) throw new HttpError(400, 'bad_request', 'from and to: YYYY-MM-DD, from not after to');
      const query = parsed.data;
      const { fromMs, toMs } = periodBounds(query.from, query.to, UTC_OFFSET_MINUTES);
      const userId = await provedUser(req, ctx, ctx.device);
      const reach: Reach = userId
        ? await reachOf(ctx.sql, userId)
        : { kind: 'provider', providerIds: [ctx.device.providerId], regionKatos: [] };
      // $1 true: every application; otherwise those of the providers ($2) or of the applicants' regions ($3).
      const params: unknown[] = [
        reach.kind === 'country',
        reach.kind === 'country' ? [] : reach.providerIds,
        reach.kind === 'country' ? [] : reach.regionKatos,
        fromMs,
        toMs,
        query.serviceCode ?? null,
      ];
      const where = `($1::boolean OR a.provider_id = ANY($2::text[]) OR a.region_kato = ANY($3::text[]))
                     AND a.submitted_at >= $4 AND a.submitted_at < $5
                     AND ($6::text IS NULL OR a.service_code = $6)`;
      const cells = await ctx.sql.query<{ regionKato: string; status: string; decision: string; n: number }>(
        `SELECT a.region_kato AS "regionKato", a.status, a.decision, count(*)::int AS n
           FROM applications a WHERE ${where}
          GROUP BY a.region_kato, a.status, a.decision`,
        params,
      );
      const now = ctx.now();
      const overdue = await ctx.sql.query<{ serviceCode: string; step: string; n: number }>(
        `SELECT a.service_code AS "serviceCode", coalesce(a.current_step, '') AS step, count(*)::int AS n
           FROM applications a
          WHERE ${where} AND NOT (a.status = ANY($7::text[])) AND a.due_at < $8
          GROUP BY a.service_code, a.current_step`,
        [...params, [...FINISHED_STATUSES], now],
      );
      sendJson(
        res,
        200,
        buildReport({
          query,
          cells,
          overdue,
          regions: classifier(),
          everyRegion: reach.kind === 'country',
          source: 'server',
          reach: reach.kind,
          dataAt: now,
        }),
      );
    },
  },
];
