/**
 * Attachments (device calls): chunked, resumable uploads addressed by the
 * content's SHA-256, as the comment block in protocol.ts says.
 * - POST /v1/attachments/:sha256 {size, mime}: creates this device's upload or resumes it;
 * - GET  /v1/attachments/:sha256: where it stands (`received` is where the next chunk starts);
 * - PUT  /v1/attachments/:sha256?offset=N: the next chunk (≤ MAX_CHUNK_BYTES) at exactly
 *   `received` (else 409 conflict with the status to resume from); the last one makes
 *   the server hash the whole: a mismatch is 422 digest_mismatch and the upload starts over;
 * - GET  /v1/attachments/:sha256/content: the bytes (Range honoured).
 *
 * Knowing a SHA-256 tells nothing and reads nothing. Content is readable by
 * the devices of an office that holds it (a device of it sent the whole and
 * it hashed right) and by the devices whose partitions' feed names it. To
 * any other device, content that is stored answers exactly as content that
 * is not: no status (404), no bytes (404), and a start that opens its own
 * empty upload. Every upload is the device's own (`attachment_uploads`):
 * a device proves it has stored content only by sending all of it, and the
 * server compares nothing but the digest of the whole, so no answer depends
 * on a part of the stored bytes (comparing chunk by chunk let a device that
 * knew only the address recover the content byte by byte). The last chunk of
 * an upload of content already stored adds the office to its holders; of new
 * content, moves the chunks into `attachment_chunks`.
 *
 * Each device's calls here spend tokens of a per-device rate limit (429 with
 * Retry-After). Everything else lives in the database and each step takes its
 * upload's row lock, so any server instance on the same database serves the
 * next chunk. Memory stays bounded: one chunk at a time in, out and through
 * the hash.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { z } from 'zod';
import { bytes, type Sql } from '../postgres/sql.js';
import {
  HttpError,
  readBody,
  readJson,
  sendJson,
  type DeviceIdentity,
  type Route,
  type RouteContext,
} from '../http.js';
import { RateLimiter, type RateLimitOptions } from '../rate-limit.js';
import { attachmentStart, MAX_CHUNK_BYTES, type attachmentStatus } from '#core/protocol.js';

type Status = z.infer<typeof attachmentStatus>;

/** Stored content (complete, hashed right). */
interface Stored {
  sha256: string;
  size: number;
  mime: string;
}

/** A device's own upload in progress. */
interface Upload {
  sha256: string;
  size: number;
  mime: string;
  received: number;
}

export interface AttachmentOptions {
  /**
   * Per-device limit on the attachment calls: a chunk a call, so the burst
   * covers a resumed upload's first chunks and the rate an upload at several
   * MB/s; a device guessing at content gets no further than that.
   */
  limits: RateLimitOptions;
  /** The limiter's clock (tests). */
  now?: () => number;
}

export const DEFAULT_ATTACHMENT_LIMITS: RateLimitOptions = { burst: 120, perSecond: 20, maxKeys: 100_000 };

const SHA256 = /^[0-9a-f]{64}$/;

/** What a device that may not read content, or asks for content not here, is told: one answer for both. */
const NOT_HERE = 'no upload of this content';
const NO_CONTENT = 'no such content';

function sha256Of(ctx: RouteContext): string {
  const sha256 = ctx.params.sha256 ?? '';
  if (!SHA256.test(sha256)) throw new HttpError(400, 'bad_request', 'the address is a SHA-256 in lower-case hex');
  return sha256;
}

function deviceOf(ctx: RouteContext): DeviceIdentity {
  if (!ctx.device) throw new HttpError(401, 'unauthorized', 'a device call');
  return ctx.device;
}

async function addHolder(sql: Sql, sha256: string, deviceId: string, now: number): Promise<void> {
  await sql.query(
    'INSERT INTO attachment_holders (sha256, device_id, since) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [sha256, deviceId, now],
  );
}

/** Whether the device may read the content: a device of its office holds it, or its partitions' feed names it. */
async function mayRead(sql: Sql, sha256: string, device: DeviceIdentity): Promise<boolean> {
  const held = await sql.query(
    `SELECT 1 FROM attachment_holders h JOIN devices d ON d.id = h.device_id
      WHERE h.sha256 = $1 AND d.provider_id = $2 LIMIT 1`,
    [sha256, device.providerId],
  );
  if (held.length > 0) return true;
  const named = await sql.query(
    `SELECT 1 FROM feed WHERE entity = 'attachment' AND op = 'upsert' AND data ->> 'sha256' = $1
        AND partition = ANY($2::text[]) LIMIT 1`,
    [sha256, device.partitions],
  );
  return named.length > 0;
}

async function stored(sql: Sql, sha256: string): Promise<Stored | null> {
  const [row] = await sql.query<{ sha256: string; size: unknown; mime: string }>(
    'SELECT sha256, size, mime FROM attachments WHERE sha256 = $1 AND complete',
    [sha256],
  );
  return row ? { sha256: row.sha256, size: Number(row.size), mime: row.mime } : null;
}

/** The stored content, when this device may read it; null otherwise (not here and not allowed alike). */
async function readable(sql: Sql, sha256: string, device: DeviceIdentity): Promise<Stored | null> {
  // Both asked either way: the same queries whether the content is here or not.
  const content = await stored(sql, sha256);
  const allowed = await mayRead(sql, sha256, device);
  return content && allowed ? content : null;
}

async function loadUpload(sql: Sql, sha256: string, deviceId: string, lock = false): Promise<Upload | null> {
  const [row] = await sql.query<{ sha256: string; size: unknown; mime: string; received: unknown }>(
    `SELECT sha256, size, mime, received FROM attachment_uploads WHERE sha256 = $1 AND device_id = $2${
      lock ? ' FOR UPDATE' : ''
    }`,
    [sha256, deviceId],
  );
  if (!row) return null;
  return { sha256: row.sha256, size: Number(row.size), mime: row.mime, received: Number(row.received) };
}

function uploadStatus(upload: Upload, now: number): Status {
  return { sha256: upload.sha256, size: upload.size, received: upload.received, complete: false, serverTime: now };
}

function storedStatus(content: Stored, now: number): Status {
  return { sha256: content.sha256, size: content.size, received: content.size, complete: true, serverTime: now };
}

/** An error that carries the status, for the client to resume from. */
function withStatus(status: number, code: string, message: string, at: Status): HttpError {
  return new HttpError(status, code, message, { status: at });
}

/** SHA-256 (hex) of the device's uploaded chunks, read one at a time in order. */
async function digestOfUpload(sql: Sql, upload: Upload, deviceId: string): Promise<string> {
  const hash = createHash('sha256');
  let offset = 0;
  while (offset < upload.size) {
    const [row] = await sql.query<{ bytes: unknown }>(
      'SELECT bytes FROM attachment_upload_chunks WHERE sha256 = $1 AND device_id = $2 AND "offset" = $3',
      [upload.sha256, deviceId, offset],
    );
    if (!row) throw new Error(`attachment upload ${upload.sha256}: no chunk at ${offset}`);
    const chunk = bytes(row.bytes);
    if (chunk.length === 0) throw new Error(`attachment upload ${upload.sha256}: empty chunk at ${offset}`);
    hash.update(chunk);
    offset += chunk.length;
  }
  return hash.digest('hex');
}

/** Opens or resumes the device's upload; stored content it may read answers complete (nothing to send). */
async function start(sql: Sql, sha256: string, size: number, mime: string, now: number, device: DeviceIdentity) {
  const content = await readable(sql, sha256, device);
  if (content) {
    // Its office has it: an upload of its own left over is not needed any more.
    await sql.query('DELETE FROM attachment_uploads WHERE sha256 = $1 AND device_id = $2', [sha256, device.deviceId]);
    return storedStatus(content, now);
  }
  return sql.tx(async (tx) => {
    await tx.query(
      `INSERT INTO attachment_uploads (sha256, device_id, size, mime, received, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 0, $5, $5) ON CONFLICT (sha256, device_id) DO NOTHING`,
      [sha256, device.deviceId, size, mime, now],
    );
    const upload = await loadUpload(tx, sha256, device.deviceId, true);
    if (!upload) throw new Error(`attachment upload ${sha256}: vanished`);
    if (upload.size === size) return uploadStatus(upload, now);
    // Nothing received yet: whatever size it said before, start with this one.
    if (upload.received === 0) {
      await tx.query(
        'UPDATE attachment_uploads SET size = $3, mime = $4, updated_at = $5 WHERE sha256 = $1 AND device_id = $2',
        [sha256, device.deviceId, size, mime, now],
      );
      return uploadStatus({ ...upload, size, mime }, now);
    }
    throw withStatus(409, 'conflict', `this upload is ${upload.size} bytes, not ${size}`, uploadStatus(upload, now));
  });
}

type ChunkOutcome = { status: Status; mismatch: boolean };

/** Drops the device's upload once its content is stored; the content read by its office from now on. */
async function finish(tx: Sql, upload: Upload, deviceId: string, now: number): Promise<void> {
  const created = await tx.query(
    `INSERT INTO attachments (sha256, size, mime, received, complete, created_at, updated_at)
     VALUES ($1, $2, $3, $2, true, $4, $4) ON CONFLICT (sha256) DO NOTHING RETURNING sha256`,
    [upload.sha256, upload.size, upload.mime, now],
  );
  if (created.length > 0) {
    await tx.query(
      `INSERT INTO attachment_chunks (sha256, "offset", bytes)
       SELECT sha256, "offset", bytes FROM attachment_upload_chunks WHERE sha256 = $1 AND device_id = $2`,
      [upload.sha256, deviceId],
    );
  }
  // Content already stored: the bytes sent were its proof, and are not kept twice.
  await tx.query('DELETE FROM attachment_uploads WHERE sha256 = $1 AND device_id = $2', [upload.sha256, deviceId]);
  await addHolder(tx, upload.sha256, deviceId, now);
}

async function putChunk(
  sql: Sql,
  sha256: string,
  offset: number,
  chunk: Buffer,
  now: number,
  device: DeviceIdentity,
): Promise<ChunkOutcome> {
  const outcome = await sql.tx(async (tx): Promise<ChunkOutcome | null> => {
    const upload = await loadUpload(tx, sha256, device.deviceId, true);
    if (!upload) return null;
    if (offset !== upload.received) {
      throw withStatus(409, 'conflict', `the next chunk starts at ${upload.received}`, uploadStatus(upload, now));
    }
    if (chunk.length === 0) throw new HttpError(400, 'bad_request', 'an empty chunk');
    if (offset + chunk.length > upload.size) {
      throw new HttpError(400, 'bad_request', `the chunk goes past the size (${upload.size})`);
    }
    await tx.query(
      'INSERT INTO attachment_upload_chunks (sha256, device_id, "offset", bytes) VALUES ($1, $2, $3, $4)',
      [sha256, device.deviceId, offset, chunk],
    );
    const received = offset + chunk.length;
    if (received < upload.size) {
      await tx.query(
        'UPDATE attachment_uploads SET received = $3, updated_at = $4 WHERE sha256 = $1 AND device_id = $2',
        [sha256, device.deviceId, received, now],
      );
      return { status: uploadStatus({ ...upload, received }, now), mismatch: false };
    }
    const whole = { ...upload, received };
    if ((await digestOfUpload(tx, whole, device.deviceId)) === sha256) {
      await finish(tx, whole, device.deviceId, now);
      return { status: { ...uploadStatus(whole, now), complete: true }, mismatch: false };
    }
    // Not the content its address names: forget what came and start over.
    await tx.query('DELETE FROM attachment_upload_chunks WHERE sha256 = $1 AND device_id = $2', [
      sha256,
      device.deviceId,
    ]);
    await tx.query('UPDATE attachment_uploads SET received = 0, updated_at = $3 WHERE sha256 = $1 AND device_id = $2', [
      sha256,
      device.deviceId,
      now,
    ]);
    return { status: uploadStatus({ ...upload, received: 0 }, now), mismatch: true };
  });
  if (outcome) return outcome;
  // No upload of its own: content it may read is complete; anything else is not here.
  const content = await readable(sql, sha256, device);
  if (content) throw withStatus(409, 'conflict', 'the upload is complete', storedStatus(content, now));
  throw new HttpError(404, 'not_found', `${NOT_HERE}: POST it first`);
}
/** The byte range a Range header asks of `size` bytes: null for the whole, 'unsatisfiable', or [first, last]. */
export function parseRange(header: string | undefined, size: number): [number, number] | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges or another unit: answered with the whole, as RFC 9110 allows.
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const first = Number(m[1]);
  const last = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (first >= size) return 'unsatisfiable';
  if (last < first) return null;
  return [first, last];
}

/** Waits until `res` takes more, or is gone; false when gone. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** Writes bytes [first, last] of the stored content, a chunk at a time. */
async function streamContent(
  sql: Sql,
  res: ServerResponse,
  sha256: string,
  first: number,
  last: number,
): Promise<void> {
  const chunks = await sql.query<{ offset: unknown; length: unknown }>(
    `SELECT "offset", length(bytes) AS length FROM attachment_chunks
      WHERE sha256 = $1 AND "offset" <= $3 AND "offset" + length(bytes) > $2 ORDER BY "offset"`,
    [sha256, first, last],
  );
  for (const chunk of chunks) {
    const offset = Number(chunk.offset);
    const from = Math.max(first, offset);
    const to = Math.min(last, offset + Number(chunk.length) - 1);
    const [row] = await sql.query<{ part: unknown }>(
      'SELECT substring(bytes FROM $3 FOR $4) AS part FROM attachment_chunks WHERE sha256 = $1 AND "offset" = $2',
      [sha256, offset, from - offset + 1, to - from + 1],
    );
    if (!row) throw new Error(`attachment ${sha256}: no chunk at ${offset}`);
    if (res.destroyed) return;
    if (!res.write(bytes(row.part)) && !(await drained(res))) return;
  }
  res.end();
}

/** The attachment routes, with their own per-device rate limit. */
export function createAttachmentRoutes(options: AttachmentOptions = { limits: DEFAULT_ATTACHMENT_LIMITS }): Route[] {
  const limiter = new RateLimiter(options.limits, options.now);
  /** The calling device, once it has spent a token of its limit. */
  const limited = (ctx: RouteContext): DeviceIdentity => {
    const device = deviceOf(ctx);
    limiter.check(device.deviceId);
    return device;
  };
  return [
    {
      method: 'POST',
      pattern: '/v1/attachments/:sha256',
      auth: 'device',
      handler: async (req, res, ctx) => {
        const device = limited(ctx);
        const sha256 = sha256Of(ctx);
        const body = await readJson(req, attachmentStart, 4096);
        sendJson(res, 200, await start(ctx.sql, sha256, body.size, body.mime, ctx.now(), device));
      },
    },
    {
      method: 'GET',
      pattern: '/v1/attachments/:sha256',
      auth: 'device',
      handler: async (_req, res, ctx) => {
        const device = limited(ctx);
        const sha256 = sha256Of(ctx);
        const content = await readable(ctx.sql, sha256, device);
        if (content) {
          sendJson(res, 200, storedStatus(content, ctx.now()));
          return;
        }
        const upload = await loadUpload(ctx.sql, sha256, device.deviceId);
        if (!upload) throw new HttpError(404, 'not_found', NOT_HERE);
        sendJson(res, 200, uploadStatus(upload, ctx.now()));
      },
    },
    {
      method: 'PUT',
      pattern: '/v1/attachments/:sha256',
      auth: 'device',
      handler: async (req, res, ctx) => {
        const device = limited(ctx);
        const sha256 = sha256Of(ctx);
        const offsetText = ctx.query.get('offset') ?? '';
        if (!/^\d{1,15}$/.test(offsetText)) throw new HttpError(400, 'bad_request', 'offset: a whole number of bytes');
        const chunk = await readBody(req, MAX_CHUNK_BYTES);
        const outcome = await putChunk(ctx.sql, sha256, Number(offsetText), chunk, ctx.now(), device);
        if (outcome.mismatch) {
          // The same words whatever was sent and whatever is stored.
          throw withStatus(
            422,
            'digest_mismatch',
            'the content does not hash to its address: the upload starts over',
            outcome.status,
          );
        }
        sendJson(res, 200, outcome.status);
      },
    },
    {
      method: 'GET',
      pattern: '/v1/attachments/:sha256/content',
      auth: 'device',
      handler: async (req, res, ctx) => {
        const device = limited(ctx);
        const sha256 = sha256Of(ctx);
        // Content this device may not read is answered as content that is not here.
        const content = await readable(ctx.sql, sha256, device);
        if (!content) throw new HttpError(404, 'not_found', NO_CONTENT);
        const range = parseRange(req.headers.range, content.size);
        const headers = {
          'Content-Type': content.mime,
          'Accept-Ranges': 'bytes',
          ETag: `"${sha256}"`,
          'Cache-Control': 'private, max-age=31536000, immutable',
        };
        if (range === 'unsatisfiable') {
          const text = JSON.stringify({ error: 'range_not_satisfiable', serverTime: ctx.now() });
          res.writeHead(416, {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': Buffer.byteLength(text),
            'Content-Range': `bytes */${content.size}`,
          });
          res.end(text);
          return;
        }
        const [first, last] = range ?? [0, content.size - 1];
        res.writeHead(range ? 206 : 200, {
          ...headers,
          'Content-Length': last - first + 1,
          ...(range ? { 'Content-Range': `bytes ${first}-${last}/${content.size}` } : {}),
        });
        await streamContent(ctx.sql, res, sha256, first, last);
      },
    },
  ];
}

export const routes: Route[] = createAttachmentRoutes();
