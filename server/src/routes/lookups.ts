/**
 * Look-ups (device calls) through a LookupAdapter (server/src/lookups):
 * - GET /v1/lookup/individual/:iin
 * - GET /v1/lookup/legal-entity/:bin
 * - GET /v1/lookup/powers-of-attorney?principal=IIN | agent=IIN | number=N
 * A malformed IIN or BIN (format, date, checksum) is 400 bad_request before
 * anything is asked; an unknown one is 404 not_found.
 */
import { isValidBin, isValidIin } from '#core/identity/iin.js';
import type { Sql } from '../postgres/sql.js';
import { HttpError, sendJson, type Route, type RouteContext } from '../http.js';
import { SqlLookupAdapter, type LookupAdapter, type PowerOfAttorneyQuery } from '../lookups/adapter.js';
import type { z } from 'zod';
import type { individualAnswer, legalEntityAnswer, powersOfAttorneyAnswer } from '#core/protocol.js';

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

/** The look-up routes over the adapter `adapterFor` gives for a request's database. */
export function createLookupRoutes(adapterFor: (sql: Sql) => LookupAdapter): Route[] {
  const adapter = (ctx: RouteContext) => adapterFor(ctx.sql);
  return [
    {
      method: 'GET',
      pattern: '/v1/lookup/individual/:iin',
      auth: 'device',
      handler: async (_req, res, ctx) => {
        const iin = iinParam(ctx.params.iin, 'iin');
        const found = await adapter(ctx).individual(iin);
        if (!found) throw new HttpError(404, 'not_found', 'no such individual');
        const answer: z.infer<typeof individualAnswer> = { ...found, serverTime: ctx.now() };
        sendJson(res, 200, answer);
      },
    },
    {
      method: 'GET',
      pattern: '/v1/lookup/legal-entity/:bin',
      auth: 'device',
      handler: async (_req, res, ctx) => {
        const bin = ctx.params.bin ?? '';
        if (!isValidBin(bin)) throw new HttpError(400, 'bad_request', 'bin: not a valid BIN');
        const found = await adapter(ctx).legalEntity(bin);
        if (!found) throw new HttpError(404, 'not_found', 'no such legal entity');
        const answer: z.infer<typeof legalEntityAnswer> = { ...found, serverTime: ctx.now() };
        sendJson(res, 200, answer);
      },
    },
    {
      method: 'GET',
      pattern: '/v1/lookup/powers-of-attorney',
      auth: 'device',
      handler: async (_req, res, ctx) => {
        const items = await adapter(ctx).powersOfAttorney(powerQuery(ctx.query));
        const answer: z.infer<typeof powersOfAttorneyAnswer> = { items, serverTime: ctx.now() };
        sendJson(res, 200, answer);
      },
    },
  ];
}

export const routes: Route[] = createLookupRoutes((sql) => new SqlLookupAdapter(sql));
