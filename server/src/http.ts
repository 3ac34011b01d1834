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

/** The whole body, refused with 413 past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
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

/** The body as JSON validated by `schema`; 400 bad_request when it does not fit. */
export async function readJson<T>(req: IncomingMessage, schema: ZodType<T>, limit?: number): Promise<T> {
  const raw = await readBody(req, limit);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'bad_request', 'body is not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new HttpError(
      400,
      'bad_request',
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
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
