/**
 * The addresses the workstation accepts for its central server, and the
 * HTTPS transport's behaviour the sync client relies on: a time limit stays a
 * TimeoutError (the client's 'timeout'), a CA file that is not one is refused
 * at the start.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncClient, SyncError } from '../sync/client.js';
import { tlsTestCa } from './testing.js';
import { isLoopbackHost, serverTransport, serverTransportFromFile, serverUrlProblem } from './transport.js';

describe('the central server address', () => {
  it('takes https:// anywhere and http:// to loopback only', () => {
    for (const ok of [
      'https://qyzmet.example.kz',
      'https://10.1.2.3:8443',
      'http://127.0.0.1:8787',
      'http://127.8.9.10',
      'http://localhost:8787',
      'http://[::1]:8787',
    ])
      expect(serverUrlProblem(ok), ok).toBeNull();
    for (const bad of [
      'http://qyzmet.example.kz',
      'http://10.1.2.3:8787',
      'http://128.0.0.1',
      'http://localhost.example.kz',
      'http://[::2]',
      'ftp://127.0.0.1',
      'not a url',
    ])
      expect(serverUrlProblem(bad), bad).toBe('insecure-url');
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
  });
});

describe('the HTTPS transport', () => {
  let dir: string;
  let server: Server;
  let url: string;
  let caFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qyzmet-transport-'));
    const ca = tlsTestCa(join(dir, 'ca'));
    caFile = ca.caFile;
    const cert = ca.issue('server', ['IP:127.0.0.1']);
    // Answers /health; never answers anything else (a stalled server).
    server = createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      if (req.url === '/health') res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers through the pinned CA, and a stalled answer is a timeout', async () => {
    const transport = serverTransportFromFile(caFile);
    try {
      const res = await transport.fetch(new URL('/health', url));
      expect(await res.json()).toEqual({ status: 'ok' });
      const client = new SyncClient({ serverUrl: url, fetch: transport.fetch, timeoutMs: 200 });
      const e = await client.token('d', 's').catch((err: unknown) => err);
      expect(e).toBeInstanceOf(SyncError);
      expect((e as SyncError).kind).toBe('timeout');
    } finally {
      transport.close();
    }
  });

  it('refuses a CA file that holds no certificate', () => {
    const file = join(dir, 'not-a-ca.pem');
    writeFileSync(file, 'nothing here');
    expect(() => serverTransportFromFile(file)).toThrow(/no PEM certificate/);
    expect(() => serverTransportFromFile(join(dir, 'missing.pem'))).toThrow(/cannot read/);
    serverTransport().close();
  });
});
