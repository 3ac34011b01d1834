/**
 * Dispatching a request to its route: method and pattern matched, the
 * device authenticated for `auth: 'device'` routes (bearer access token),
 * failures turned into error bodies with a stable code (protocol.ts
 * errorBody): HttpError as it says, a schema failure 400 bad_request with
 * the failing field paths only, anything else (a database's or a parser's
 * error) 500 internal with no text of its own, logged with its stack (never
 * a body, a token or a password).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { z } from 'zod';
import { authenticate } from './devices.js';
import type { Sql } from './postgres/sql.js';
import { HttpError, invalidFields, matchPattern, sendJson, type Route } from './http.js';

export interface RouterOptions {
  sql: Sql;
  now(): number;
  tokenKey: Buffer;
  log(line: string): void;
}

function errorAnswer(
  res: ServerResponse,
  status: number,
  code: string,
  now: number,
  message?: string,
  extra = {},
): void {
  if (res.headersSent) {
    // A streamed answer already started: cutting it is the only way to say it failed.
    res.destroy();
    return;
  }
  // A refusal that says how long to wait (429, 503) says it in the standard header too, in whole seconds.
  const wait = (extra as { retryAfterMs?: unknown }).retryAfterMs;
  if (typeof wait === 'number' && wait > 0) res.setHeader('Retry-After', String(Math.ceil(wait / 1000)));
  sendJson(res, status, { error: code, ...(message ? { message } : {}), ...extra, serverTime: now });
}

function find(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | 'wrongMethod' | null {
  let pathMatched = false;
  for (const route of routes) {
    const params = matchPattern(route.pattern, path);
    if (!params) continue;
    if (route.method === method) return { route, params };
    pathMatched = true;
  }
  return pathMatched ? 'wrongMethod' : null;
}

export function createRouter(routes: readonly Route[], options: RouterOptions): RequestListener {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://server');
    } catch {
      throw new HttpError(400, 'bad_request', 'bad request target');
    }
    const found = find(routes, req.method ?? 'GET', url.pathname);
    if (found === null) throw new HttpError(404, 'not_found', `no route ${url.pathname}`);
    if (found === 'wrongMethod') throw new HttpError(405, 'bad_request', `${req.method} is not allowed here`);
    const { route, params } = found;
    const device =
      route.auth === 'device'
        ? await authenticate(options.sql, options.tokenKey, req.headers.authorization, options.now())
        : null;
    await route.handler(req, res, { sql: options.sql, now: options.now, params, query: url.searchParams, device });
  };

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const now = options.now();
      // A body refused for its size is not read to its end: the connection goes with the answer.
      const tooLarge = err instanceof HttpError && err.status === 413;
      if (tooLarge && !res.headersSent) res.setHeader('Connection', 'close');
      if (err instanceof HttpError) {
        errorAnswer(res, err.status, err.code, now, err.message === err.code ? undefined : err.message, err.extra);
      } else if (err instanceof z.ZodError) {
        errorAnswer(res, 400, 'bad_request', now, invalidFields(err.issues));
      } else {
        options.log(
          `${req.method} ${req.url?.split('?')[0]} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
        errorAnswer(res, 500, 'internal', now);
      }
      // The rest of an unread body is not wanted: drained (a small one) or cut with the connection (too large).
      if (!req.complete && !tooLarge) req.resume();
    });
  };
}
