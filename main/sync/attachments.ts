/**
 * The workstation's attachment transfers (core/protocol.ts, attachment
 * section): an upload in chunks that resumes from the server's status, and
 * a download checked against its address.
 *
 * Uploading content the server may already hold (another office's) is the
 * same as uploading new content: the server answers a start as for content
 * it does not have, unless this office may read it already (then it says
 * complete and nothing is sent). Sending the whole is the proof of
 * possession; its last chunk makes this office a holder.
 *
 * Failures come back as SyncError (client.ts) with the server's code: a
 * rate limit is waited out a few times (Retry-After, bounded), then it is a
 * transient 'server' failure the caller retries later.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { attachmentStatus, errorBody, MAX_CHUNK_BYTES } from '#core/protocol.js';
import { parseWith, SyncError } from './client.js';

export type AttachmentStatus = z.infer<typeof attachmentStatus>;

/** What to upload: its address, size and type, and its bytes read a chunk at a time. */
export interface AttachmentSource {
  sha256: string;
  size: number;
  mime: string;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A source over bytes in memory. */
export function bytesSource(content: Uint8Array, mime: string): AttachmentSource {
  return {
    sha256: createHash('sha256').update(content).digest('hex'),
    size: content.length,
    mime,
    read: (offset, length) => Promise.resolve(content.subarray(offset, offset + length)),
  };
}

export interface AttachmentTransferOptions {
  serverUrl: string;
  fetch?: typeof fetch;
  /** Limit of one request. Default 60 s. */
  timeoutMs?: number;
  /** Waits for a rate limit (tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Rate-limit waits per transfer before giving up. Default 5. */
  maxWaits?: number;
  /** Longest single wait on a rate limit. Default 60 s. */
  maxWaitMs?: number;
}

interface Answer {
  status: number;
  text: string;
  retryAfter: string | null;
}

export class AttachmentTransfer {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly o: AttachmentTransferOptions) {
    this.fetch = o.fetch ?? globalThis.fetch;
    this.sleep = o.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Uploads `source` (resuming an upload begun before); its final status, complete. */
  async upload(token: string, source: AttachmentSource): Promise<AttachmentStatus> {
    const at = `/v1/attachments/${source.sha256}`;
    const waits = { left: this.o.maxWaits ?? 5 };
    let status = this.statusOf(
      await this.call(token, 'POST', at, waits, JSON.stringify({ size: source.size, mime: source.mime })),
      'start',
    );
    let startedOver = false;
    while (!status.complete) {
      if (status.size !== source.size) {
        throw new SyncError('rejected-request', `the server's upload is ${status.size} bytes, not ${source.size}`);
      }
      const chunk = await source.read(status.received, Math.min(MAX_CHUNK_BYTES, source.size - status.received));
      const answer = await this.call(token, 'PUT', `${at}?offset=${status.received}`, waits, chunk);
      if (answer.status === 200) {
        status = parseWith(attachmentStatus, answer.text, 'attachment status');
        continue;
      }
      const failure = errorOf(answer.text);
      // Not where the server is (an earlier chunk arrived after all): go on from its status.
      if (answer.status === 409 && failure?.code === 'conflict' && failure.status) {
        status = failure.status;
        continue;
      }
      // The whole did not hash to its address (bytes spoilt on the way): once more from the start.
      if (answer.status === 422 && failure?.code === 'digest_mismatch' && failure.status && !startedOver) {
        startedOver = true;
        status = failure.status;
        continue;
      }
      throw this.failure(answer);
    }
    return status;
  }

  /** The content at `sha256`, checked against it. */
  async download(token: string, sha256: string): Promise<Buffer> {
    const waits = { left: this.o.maxWaits ?? 5 };
    for (;;) {
      const res = await this.send(token, 'GET', `/v1/attachments/${sha256}/content`);
      let body: Buffer;
      try {
        body = Buffer.from(await res.arrayBuffer());
      } catch (e) {
        throw cut(e);
      }
      if (res.status === 200) {
        if (createHash('sha256').update(body).digest('hex') !== sha256) {
          throw new SyncError('malformed', 'the downloaded content does not hash to its address');
        }
        return body;
      }
      const answer = { status: res.status, text: body.toString('utf8'), retryAfter: res.headers.get('retry-after') };
      if (!(await this.waitOut(answer, waits))) throw this.failure(answer);
    }
  }

  private statusOf(answer: Answer, what: string): AttachmentStatus {
    if (answer.status !== 200) throw this.failure(answer);
    return parseWith(attachmentStatus, answer.text, `attachment ${what}`);
  }

  /** One call, a rate limit waited out while waits are left. */
  private async call(
    token: string,
    method: 'POST' | 'PUT',
    path: string,
    waits: { left: number },
    body: string | Uint8Array,
  ): Promise<Answer> {
    for (;;) {
      const res = await this.send(token, method, path, body);
      let text: string;
      try {
        text = await res.text();
      } catch (e) {
        throw cut(e);
      }
      const answer = { status: res.status, text, retryAfter: res.headers.get('retry-after') };
      if (!(await this.waitOut(answer, waits))) return answer;
    }
  }

  /** Waits as a 429 asks when waits are left; whether it did. */
  private async waitOut(answer: Answer, waits: { left: number }): Promise<boolean> {
    if (answer.status !== 429 || waits.left <= 0) return false;
    waits.left--;
    const seconds = Number(answer.retryAfter);
    const ms = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000;
    await this.sleep(Math.min(ms, this.o.maxWaitMs ?? 60_000));
    return true;
  }

  private async send(token: string, method: string, path: string, body?: string | Uint8Array): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
    if (typeof body === 'string') headers['Content-Type'] = 'application/json';
    else if (body) headers['Content-Type'] = 'application/octet-stream';
    try {
      return await this.fetch(new URL(path, this.o.serverUrl), {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 60_000),
      });
    } catch (e) {
      if (e instanceof Error && e.name === 'TimeoutError') throw new SyncError('timeout', 'no answer from the server');
      throw new SyncError('network', `cannot reach the server: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private failure(answer: Answer): SyncError {
    const failure = errorOf(answer.text);
    const code = failure?.code;
    const what = `${answer.status}${code ? ` ${code}` : ''}`;
    const details = { status: answer.status, ...(code ? { code } : {}) };
    if (answer.status === 401) return new SyncError('unauthorized', `not authorised (${what})`, details);
    // A rate limit still on after the waits: worth another try later, like a server failure.
    if (answer.status === 429 || answer.status >= 500) return new SyncError('server', `server busy (${what})`, details);
    return new SyncError('rejected-request', `the server refused the transfer (${what})`, details);
  }
}

/** The error code of a failure's body, and the upload status it carries (conflict, digest_mismatch). */
function errorOf(text: string): { code: string; status: AttachmentStatus | null } | null {
  try {
    const value = JSON.parse(text) as { status?: unknown };
    const parsed = errorBody.safeParse(value);
    if (!parsed.success) return null;
    const status = attachmentStatus.safeParse(value.status);
    return { code: parsed.data.error, status: status.success ? status.data : null };
  } catch {
    return null;
  }
}

function cut(e: unknown): SyncError {
  if (e instanceof Error && e.name === 'TimeoutError') return new SyncError('timeout', 'the answer stalled');
  return new SyncError('malformed', `the server's answer was cut: ${e instanceof Error ? e.message : String(e)}`);
}
