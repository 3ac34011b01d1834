/**
 * The reference central server. This is its skeleton: it answers its health
 * check with the protocol version and the server's clock (which workstations
 * use to detect a clock that is off); the sync issue adds the database, the
 * push/pull endpoints, enrolment and look-ups.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const PROTOCOL_VERSION = 1;

export interface ServerOptions {
  port?: number;
  host?: string;
  version?: string;
  now?: () => number;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const now = options.now ?? Date.now;
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://server').pathname;
    if (req.method === 'GET' && path === '/health') {
      return json(res, 200, { status: 'ok', protocolVersion: PROTOCOL_VERSION, serverTime: now() });
    }
    if (req.method === 'GET' && path === '/version') {
      return json(res, 200, { version: options.version ?? '0.1.0', protocolVersion: PROTOCOL_VERSION });
    }
    return json(res, 404, { error: 'not_found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
