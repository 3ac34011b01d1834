/**
 * Attachments (device calls): chunked, resumable uploads addressed by the
 * content's SHA-256, as the comment block in protocol.ts says.
 * - POST /v1/attachments/:sha256 {size, mime}: creates the upload or resumes it;
 * - GET  /v1/attachments/:sha256: where it stands (`received` is where the next chunk starts);
 * - PUT  /v1/attachments/:sha256?offset=N: the next chunk (≤ MAX_CHUNK_BYTES) at exactly
 *   `received` (else 409 conflict with the status to resume from); the last one makes
 *   the server hash the whole: a mismatch is 422 digest_mismatch and the upload starts over;
 * - GET  /v1/attachments/:sha256/content: the bytes once complete (Range honoured).
 *
 * Who may read: knowing a SHA-256 is not enough. The content is read by the
 * devices that hold it (the device whose chunk completed the upload, and any
 * device that proved possession) and by the devices whose partitions' feed
 * names it (an attachment of an application they see); anyone else is
 * answered 404, as for content that does not exist. A device that starts an
 * upload of content already complete on the server proves it has it by
 * sending it again: its status counts its own bytes received, each chunk
 * compared with the stored bytes at its place, and the last makes it a
 * holder (a chunk that differs starts its proof over: 422 digest_mismatch).
 * The protocol is the same for the device either way.
 *
 * Everything lives in the database (`attachments`, `attachment_chunks`,
 * `attachment_holders`, `attachment_proofs`) and
 * each step takes the upload's row lock, so any server instance on the same
 * database serves the next chunk. Memory stays bounded: one chunk at a time
 * in, out and through the hash.
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
import { attachmentStart, MAX_CHUNK_BYTES, type attachmentStatus } from '#core/protocol.js';

type Status = z.infer<typeof attachmentStatus>;

interface Upload {
  sha256: string;
  size: number;
  mime: string;
  received: number;
  complete: boolean;
}

const SHA256 = /^[0-9a-f]{64}$/;

function sha256Of(ctx: RouteContext): string {
  const sha256 = ctx.params.sha256 ?? '';
  if (!SHA256.test(sha256)) throw new HttpError(400, 'bad_request', 'the address is a SHA-256 in lower-case hex');
  return sha256;
}

function deviceOf(ctx: RouteContext): DeviceIdentity {
  if (!ctx.device) throw new HttpError(401, 'unauthorized', 'a device call');
  return ctx.device;
}

async function holds(sql: Sql, sha256: string, deviceId: string): Promise<boolean> {
  const rows = await sql.query('SELECT 1 FROM attachment_holders WHERE sha256 = $1 AND device_id = $2', [
    sha256,
    deviceId,
  ]);
  return rows.length > 0;
}

async function addHolder(sql: Sql, sha256: string, deviceId: string, now: number): Promise<void> {
  await sql.query(
    'INSERT INTO attachment_holders (sha256, device_id, since) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [sha256, deviceId, now],
  );
  await sql.query('DELETE FROM attachment_proofs WHERE sha256 = $1 AND device_id = $2', [sha256, deviceId]);
}

/** Whether the device may read the content: it holds it, or its partitions' feed names it. */
async function mayRead(sql: Sql, sha256: string, device: DeviceIdentity): Promise<boolean> {
  if (await holds(sql, sha256, device.deviceId)) return true;
  const rows = await sql.query(
    `SELECT 1 FROM feed WHERE entity = 'attachment' AND op = 'upsert' AND data ->> 'sha256' = $1
        AND partition = ANY($2::text[]) LIMIT 1`,
    [sha256, device.partitions],
  );
  return rows.length > 0;
}

/** The bytes received of the device's proof of complete content it does not hold (0 when it has none yet). */
async function proofOf(sql: Sql, sha256: string, deviceId: string, lock = false): Promise<number> {
  const [row] = await sql.query<{ received: unknown }>(
    `SELECT received FROM attachment_proofs WHERE sha256 = $1 AND device_id = $2${lock ? ' FOR UPDATE' : ''}`,
    [sha256, deviceId],
  );
  return row ? Number(row.received) : 0;
}

/**
 * The upload as this device sees it: the content itself while it is being
 * uploaded or when the device holds it; for complete content it does not
 * hold, its own proof (what it has sent again).
 */
async function viewOf(sql: Sql, upload: Upload, deviceId: string): Promise<Upload> {
  if (!upload.complete || (await holds(sql, upload.sha256, deviceId))) return upload;
  return { ...upload, received: await proofOf(sql, upload.sha256, deviceId), complete: false };
}

function statusOf(upload: Upload, now: number): Status {
  return {
    sha256: upload.sha256,
    size: upload.size,
    received: upload.received,
    complete: upload.complete,
    serverTime: now,
  };
}

/** An error that carries the upload's status, for the client to resume from. */
function withStatus(status: number, code: string, message: string, upload: Upload, now: number): HttpError {
  return new HttpError(status, code, message, { status: statusOf(upload, now) });
}

async function load(sql: Sql, sha256: string, lock = false): Promise<Upload | null> {
  const [row] = await sql.query<{ sha256: string; size: unknown; mime: string; received: unknown; complete: boolean }>(
    `SELECT sha256, size, mime, received, complete FROM attachments WHERE sha256 = $1${lock ? ' FOR UPDATE' : ''}`,
    [sha256],
  );
  if (!row) return null;
  return {
    sha256: row.sha256,
    size: Number(row.size),
    mime: row.mime,
    received: Number(row.received),
    complete: row.complete,
  };
}

/** SHA-256 (hex) of the stored chunks of `sha256`, read one at a time in order. */
async function digestOfChunks(sql: Sql, sha256: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  let offset = 0;
  while (offset < size) {
    const [row] = await sql.query<{ bytes: unknown }>(
      'SELECT bytes FROM attachment_chunks WHERE sha256 = $1 AND "offset" = $2',
      [sha256, offset],
    );
    if (!row) throw new Error(`attachment ${sha256}: no chunk at ${offset}`);
    const chunk = bytes(row.bytes);
    if (chunk.length === 0) throw new Error(`attachment ${sha256}: empty chunk at ${offset}`);
    hash.update(chunk);
    offset += chunk.length;
  }
  return hash.digest('hex');
}

async function start(
  sql: Sql,
  sha256: string,
  size: number,
  mime: string,
  now: number,
  deviceId: string,
): Promise<Upload> {
  const upload = await sql.tx(async (tx) => {
    await tx.query(
      `INSERT INTO attachments (sha256, size, mime, received, complete, created_at, updated_at)
       VALUES ($1, $2, $3, 0, false, $4, $4) ON CONFLICT (sha256) DO NOTHING`,
      [sha256, size, mime, now],
    );
    const upload = await load(tx, sha256, true);
    if (!upload) throw new Error(`attachment ${sha256}: vanished`);
    if (upload.size === size) return upload;
    // Nothing received yet: whoever said the wrong size before, start with this one.
    if (!upload.complete && upload.received === 0) {
      await tx.query('UPDATE attachments SET size = $2, mime = $3, updated_at = $4 WHERE sha256 = $1', [
        sha256,
        size,
        mime,
        now,
      ]);
      return { ...upload, size, mime };
    }
    throw withStatus(409, 'conflict', `this content is ${upload.size} bytes, not ${size}`, upload, now);
  });
  return viewOf(sql, upload, deviceId);
}

type ChunkOutcome = { upload: Upload; mismatch: false } | { upload: Upload; mismatch: true; got: string };

async function putChunk(
  sql: Sql,
  sha256: string,
  offset: number,
  chunk: Buffer,
  now: number,
  deviceId: string,
): Promise<ChunkOutcome> {
  return sql.tx(async (tx) => {
    const upload = await load(tx, sha256, true);
    if (!upload) throw new HttpError(404, 'not_found', 'no upload of this content: POST it first');
    if (upload.complete) {
      if (await holds(tx, sha256, deviceId)) throw withStatus(409, 'conflict', 'the upload is complete', upload, now);
      return prove(tx, upload, offset, chunk, now, deviceId);
    }
    if (offset !== upload.received) {
      throw withStatus(409, 'conflict', `the next chunk starts at ${upload.received}`, upload, now);
    }
    if (chunk.length === 0) throw new HttpError(400, 'bad_request', 'an empty chunk');
    if (offset + chunk.length > upload.size) {
      throw new HttpError(400, 'bad_request', `the chunk goes past the size (${upload.size})`);
    }
    await tx.query('INSERT INTO attachment_chunks (sha256, "offset", bytes) VALUES ($1, $2, $3)', [
      sha256,
      offset,
      chunk,
    ]);
    const received = offset + chunk.length;
    if (received < upload.size) {
      await tx.query('UPDATE attachments SET received = $2, updated_at = $3 WHERE sha256 = $1', [
        sha256,
        received,
        now,
      ]);
      return { upload: { ...upload, received }, mismatch: false };
    }
    const got = await digestOfChunks(tx, sha256, upload.size);
    if (got === sha256) {
      await tx.query('UPDATE attachments SET received = $2, complete = true, updated_at = $3 WHERE sha256 = $1', [
        sha256,
        received,
        now,
      ]);
      await addHolder(tx, sha256, deviceId, now);
      return { upload: { ...upload, received, complete: true }, mismatch: false };
    }
    // Not the content its address names: forget what came and start over.
    await tx.query('DELETE FROM attachment_chunks WHERE sha256 = $1', [sha256]);
    await tx.query('UPDATE attachments SET received = 0, updated_at = $2 WHERE sha256 = $1', [sha256, now]);
    return { upload: { ...upload, received: 0 }, mismatch: true, got };
  });
}

/** Bytes [first, last] of the stored content. */
async function storedRange(sql: Sql, sha256: string, first: number, last: number): Promise<Buffer> {
  const parts = await sql.query<{ offset: unknown; bytes: unknown }>(
    `SELECT "offset", bytes FROM attachment_chunks
      WHERE sha256 = $1 AND "offset" <= $3 AND "offset" + length(bytes) > $2 ORDER BY "offset"`,
    [sha256, first, last],
  );
  const out = Buffer.concat(parts.map((p) => bytes(p.bytes)));
  const start = parts.length > 0 ? first - Number(parts[0]!.offset) : 0;
  return out.subarray(start, start + (last - first + 1));
}

/** A chunk of a device's proof of complete content: equal to the stored bytes at its place, or the proof starts over. */
async function prove(
  tx: Sql,
  upload: Upload,
  offset: number,
  chunk: Buffer,
  now: number,
  deviceId: string,
): Promise<ChunkOutcome> {
  const received = await proofOf(tx, upload.sha256, deviceId, true);
  const mine = { ...upload, received, complete: false };
  if (offset !== received) throw withStatus(409, 'conflict', `the next chunk starts at ${received}`, mine, now);
  if (chunk.length === 0) throw new HttpError(400, 'bad_request', 'an empty chunk');
  if (offset + chunk.length > upload.size) {
    throw new HttpError(400, 'bad_request', `the chunk goes past the size (${upload.size})`);
  }
  const stored = await storedRange(tx, upload.sha256, offset, offset + chunk.length - 1);
  if (!stored.equals(chunk)) {
    await tx.query('DELETE FROM attachment_proofs WHERE sha256 = $1 AND device_id = $2', [upload.sha256, deviceId]);
    const got = createHash('sha256').update(chunk).digest('hex');
    return { upload: { ...mine, received: 0 }, mismatch: true, got };
  }
  const next = offset + chunk.length;
  if (next === upload.size) {
    await addHolder(tx, upload.sha256, deviceId, now);
    return { upload, mismatch: false };
  }
  await tx.query(
    `INSERT INTO attachment_proofs (sha256, device_id, received, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (sha256, device_id) DO UPDATE SET received = EXCLUDED.received, updated_at = EXCLUDED.updated_at`,
    [upload.sha256, deviceId, next, now],
  );
  return { upload: { ...mine, received: next }, mismatch: false };
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

export const routes: Route[] = [
  {
    method: 'POST',
    pattern: '/v1/attachments/:sha256',
    auth: 'device',
    handler: async (req, res, ctx) => {
      const sha256 = sha256Of(ctx);
      const body = await readJson(req, attachmentStart, 4096);
      const upload = await start(ctx.sql, sha256, body.size, body.mime, ctx.now(), deviceOf(ctx).deviceId);
      sendJson(res, 200, statusOf(upload, ctx.now()));
    },
  },
  {
    method: 'GET',
    pattern: '/v1/attachments/:sha256',
    auth: 'device',
    handler: async (_req, res, ctx) => {
      const upload = await load(ctx.sql, sha256Of(ctx));
      if (!upload) throw new HttpError(404, 'not_found', 'no upload of this content');
      sendJson(res, 200, statusOf(await viewOf(ctx.sql, upload, deviceOf(ctx).deviceId), ctx.now()));
    },
  },
  {
    method: 'PUT',
    pattern: '/v1/attachments/:sha256',
    auth: 'device',
    handler: async (req, res, ctx) => {
      const sha256 = sha256Of(ctx);
      const offsetText = ctx.query.get('offset') ?? '';
      if (!/^\d{1,15}$/.test(offsetText)) throw new HttpError(400, 'bad_request', 'offset: a whole number of bytes');
      const chunk = await readBody(req, MAX_CHUNK_BYTES);
      const outcome = await putChunk(ctx.sql, sha256, Number(offsetText), chunk, ctx.now(), deviceOf(ctx).deviceId);
      if (outcome.mismatch) {
        throw withStatus(
          422,
          'digest_mismatch',
          `the content's SHA-256 is ${outcome.got}: the upload starts over`,
          outcome.upload,
          ctx.now(),
        );
      }
      sendJson(res, 200, statusOf(outcome.upload, ctx.now()));
    },
  },
  {
    method: 'GET',
    pattern: '/v1/attachments/:sha256/content',
    auth: 'device',
    handler: async (req, res, ctx) => {
      const sha256 = sha256Of(ctx);
      const upload = await load(ctx.sql, sha256);
      if (!upload) throw new HttpError(404, 'not_found', 'no such content');
      if (!upload.complete) throw withStatus(409, 'conflict', 'the upload is not complete', upload, ctx.now());
      // Content this device may not read is answered as content that is not here.
      if (!(await mayRead(ctx.sql, sha256, deviceOf(ctx)))) throw new HttpError(404, 'not_found', 'no such content');
      const range = parseRange(req.headers.range, upload.size);
      const headers = {
        'Content-Type': upload.mime,
        'Accept-Ranges': 'bytes',
        ETag: `"${sha256}"`,
        'Cache-Control': 'private, max-age=31536000, immutable',
      };
      if (range === 'unsatisfiable') {
        const text = JSON.stringify({ error: 'range_not_satisfiable', serverTime: ctx.now() });
        res.writeHead(416, {
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Length': Buffer.byteLength(text),
          'Content-Range': `bytes */${upload.size}`,
        });
        res.end(text);
        return;
      }
      const [first, last] = range ?? [0, upload.size - 1];
      res.writeHead(range ? 206 : 200, {
        ...headers,
        'Content-Length': last - first + 1,
        ...(range ? { 'Content-Range': `bytes ${first}-${last}/${upload.size}` } : {}),
      });
      await streamContent(ctx.sql, res, sha256, first, last);
    },
  },
];
