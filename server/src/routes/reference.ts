/**
 * Reference data for a direct read (device calls; the same rows travel in
 * the feed; users and staff are the calling device's provider's only):
 * - GET /v1/reference/users | staff | services | calendars | refusal-reasons | crls
 *   → { kind, items, serverTime }, each item in its feed shape (protocol.ts);
 *   users never carry a password hash;
 * - GET /v1/reference/crls/:sha256 → the CRL itself, DER (application/pkix-crl).
 */
import type { z, ZodType } from 'zod';
import { crlDer, listCrls } from '../auth/crls.js';
import type { Sql } from '../postgres/sql.js';
import { HttpError, sendJson, type Route } from '../http.js';
import {
  calendarData,
  crlData,
  refusalReason,
  serviceData,
  staffData,
  userData,
  type referenceAnswer,
} from '#core/protocol.js';

export { CrlRefused, importCrl, type CrlImport } from '../auth/crls.js';

type RefusalReason = z.infer<typeof refusalReason>;

/** `value` as `schema` reads it: a row that does not fit is the server's own fault (500), not the caller's (400). */
function fits<T>(schema: ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`reference row does not fit: ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

/** The users who work at the device's provider (a role bound to it or a position in its staff): never everyone. */
async function users(sql: Sql, providerId: string): Promise<unknown[]> {
  const rows = await sql.query<Record<string, unknown> & { roles: unknown }>(
    `SELECT u.id, u.login, u.full_name AS "fullName", u.iin, u.email, u.phone, u.position_kk AS "positionKk",
            u.position_ru AS "positionRu", u.blocked, u.must_change_password AS "mustChangePassword",
            coalesce((SELECT jsonb_agg(jsonb_build_object('role', r.role, 'providerId', r.provider_id)
                                       ORDER BY r.role, r.provider_id)
                        FROM user_roles r WHERE r.user_id = u.id), '[]'::jsonb) AS roles
       FROM users u
      WHERE EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.provider_id = $1)
         OR EXISTS (SELECT 1 FROM provider_staff s WHERE s.user_id = u.id AND s.provider_id = $1)
      ORDER BY u.id`,
    [providerId],
  );
  return rows.map((r) => fits(userData, r));
}

async function staff(sql: Sql, providerId: string): Promise<unknown[]> {
  const rows = await sql.query(
    `SELECT provider_id AS "providerId", user_id AS "userId", position_kk AS "positionKk",
            position_ru AS "positionRu", active
       FROM provider_staff WHERE provider_id = $1 ORDER BY provider_id, user_id`,
    [providerId],
  );
  return rows.map((r) => fits(staffData, r));
}

async function services(sql: Sql): Promise<unknown[]> {
  const rows = await sql.query('SELECT code, version, definition FROM services ORDER BY code');
  return rows.map((r) => fits(serviceData, r));
}

async function calendars(sql: Sql): Promise<unknown[]> {
  const rows = await sql.query('SELECT year, definition FROM calendars ORDER BY year');
  return rows.map((r) => fits(calendarData, r));
}

/** The refusal reasons a service definition lists (core/catalogue/schema.ts: `refusalReasons: [{code, text}]`). */
export function refusalReasonsOf(serviceCode: string, definition: unknown): RefusalReason[] {
  const list = (definition as { refusalReasons?: unknown } | null)?.refusalReasons;
  if (!Array.isArray(list)) return [];
  const out: RefusalReason[] = [];
  for (const item of list) {
    const parsed = refusalReason.safeParse({
      serviceCode,
      code: (item as { code?: unknown } | null)?.code,
      name: (item as { text?: unknown } | null)?.text,
    });
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

async function refusalReasons(sql: Sql): Promise<unknown[]> {
  const rows = await sql.query<{ code: string; definition: unknown }>(
    'SELECT code, definition FROM services ORDER BY code',
  );
  return rows.flatMap((r) => refusalReasonsOf(r.code, r.definition));
}

async function crls(sql: Sql): Promise<unknown[]> {
  return (await listCrls(sql)).map((c) => fits(crlData, c));
}

const KINDS: Record<string, (sql: Sql, providerId: string) => Promise<unknown[]>> = {
  users,
  staff,
  services,
  calendars,
  'refusal-reasons': refusalReasons,
  crls,
};

export const routes: Route[] = [
  ...Object.entries(KINDS).map(([kind, read]): Route => ({
    method: 'GET',
    pattern: `/v1/reference/${kind}`,
    auth: 'device',
    handler: async (_req, res, ctx) => {
      if (!ctx.device) throw new HttpError(401, 'unauthorized', 'a device call');
      const items = await read(ctx.sql, ctx.device.providerId);
      const answer: z.infer<typeof referenceAnswer> = { kind, items, serverTime: ctx.now() };
      sendJson(res, 200, answer);
    },
  })),
  {
    method: 'GET',
    pattern: '/v1/reference/crls/:sha256',
    auth: 'device',
    handler: async (_req, res, ctx) => {
      const sha256 = ctx.params.sha256 ?? '';
      if (!/^[0-9a-f]{64}$/.test(sha256)) throw new HttpError(400, 'bad_request', 'a SHA-256 in lower-case hex');
      const der = await crlDer(ctx.sql, sha256);
      if (!der) throw new HttpError(404, 'not_found', 'no such CRL');
      res.writeHead(200, {
        'Content-Type': 'application/pkix-crl',
        'Content-Length': der.length,
        ETag: `"${sha256}"`,
        'Cache-Control': 'private, max-age=31536000, immutable',
      });
      res.end(der);
    },
  },
];
