/**
 * The fault proxy itself, in front of a small counting server: each fault
 * does what the sync tests rely on (whether the server saw the request, what
 * the client sees), rules are used up in order, and the proxy can be
 * switched and re-pointed while running.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { notJson, serverError, startFaultProxy, wrongShape, type FaultProxy } from './fault-proxy.js';

interface Upstream {
  url: string;
  seen: { method: string; path: string; body: string }[];
  close(): Promise<void>;
}

/** Answers every request with JSON naming what it got; GET /big answers 10,000 bytes. */
async function startUpstream(tag = 'a'): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      seen.push({ method: req.method ?? '', path, body: Buffer.concat(chunks).toString('utf8') });
      const body =
        path === '/big'
          ? JSON.stringify({ tag, filler: 'x'.repeat(10_000 - JSON.stringify({ tag, filler: '' }).length) })
          : JSON.stringify({ tag, n: seen.length, body: Buffer.concat(chunks).toString('utf8') });
      if (path === '/stream') {
        // Chunked, no Content-Length: as the NDJSON snapshot is sent.
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        for (let i = 0; i < 100; i++) res.write(JSON.stringify({ line: i, tag }) + '\n');
        res.end();
        return;
      }
      res.writeHead(path === '/missing' ? 404 : 200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let upstream: Upstream;
let proxy: FaultProxy;

beforeAll(async () => {
  upstream = await startUpstream();
  proxy = await startFaultProxy(upstream.url);
});
afterAll(async () => {
  await proxy.close();
  await upstream.close();
});
afterEach(() => {
  proxy.reset();
  upstream.seen.length = 0;
});

const post = (path: string, body: string, signal?: AbortSignal) =>
  fetch(proxy.url + path, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal });

describe('fault proxy', () => {
  it('passes requests and answers through unchanged, status included', async () => {
    const res = await post('/v1/push?x=1', '{"a":1}');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ tag: 'a', n: 1, body: '{"a":1}' });
    expect(upstream.seen).toEqual([{ method: 'POST', path: '/v1/push', body: '{"a":1}' }]);
    const missing = await fetch(proxy.url + '/missing');
    expect(missing.status).toBe(404);
    expect(proxy.log.at(-1)).toMatchObject({ method: 'GET', path: '/missing', fault: 'pass', upstreamStatus: 404 });
  });

  it('streams a chunked answer through whole', async () => {
    const text = await (await fetch(proxy.url + '/stream')).text();
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(100);
    expect(JSON.parse(lines[99]!)).toEqual({ line: 99, tag: 'a' });
  });

  it('drops the connection before forwarding: the server never sees the request', async () => {
    proxy.setDefault({ kind: 'dropBeforeForward' });
    const before = proxy.forwarded('/v1/push');
    await expect(post('/v1/push', '{}')).rejects.toThrow();
    expect(upstream.seen).toHaveLength(0);
    expect(proxy.forwarded('/v1/push')).toBe(before);
    expect(proxy.log.at(-1)).toMatchObject({ fault: 'dropBeforeForward', upstreamStatus: null });
  });

  it('drops the connection after forwarding: the server applied it, the client heard nothing', async () => {
    proxy.add({ path: '/v1/push', fault: { kind: 'dropAfterForward' }, times: 1 });
    await expect(post('/v1/push', '{"seq":1}')).rejects.toThrow();
    expect(upstream.seen.map((s) => s.body)).toEqual(['{"seq":1}']);
    // The retry goes through: the server sees the same request twice (a duplicate delivery).
    const retry = await post('/v1/push', '{"seq":1}');
    expect(((await retry.json()) as { n: number }).n).toBe(2);
    expect(upstream.seen.map((s) => s.body)).toEqual(['{"seq":1}', '{"seq":1}']);
  });

  it('truncates an answer with a Content-Length after N bytes: the client reads a short body and an error', async () => {
    proxy.setDefault({ kind: 'truncate', bytes: 100 });
    const res = await fetch(proxy.url + '/big');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe('10000');
    const reader = res.body!.getReader();
    let got = 0;
    const read = async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        got += value.length;
      }
    };
    await expect(read()).rejects.toThrow();
    expect(got).toBe(100);
    expect(upstream.seen).toHaveLength(1);
  });

  it('truncates a chunked stream: the client never sees the end of it', async () => {
    proxy.setDefault({ kind: 'truncate', bytes: 500 });
    const res = await fetch(proxy.url + '/stream');
    await expect(res.text()).rejects.toThrow();
  });

  it('cuts an answer shorter than N one byte short of its end', async () => {
    proxy.setDefault({ kind: 'truncate', bytes: 1_000_000 });
    const res = await fetch(proxy.url + '/big');
    const reader = res.body!.getReader();
    let got = 0;
    const read = async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        got += value.length;
      }
    };
    await expect(read()).rejects.toThrow();
    expect(got).toBe(9_999);
  });

  it('truncates to nothing: headers only, then the connection closes', async () => {
    proxy.setDefault({ kind: 'truncate', bytes: 0 });
    const res = await fetch(proxy.url + '/big');
    await expect(res.text()).rejects.toThrow();
  });

  it('delays a request past the client timeout; the late request still reaches the server', async () => {
    proxy.setDefault({ kind: 'delay', ms: 400 });
    const t = performance.now();
    await expect(post('/v1/push', '{"late":true}', AbortSignal.timeout(100))).rejects.toThrow();
    expect(performance.now() - t).toBeLessThan(350);
    expect(upstream.seen).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(upstream.seen.map((s) => s.body)).toEqual(['{"late":true}']);
  });

  it('delays an answer: the server has applied it before the client times out', async () => {
    proxy.setDefault({ kind: 'delay', ms: 400, where: 'answer' });
    await expect(post('/v1/push', '{}', AbortSignal.timeout(150))).rejects.toThrow();
    expect(upstream.seen).toHaveLength(1);
    proxy.setDefault({ kind: 'delay', ms: 50, where: 'answer' });
    const res = await post('/v1/push', '{}');
    expect(((await res.json()) as { n: number }).n).toBe(2);
  });

  it('answers 503 itself without forwarding, or 500 after forwarding', async () => {
    proxy.add({ fault: serverError(503), times: 1 });
    const res = await post('/v1/push', '{}');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: 'internal' });
    expect(upstream.seen).toHaveLength(0);

    proxy.add({ fault: serverError(500, true), times: 1 });
    const after = await post('/v1/push', '{}');
    expect(after.status).toBe(500);
    expect(upstream.seen).toHaveLength(1);
    expect(proxy.log.at(-1)).toMatchObject({ fault: 'answer', upstreamStatus: 200 });
  });

  it('answers garbage: text that is not JSON, and JSON of the wrong shape', async () => {
    proxy.add({ fault: notJson(), times: 1 });
    proxy.add({ fault: wrongShape(true), times: 1 });
    const first = await post('/v1/push', '{}');
    expect(first.status).toBe(200);
    await expect(first.json()).rejects.toThrow();
    const second = (await (await post('/v1/push', '{}')).json()) as Record<string, unknown>;
    expect(second).toEqual({ results: 'nope', lastSeq: -1 });
    expect(upstream.seen).toHaveLength(1);
  });

  it('uses rules in order, by method and path, each up after its count', async () => {
    proxy.add({ method: 'GET', path: /^\/v1\/pull/, fault: serverError(503), times: 2 });
    proxy.add({ path: '/v1/push', fault: serverError(500), times: 1 });
    const statuses: number[] = [];
    for (const [method, path] of [
      ['GET', '/v1/pull'],
      ['POST', '/v1/push'],
      ['POST', '/v1/pull'],
      ['GET', '/v1/pull'],
      ['GET', '/v1/pull'],
      ['POST', '/v1/push'],
    ] as const) {
      statuses.push((await fetch(proxy.url + path, { method, body: method === 'POST' ? '{}' : undefined })).status);
    }
    expect(statuses).toEqual([503, 500, 200, 503, 200, 200]);
    expect(proxy.log.slice(-6).map((r) => r.fault)).toEqual(['answer', 'answer', 'pass', 'answer', 'pass', 'pass']);
  });

  it('drops the connection when the server is down, and follows a server that moved', async () => {
    const other = await startUpstream('b');
    const down = await startUpstream('c');
    await down.close();
    try {
      proxy.retarget(down.url);
      await expect(fetch(proxy.url + '/health')).rejects.toThrow();
      proxy.retarget(other.url);
      expect(await (await fetch(proxy.url + '/health')).json()).toMatchObject({ tag: 'b' });
    } finally {
      proxy.retarget(upstream.url);
      await other.close();
    }
  });
});
