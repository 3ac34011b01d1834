/**
 * The loopback servers, checked with openssl's own clients: what the trust
 * tests get from them is what a third party accepts too.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpExchange } from '../trust/http.js';
import { buildTimestampRequest, parseTimestampResponse } from '../trust/tsp.js';
import { standardPeople, TestPki } from './pki.js';
import {
  freePort,
  startBrokenServer,
  startCrlServer,
  startOcspResponder,
  startTsa,
  type OcspResponder,
  type Tsa,
} from './responders.js';

const run = promisify(execFile);

let dir: string;
let pki: TestPki;
let people: ReturnType<typeof standardPeople>;
let ocsp: OcspResponder;
let tsa: Tsa;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-responders-'));
  const port = await freePort();
  pki = new TestPki(join(dir, 'pki'), { ocspUrl: `http://127.0.0.1:${port}/` });
  people = standardPeople(pki);
  ocsp = await startOcspResponder(pki, { port });
  tsa = await startTsa(pki);
});

afterAll(async () => {
  await ocsp?.close();
  await tsa?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('OCSP responder', () => {
  it("answers openssl's client, and its answer verifies against the test chain", async () => {
    const { stdout } = await run('openssl', [
      'ocsp',
      '-issuer',
      pki.ca.certPath,
      '-cert',
      people.sign.certPath,
      '-url',
      ocsp.url,
      '-CAfile',
      pki.chainPath,
      '-timeout',
      '5',
    ]);
    expect(stdout).toContain(`${people.sign.certPath}: good`);
  });

  it('survives a restart on the same port', async () => {
    await ocsp.restart();
    const { stdout } = await run('openssl', [
      'ocsp',
      '-issuer',
      pki.ca.certPath,
      '-cert',
      people.head.certPath,
      '-url',
      ocsp.url,
      '-CAfile',
      pki.chainPath,
    ]);
    expect(stdout).toContain('good');
    expect(ocsp.output()).toMatch(/waiting for OCSP client connections/);
  });
});

describe('TSA', () => {
  it('stamps a query openssl then verifies against the same query and the test chain', async () => {
    const request = buildTimestampRequest(new TextEncoder().encode('stamp me'));
    const answer = await httpExchange(tsa.url, {
      method: 'POST',
      body: request.der,
      contentType: 'application/timestamp-query',
      timeoutMs: 10_000,
      maxBytes: 1 << 20,
    });
    if (!answer.ok) throw new Error(answer.message);
    const query = join(dir, 'q.tsq');
    const reply = join(dir, 'r.tsr');
    writeFileSync(query, request.der);
    writeFileSync(reply, answer.body);
    const { stdout } = await run('openssl', [
      'ts',
      '-verify',
      '-queryfile',
      query,
      '-in',
      reply,
      '-CAfile',
      pki.chainPath,
    ]);
    expect(stdout).toContain('Verification: OK');
    expect(tsa.answered).toBeGreaterThan(0);
  });

  it('answers a query it cannot read with a rejection, as RFC 3161 wants', async () => {
    const answer = await httpExchange(tsa.url, {
      method: 'POST',
      body: new Uint8Array([1, 2, 3]),
      timeoutMs: 10_000,
      maxBytes: 1 << 20,
    });
    if (!answer.ok) throw new Error(answer.message);
    expect(parseTimestampResponse(answer.body)).toMatchObject({
      status: 'rejection',
      failInfo: ['badDataFormat'],
      token: null,
    });
  });
});

describe('CRL and broken servers', () => {
  it('serves the CRL it is given, and 404 without one', async () => {
    const crl = pki.crl(24);
    const server = await startCrlServer(crl);
    try {
      const got = await httpExchange(server.url, { method: 'GET', timeoutMs: 2_000, maxBytes: 1 << 20 });
      expect(got.ok && Buffer.from(got.body).equals(crl)).toBe(true);
      const file = join(dir, 'served.crl');
      writeFileSync(file, got.ok ? got.body : new Uint8Array());
      const { stdout } = await run('openssl', ['crl', '-inform', 'DER', '-in', file, '-noout', '-issuer']);
      expect(stdout).toContain('QYZMET TEST CA (RSA)');
      server.set(null);
      expect(await httpExchange(server.url, { method: 'GET', timeoutMs: 2_000, maxBytes: 1 << 20 })).toMatchObject({
        ok: false,
        httpStatus: 404,
      });
      expect(server.requests).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('misbehaves in each mode, and closes even with a request hanging', async () => {
    const broken = await startBrokenServer('empty');
    const ask = () =>
      httpExchange(broken.url, { method: 'POST', body: new Uint8Array([1]), timeoutMs: 300, maxBytes: 1024 });
    try {
      expect(await ask()).toMatchObject({ ok: true, body: new Uint8Array() });
      broken.mode = 'garbage';
      const garbage = await ask();
      expect(garbage.ok && garbage.body.length).toBeGreaterThan(0);
      broken.mode = 'status500';
      expect(await ask()).toMatchObject({ ok: false, httpStatus: 500 });
      broken.mode = 'reset';
      expect(await ask()).toMatchObject({ ok: false, problem: 'unreachable' });
      broken.mode = 'hang';
      const pending = httpExchange(broken.url, { method: 'GET', timeoutMs: 5_000, maxBytes: 1024 });
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      await broken.close();
      expect(await pending).toMatchObject({ ok: false, problem: 'unreachable' });
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(broken.requests).toBe(5);
    } finally {
      await broken.close();
    }
  });

  it('finds free ports', async () => {
    const [a, b] = await Promise.all([freePort(), freePort()]);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(readFileSync(pki.indexPath, 'utf8')).toContain('V\t'); // the index openssl ocsp serves
  });
});
