import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Handlers } from '../rpc.js';
import { startBridge, WS_PROTOCOL, type Bridge } from './bridge.js';

const APP_INFO = {
  version: '9.9.9',
  transport: 'bridge',
  databasePath: '/tmp/x.db',
  database: { check: 'ok', backupPath: null },
};

const handlers = {
  'app.info': () => APP_INFO,
  'preferences.set': (input: { language?: 'kk' | 'ru' | 'en' }) => ({
    language: input.language ?? 'kk',
    theme: 'dark',
  }),
  'sync.status': () => {
    throw new Error('SQLITE_BUSY: database is locked at /secret/path');
  },
} as unknown as Handlers;

/** A raw HTTP request, so that Host and Origin can be set as an attacker would. */
function raw(
  bridge: Bridge,
  options: { path: string; method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: bridge.port,
        path: options.path,
        method: options.method ?? 'GET',
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

let bridge: Bridge;
let host: string;
let staticDir: string;

beforeAll(async () => {
  staticDir = mkdtempSync(join(tmpdir(), 'qyzmet-static-'));
  mkdirSync(join(staticDir, 'assets'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Qyzmet</title>');
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  bridge = await startBridge({ handlers, staticDir, log: { error: () => {} } });
  host = `127.0.0.1:${bridge.port}`;
});
afterAll(() => bridge.close());

const call = (channel: string, input: unknown, headers: Record<string, string> = {}) =>
  raw(bridge, {
    path: `/rpc/${channel}`,
    method: 'POST',
    headers: {
      Host: host,
      'Content-Type': 'application/json',
      Authorization: `Bearer ${bridge.secret}`,
      ...headers,
    },
    body: JSON.stringify(input),
  });

describe('loopback bridge', () => {
  it('listens on 127.0.0.1, a random port, with a fresh 256-bit secret', async () => {
    expect(bridge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(bridge.port).toBeGreaterThan(0);
    expect(bridge.secret).toMatch(/^[0-9a-f]{64}$/);
    const other = await startBridge({ handlers });
    expect(other.secret).not.toBe(bridge.secret);
    expect(other.port).not.toBe(bridge.port);
    await other.close();
  });

  it('answers a call with the right secret, from the page’s own origin', async () => {
    const res = await call('app.info', {}, { Origin: bridge.url });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      ok: true,
      value: APP_INFO,
    });
  });

  it('refuses a missing secret', async () => {
    const res = await call('app.info', {}, { Authorization: '' });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual({ ok: false, refused: 'secret_missing' });
  });

  it('refuses a wrong secret', async () => {
    const res = await call('app.info', {}, { Authorization: `Bearer ${'0'.repeat(64)}` });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual({ ok: false, refused: 'secret_wrong' });
    const short = await call('app.info', {}, { Authorization: 'Bearer abc' });
    expect(JSON.parse(short.body)).toEqual({ ok: false, refused: 'secret_wrong' });
  });

  it.each([`evil.example:${0}`, 'evil.example', '127.0.0.1', '0.0.0.0:80'])(
    'refuses another Host (%s), even with the secret',
    async (h) => {
      const res = await call('app.info', {}, { Host: h });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toEqual({ ok: false, refused: 'host' });
    },
  );

  it.each(['https://evil.example', 'null', 'http://127.0.0.1:1'])(
    'refuses another Origin (%s), even with the secret',
    async (origin) => {
      const res = await call('app.info', {}, { Origin: origin });
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toEqual({ ok: false, refused: 'origin' });
    },
  );

  it('refuses a form post (no JSON content type), unknown calls and bad JSON', async () => {
    expect((await call('app.info', {}, { 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await call('shell.exec', {})).status).toBe(404);
    expect((await call('__proto__', {})).status).toBe(404);
    const bad = await raw(bridge, {
      path: '/rpc/app.info',
      method: 'POST',
      headers: { Host: host, 'Content-Type': 'application/json', Authorization: `Bearer ${bridge.secret}` },
      body: '{not json',
    });
    expect(bad.status).toBe(400);
  });

  it('validates input like the IPC path does', async () => {
    const res = await call('preferences.set', { language: 'de' });
    expect(JSON.parse(res.body)).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
  });

  it('never sends a handler’s internal error text to the page', async () => {
    const res = await call('sync.status', {});
    expect(JSON.parse(res.body)).toEqual({ ok: false, error: { code: 'internal', messageKey: 'errors.internal' } });
    expect(res.body).not.toContain('secret');
  });

  it('serves the built renderer with the CSP and refuses paths out of its folder', async () => {
    const index = await raw(bridge, { path: '/', headers: { Host: host } });
    expect(index.status).toBe(200);
    expect(index.body).toContain('<title>Qyzmet</title>');
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['content-security-policy']).toContain(`ws://127.0.0.1:${bridge.port}`);
    expect((await raw(bridge, { path: '/assets/app.js', headers: { Host: host } })).headers['content-type']).toMatch(
      /javascript/,
    );
    expect((await raw(bridge, { path: '/journal', headers: { Host: host } })).body).toContain('Qyzmet');
    expect((await raw(bridge, { path: '/..%2f..%2fetc%2fpasswd', headers: { Host: host } })).status).toBe(404);
    expect((await raw(bridge, { path: '/', headers: { Host: 'evil.example' } })).status).toBe(403);
  });
});

describe('loopback bridge over WebSocket', () => {
  const open = (protocols: string[], headers: Record<string, string> = {}) =>
    new Promise<{ ws: WebSocket | null; status: number | null }>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${bridge.port}/events`, protocols, { headers });
      ws.on('open', () => resolve({ ws, status: null }));
      ws.on('unexpected-response', (_req, res) => resolve({ ws: null, status: res.statusCode ?? null }));
      ws.on('error', () => resolve({ ws: null, status: -1 }));
    });

  it('answers calls with the secret', async () => {
    const { ws } = await open([WS_PROTOCOL, `secret.${bridge.secret}`], { Origin: bridge.url });
    expect(ws).not.toBeNull();
    const answer = new Promise<unknown>((resolve) => ws!.once('message', (d) => resolve(JSON.parse(String(d)))));
    ws!.send(JSON.stringify({ id: 7, channel: 'app.info', input: {} }));
    expect(await answer).toEqual({
      id: 7,
      result: { ok: true, value: APP_INFO },
    });
    ws!.close();
  });

  it('refuses a missing secret, a wrong secret, another Origin and another Host', async () => {
    expect((await open([WS_PROTOCOL])).status).toBe(401);
    expect((await open([WS_PROTOCOL, `secret.${'f'.repeat(64)}`])).status).toBe(401);
    expect((await open([WS_PROTOCOL, `secret.${bridge.secret}`], { Origin: 'https://evil.example' })).status).toBe(403);
    expect((await open([WS_PROTOCOL, `secret.${bridge.secret}`], { Host: 'evil.example' })).status).toBe(403);
  });
});
