/**
 * The loopback bridge: the same contract handlers over HTTP and WebSocket on
 * 127.0.0.1, for the browser harness and the e2e tests. It listens on a random
 * port, requires a per-run secret on every call, and refuses other Host
 * headers (DNS rebinding) and other Origins (other web pages).
 *
 *   POST /rpc/<channel>   Authorization: Bearer <secret>, JSON body = input
 *   GET  /events          WebSocket, subprotocols ["qyzmet.v1", "secret.<secret>"]:
 *                         messages {id, channel, input} → {id, result}
 *   GET  /*               the built renderer (static), with the app's CSP
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { contentSecurityPolicy } from '../common/csp.js';
import { dispatch, isChannel, type DispatchLog, type Handlers } from '../rpc.js';
import { mimeType } from '../shell/policy.js';
import { resolveStaticFile } from './static.js';

export interface BridgeOptions {
  handlers: Handlers;
  /** Folder of the built renderer; omitted: only /rpc and /events are served. */
  staticDir?: string;
  /** Defaults to 32 random bytes, hex. */
  secret?: string;
  /** Defaults to 0: a random free port. */
  port?: number;
  log?: DispatchLog;
}

export interface Bridge {
  url: string;
  port: number;
  secret: string;
  /** The address to open in a browser: the secret rides in the fragment, never sent to a server. */
  openUrl: string;
  close(): Promise<void>;
}

export const WS_PROTOCOL = 'qyzmet.v1';
export const WS_SECRET_PREFIX = 'secret.';
const MAX_BODY = 1 << 20;

export type Refusal = 'host' | 'origin' | 'secret_missing' | 'secret_wrong';

/** Host must name this loopback port exactly (not a rebinding DNS name). */
export function hostAllowed(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/** A browser's Origin must be the harness's own; non-browser clients send none. */
export function originAllowed(origin: string | undefined, port: number): boolean {
  return origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
}

export function secretMatches(given: string | undefined, secret: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string' || !h.startsWith('Bearer ')) return undefined;
  return h.slice('Bearer '.length);
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

function refuse(res: ServerResponse, why: Refusal): void {
  send(res, why === 'host' || why === 'origin' ? 403 : 401, { ok: false, refused: why });
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const secret = options.secret ?? randomBytes(32).toString('hex');
  const { handlers, log } = options;
  let port = 0;
  let csp = '';

  const check = (req: IncomingMessage, token: string | undefined): Refusal | null => {
    if (!hostAllowed(req.headers.host, port)) return 'host';
    if (!originAllowed(req.headers.origin, port)) return 'origin';
    if (token === undefined || token === '') return 'secret_missing';
    if (!secretMatches(token, secret)) return 'secret_wrong';
    return null;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname.startsWith('/rpc/')) {
        const refusal = check(req, bearer(req));
        if (refusal) return refuse(res, refusal);
        if (req.method !== 'POST') return send(res, 405, { ok: false, refused: 'method' });
        if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
          return send(res, 415, { ok: false, refused: 'content_type' });
        const channel = decodeURIComponent(url.pathname.slice('/rpc/'.length));
        if (!isChannel(channel)) return send(res, 404, { ok: false, refused: 'unknown_call' });
        const text = await readBody(req);
        if (text === null) return send(res, 413, { ok: false, refused: 'too_large' });
        let input: unknown;
        try {
          input = text === '' ? {} : JSON.parse(text);
        } catch {
          return send(res, 400, { ok: false, refused: 'bad_json' });
        }
        return send(res, 200, await dispatch(handlers, channel, input, { transport: 'bridge' }, log));
      }
      if (!hostAllowed(req.headers.host, port)) return refuse(res, 'host');
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { ok: false, refused: 'method' });
      const file = options.staticDir ? resolveStaticFile(url.pathname, options.staticDir) : null;
      if (!file) return send(res, 404, { ok: false, refused: 'not_found' });
      try {
        const info = await stat(file);
        if (!info.isFile()) return send(res, 404, { ok: false, refused: 'not_found' });
        const body = await readFile(file);
        res.writeHead(200, {
          'Content-Type': mimeType(file),
          'Content-Security-Policy': csp,
          'X-Content-Type-Options': 'nosniff',
          'Referrer-Policy': 'no-referrer',
          'Cache-Control': 'no-cache',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch {
        send(res, 404, { ok: false, refused: 'not_found' });
      }
    })().catch(() => {
      if (!res.headersSent) send(res, 500, { ok: false, refused: 'internal' });
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_BODY,
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim());
    const token = offered.find((p) => p.startsWith(WS_SECRET_PREFIX))?.slice(WS_SECRET_PREFIX.length);
    const refusal = url.pathname === '/events' ? check(req, token) : 'host';
    if (refusal) {
      const status = refusal === 'host' || refusal === 'origin' ? '403 Forbidden' : '401 Unauthorized';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws));
  });

  function serveSocket(ws: WebSocket): void {
    ws.on('message', (data) => {
      void (async () => {
        let msg: { id?: unknown; channel?: unknown; input?: unknown };
        try {
          msg = JSON.parse(String(data)) as typeof msg;
        } catch {
          ws.send(JSON.stringify({ id: null, refused: 'bad_json' }));
          return;
        }
        const id = typeof msg.id === 'number' || typeof msg.id === 'string' ? msg.id : null;
        if (!isChannel(msg.channel)) {
          ws.send(JSON.stringify({ id, refused: 'unknown_call' }));
          return;
        }
        const result = await dispatch(handlers, msg.channel, msg.input, { transport: 'bridge' }, log);
        ws.send(JSON.stringify({ id, result }));
      })();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  csp = contentSecurityPolicy([`ws://127.0.0.1:${port}`, `ws://localhost:${port}`]);
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    port,
    secret,
    openUrl: `${url}/#bridge=${secret}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
