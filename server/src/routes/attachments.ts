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
 * Everything lives in the database (`attachments`, `attachment_chunks`) and
 * each step takes the upload's row lock, so any server instance on the same
 * database serves the next chunk. Memory stays bounded: one chunk at a time
 * in, out and through the hash.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { z } from 'zod';
import { bytes, type Sql } from '../db/sql.js';
import { HttpError, readBody, readJson, sendJson, type Route, type RouteContext } from '../http.js';
import { attachmentStart, MAX_CHUNK_BYTES, type attachmentStatus } from '../protocol.js';

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

async function start(sql: Sql, sha256: string, size: number, mime: string, now: number): Promise<Upload> {
  return sql.tx(async (tx) => {
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
}

type ChunkOutcome = { upload: Upload; mismatch: false } | { upload: Upload; mismatch: true; got: string };

async function putChunk(sql: Sql, sha256: string, offset: number, chunk: Buffer, now: number): Promise<ChunkOutcome> {
  return sql.tx(async (tx) => {
    const upload = await load(tx, sha256, true);
    if (!upload) throw new HttpError(404, 'not_found', 'no upload of this content: POST it first');
    if (upload.complete) throw withStatus(409, 'conflict', 'the upload is complete', upload, now);
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
      return { upload: { ...upload, received, complete: true }, mismatch: false };
    }
    // Not the content its address names: forget what came and start over.
    await tx.query('DELETE FROM attachment_chunks WHERE sha256 = $1', [sha256]);
    await tx.query('UPDATE attachments SET received = 0, updated_at = $2 WHERE sha256 = $1', [sha256, now]);
    return { upload: { ...upload, received: 0 }, mismatch: true, got };
  });
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
      const upload = await start(ctx.sql, sha256, body.size, body.mime, ctx.now());
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
      sendJson(res, 200, statusOf(upload, ctx.now()));
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
      const outcome = await putChunk(ctx.sql, sha256, Number(offsetText), chunk, ctx.now());
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
