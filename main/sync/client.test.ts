/**
 * The protocol client against small node:http servers that answer exactly
 * what each test needs: every failure comes back as a SyncError of the
 * right kind (never a crash), cut and non-JSON answers included, and the
 * clock offset is read from each answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { SnapshotLine } from '#core/protocol.js';
import { SyncClient, SyncError } from './client.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const servers: Server[] = [];

async function serve(handler: Handler): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const TOKEN_ANSWER = { accessToken: 'a'.repeat(32), expiresAt: 10_000, serverTime: 1_500 };
const DEVICE = '7f3c2a4e-2b1d-4c7e-9a51-0f6e8d2c1b3a';

async function failure(p: Promise<unknown>): Promise<SyncError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SyncError) return e;
    throw e;
  }
  throw new Error('expected a SyncError, the call succeeded');
}

describe('SyncClient', () => {
  it('validates an answer and reads the clock offset from it (local midpoint minus server time)', async () => {
    const url = await serve((_req, res) => json(res, 200, TOKEN_ANSWER));
    const times = [1_000, 3_000];
    const offsets: number[] = [];
    const reach: boolean[] = [];
    const client = new SyncClient({
      serverUrl: url,
      now: () => times.shift() ?? 3_000,
      onClock: (o) => offsets.push(o),
      onReach: (r) => reach.push(r),
    });
    const answer = await client.token(DEVICE, 's'.repeat(40));
    expect(answer.accessToken).toBe(TOKEN_ANSWER.accessToken);
    expect(offsets).toEqual([2_000 - 1_500]);
    expect(reach).toEqual([true]);
  });

  it('maps the statuses and error codes to kinds', async () => {
    const answers: [number, unknown][] = [
      [401, { error: 'unauthorized' }],
      [401, { error: 'device_revoked', message: 'revoked' }],
      [409, { error: 'gap', expectedSeq: 7 }],
      [426, { error: 'protocol_unsupported', minProtocolVersion: 2, protocolVersion: 3 }],
      [400, { error: 'bad_request' }],
      [503, { error: 'internal' }],
      [502, '<html>bad gateway</html>'],
      [409, { error: 'gap' }],
    ];
    let i = 0;
    const url = await serve((_req, res) => {
      const [status, body] = answers[i++]!;
      if (typeof body === 'string') {
        res.writeHead(status, { 'Content-Type': 'text/html' });
        res.end(body);
      } else json(res, status, body);
    });
    const client = new SyncClient({ serverUrl: url });
    const kinds: unknown[] = [];
    for (let n = 0; n < answers.length; n++) {
      const e = await failure(client.token(DEVICE, 's'.repeat(40)));
      kinds.push(e.kind === 'gap' ? [e.kind, e.details.expectedSeq] : e.kind);
    }
    expect(kinds).toEqual([
      'unauthorized',
      'revoked',
      ['gap', 7],
      'protocol',
      'rejected-request',
      'server',
      'server',
      'malformed',
    ]);
  });

  it('turns a truncated answer, a non-JSON answer and a wrong shape into malformed', async () => {
    let n = 0;
    const url = await serve((_req, res) => {
      n += 1;
      if (n === 1) {
        // Promises 500 bytes, sends 20, hangs up.
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 500 });
        res.write('{"accessToken":"aaaa');
        setTimeout(() => res.socket?.destroy(), 20);
      } else if (n === 2) {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<html>proxy error</html>');
      } else json(res, 200, { accessToken: 'short', expiresAt: -1 });
    });
    const client = new SyncClient({ serverUrl: url });
    for (let i = 0; i < 3; i++) {
      const e = await failure(client.token(DEVICE, 's'.repeat(40)));
      expect(e.kind).toBe('malformed');
      expect(e.transient).toBe(true);
    }
  });

  it('gives up after its time limit (timeout) and reports an unreachable server (network)', async () => {
    const url = await serve(() => {
      // Never answers.
    });
    const reach: boolean[] = [];
    const slow = new SyncClient({ serverUrl: url, timeoutMs: 150, onReach: (r) => reach.push(r) });
    const started = Date.now();
    expect((await failure(slow.health())).kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5_000);

    const closed = await serve(() => undefined);
    const server = servers.pop()!;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const gone = new SyncClient({ serverUrl: closed, onReach: (r) => reach.push(r) });
    expect((await failure(gone.health())).kind).toBe('network');
    expect(reach).toEqual([false, false]);
  });

  it('sends once more at once when the connection fails before any answer', async () => {
    let n = 0;
    const url = await serve((req, res) => {
      n += 1;
      // The first connection is dropped without a word, as a stale kept-alive one would be.
      if (n === 1) req.socket.destroy();
      else json(res, 200, TOKEN_ANSWER);
    });
    const answer = await new SyncClient({ serverUrl: url }).token(DEVICE, 's'.repeat(40));
    expect(answer.accessToken).toBe(TOKEN_ANSWER.accessToken);
    expect(n).toBe(2);
  });

  it('streams a snapshot line by line, across chunk borders', async () => {
    const lines: SnapshotLine[] = [
      { kind: 'header', partition: 'global', rows: 2, serverTime: 5_000 },
      {
        kind: 'row',
        row: {
          version: 1,
          entity: 'region',
          id: '1',
          op: 'upsert',
          data: { kato: '1', nameKk: 'Ә', nameRu: 'Я', nameEn: 'A' },
        },
      },
      {
        kind: 'row',
        row: {
          version: 2,
          entity: 'region',
          id: '2',
          op: 'upsert',
          data: { kato: '2', nameKk: 'Ө', nameRu: 'Ю', nameEn: 'B' },
        },
      },
      { kind: 'end', cursor: 'c2', version: 2, count: 2 },
    ];
    const body = Buffer.from(lines.map((l) => JSON.stringify(l) + '\n').join(''), 'utf8');
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      // Three bytes at a time: lines and multi-byte letters cut anywhere.
      let at = 0;
      const next = () => {
        if (at >= body.length) return res.end();
        res.write(body.subarray(at, at + 3));
        at += 3;
        setImmediate(next);
      };
      next();
    });
    const got: SnapshotLine[] = [];
    await new SyncClient({ serverUrl: url }).snapshot('t'.repeat(20), 'global', (l) => {
      got.push(l);
    });
    expect(got).toEqual(lines);
  });

  it('refuses a snapshot cut before its trailer, and a line that is not JSON', async () => {
    const header = JSON.stringify({ kind: 'header', partition: 'global', rows: 5, serverTime: 1 }) + '\n';
    let n = 0;
    const url = await serve((_req, res) => {
      n += 1;
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      if (n === 1) {
        res.write(header);
        setTimeout(() => res.socket?.destroy(), 20);
      } else if (n === 2) {
        res.end(header);
      } else res.end(header + '{"kind":"row", oops\n');
    });
    const client = new SyncClient({ serverUrl: url });
    for (let i = 0; i < 3; i++) {
      const seen: string[] = [];
      const e = await failure(client.snapshot('t'.repeat(20), 'global', (l) => void seen.push(l.kind)));
      expect(e.kind).toBe('malformed');
      expect(seen).toEqual(['header']);
    }
  });
});
