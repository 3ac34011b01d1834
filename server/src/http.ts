/**
 * The server's HTTP plumbing: a route table over node:http, bodies read
 * with a size limit, JSON answers, errors as `{ error, message }` with a
 * stable code. Routes are plain async functions; the device a call comes
 * from is authenticated by the server before its route runs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ZodType } from 'zod';
import type { Sql } from './postgres/sql.js';

/** The enrolled device a call comes from (routes with `auth: 'device'`). */
export interface DeviceIdentity {
  deviceId: string;
  providerId: string;
  partitions: string[];
}

export interface RouteContext {
  sql: Sql;
  now(): number;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Set for routes with `auth: 'device'`, null otherwise. */
  device: DeviceIdentity | null;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => Promise<void>;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'HEAD' | 'DELETE';
  /** '/v1/attachments/:sha256/content': `:name` segments become ctx.params. */
  pattern: string;
  auth: 'none' | 'device';
  handler: RouteHandler;
}

/** A failure with an HTTP status and a stable code (see protocol.ts errorBody). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message ?? code);
    this.name = 'HttpError';
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/** The default body limit of a route that names none. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * The whole body, refused with 413 past `limit` bytes: at once when the
 * declared Content-Length is over it (nothing is read), else as soon as the
 * bytes read pass it (never more than `limit` held in memory).
 */
export async function readBody(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && (!/^\d{1,15}$/.test(declared) || Number(declared) > limit)) {
    throw new HttpError(413, 'too_large', `body over ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) throw new HttpError(413, 'too_large', `body over ${limit} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/**
 * Where a value does not fit a schema, by field path only: the schema's own
 * words may quote what was sent (a value, an enum's options), and what was
 * sent is not echoed back.
 */
export function invalidFields(issues: readonly { path: readonly PropertyKey[] }[]): string {
  const paths = [...new Set(issues.map((i) => i.path.map(String).join('.') || '(body)'))];
  return `invalid: ${paths.slice(0, 20).join(', ')}`;
}

/** The body as JSON validated by `schema`; 400 bad_request when it does not fit. */
export async function readJson<T>(req: IncomingMessage, schema: ZodType<T>, limit?: number): Promise<T> {
  const raw = await readBody(req, limit);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    // The parser's words quote the body: not sent back.
    throw new HttpError(400, 'bad_request', 'body is not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, 'bad_request', invalidFields(parsed.error.issues));
  return parsed.data;
}

/** Matches `path` against a route pattern; the params, or null. */
export function matchPattern(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const part = p[i]!;
    if (part.startsWith(':')) {
      if (s[i] === '') return null;
      try {
        params[part.slice(1)] = decodeURIComponent(s[i]!);
      } catch {
        return null;
      }
    } else if (part !== s[i]) return null;
  }
  return params;
}
