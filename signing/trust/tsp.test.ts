import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSigningError } from '../errors.js';
import { TestPki } from '../testing/pki.js';
import { freePort, startBrokenServer, startTsa, TSA_POLICY, type Tsa } from '../testing/responders.js';
import { parseTimestampResponse, parseTimestampToken, requestTimestamp, verifyTimestampToken } from './tsp.js';

const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/nca-test/', import.meta.url));
const fixture = (name: string) => readFileSync(join(FIXTURES, name));

let dir: string;
let pki: TestPki;
let other: TestPki;
let tsa: Tsa;
const data = new TextEncoder().encode('the signature value of some CMS');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-tsp-'));
  pki = new TestPki(join(dir, 'pki'));
  other = new TestPki(join(dir, 'other'));
  tsa = await startTsa(pki);
});

afterAll(async () => {
  await tsa?.close();
  rmSync(dir, { recursive: true, force: true });
});

const trust = () => ({ intermediates: [pki.ca.certDer], trustedRoots: [pki.root.certDer] });

describe('the NCA test TSA fixtures', () => {
  it('reads the response: granted, with the token file inside it byte for byte', () => {
    const response = parseTimestampResponse(fixture('tsp-tsp_response.bin'));
    expect(response.status).toBe('granted');
    expect(response.failInfo).toEqual([]);
    expect(Buffer.from(response.token ?? []).equals(fixture('tsp-tsp_token.bin'))).toBe(true);
  });

  it('reads the token: time, serial, policy, SHA-1 imprint, nonce, the TSA certificate', () => {
    const info = parseTimestampToken(fixture('tsp-tsp_token.bin'));
    expect(info.genTime.toISOString()).toBe('2022-09-18T13:20:14.000Z');
    expect(info.serialNumber).toBe('5e846dd75d861154db10f13c54dc1f8d33fe6adc');
    expect(info.policy).toBe('1.2.398.3.3.2.6.1');
    expect(info.imprintAlgorithm).toBe('sha1');
    expect(Buffer.from(info.imprint).toString('hex')).toBe('1465dad126d32bf7aa5d3b95a5c7c331cdff34df');
    expect(info.nonce).toBe('18350c022d7');
    expect(info.signatureAlgorithm).toBe('1.2.398.3.10.1.1.1.2'); // GOST 34.310-2004
    const tsaCert = new X509Certificate(info.tsaCertificate ?? new Uint8Array());
    expect(tsaCert.subject).toContain('CN=СЕРВИС МЕТКИ ВРЕМЕНИ');
    expect(tsaCert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.8']); // node's name for the extended key usage
  });

  it('does not claim to check the GOST signature', () => {
    expect(verifyTimestampToken(fixture('tsp-tsp_token.bin'))).toMatchObject({
      ok: false,
      problem: 'signatureUnsupported',
    });
  });

  it('refuses garbage as malformed', () => {
    let error: unknown;
    try {
      parseTimestampToken(new Uint8Array([0x30, 0x00]));
    } catch (err) {
      error = err;
    }
    expect(isSigningError(error, 'malformedSignature')).toBe(true);
    expect(verifyTimestampToken(new Uint8Array([1, 2, 3]))).toMatchObject({ ok: false, problem: 'malformed' });
  });
});

describe('requestTimestamp against openssl ts', () => {
  it('gets a checked token: time near now, our imprint, the TSA certificate', async () => {
    const result = await requestTimestamp(tsa.url, data, { trust: trust() });
    if (!result.token) throw new Error(`${result.reason}: ${result.message}`);
    const { info } = result;
    expect(Math.abs(info.genTime.getTime() - Date.now())).toBeLessThan(60_000);
    expect(info.imprintAlgorithm).toBe('sha256');
    expect(Buffer.from(info.imprint).equals(createHash('sha256').update(data).digest())).toBe(true);
    expect(info.policy).toBe(TSA_POLICY);
    expect(info.accuracy).toEqual({ seconds: 1, millis: 0, micros: 0 });
    expect(Buffer.from(info.tsaCertificate ?? []).equals(pki.tsa.certDer)).toBe(true);

    // The token stands on its own afterwards.
    expect(parseTimestampToken(result.token).serialNumber).toBe(info.serialNumber);
    expect(verifyTimestampToken(result.token, { data, trust: trust() })).toMatchObject({ ok: true });
    expect(verifyTimestampToken(result.token, { data: new Uint8Array([1]) })).toMatchObject({
      ok: false,
      problem: 'imprintMismatch',
    });
    expect(
      verifyTimestampToken(result.token, {
        trust: { intermediates: [other.ca.certDer], trustedRoots: [other.root.certDer] },
      }),
    ).toMatchObject({ ok: false, problem: 'tsaUntrusted' });

    const tampered = Buffer.from(result.token);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 3) ^ 0x01, tampered.length - 3); // inside the signature value
    expect(verifyTimestampToken(tampered, { data })).toMatchObject({ ok: false, problem: 'signatureInvalid' });
  });

  it('refuses a validly signed token for other data or another nonce', async () => {
    try {
      tsa.mode = 'otherImprint';
      expect(await requestTimestamp(tsa.url, data)).toMatchObject({ token: null, reason: 'imprintMismatch' });
      tsa.mode = 'otherNonce';
      expect(await requestTimestamp(tsa.url, data)).toMatchObject({ token: null, reason: 'nonceMismatch' });
    } finally {
      tsa.mode = 'ok';
    }
  });

  it('reports a refusal (a policy the TSA does not serve)', async () => {
    const result = await requestTimestamp(tsa.url, data, { policy: '1.2.3.4.5' });
    expect(result.token).toBeNull();
    if (result.token) return;
    expect(result.reason).toBe('rejected');
    expect(result.message).toContain('unacceptedPolicy');
  });

  it('refuses a TSA that does not chain to the trusted roots', async () => {
    const result = await requestTimestamp(tsa.url, data, {
      trust: { intermediates: [other.ca.certDer], trustedRoots: [other.root.certDer] },
    });
    expect(result).toMatchObject({ token: null, reason: 'tsaUntrusted' });
  });
});

describe('an unreachable or broken TSA', () => {
  it('returns no token and the reason, within the deadline', async () => {
    const closed = await freePort();
    expect(await requestTimestamp(`http://127.0.0.1:${closed}/`, data, { timeoutMs: 1_000 })).toMatchObject({
      token: null,
      reason: 'unreachable',
    });
    const broken = await startBrokenServer('hang');
    try {
      const started = Date.now();
      expect(await requestTimestamp(broken.url, data, { timeoutMs: 300 })).toMatchObject({
        token: null,
        reason: 'timeout',
      });
      expect(Date.now() - started).toBeLessThan(2_000);
      broken.mode = 'garbage';
      expect(await requestTimestamp(broken.url, data)).toMatchObject({ token: null, reason: 'malformed' });
      broken.mode = 'status500';
      expect(await requestTimestamp(broken.url, data)).toMatchObject({ token: null, reason: 'httpError' });
      broken.mode = 'reset';
      expect(await requestTimestamp(broken.url, data)).toMatchObject({ token: null, reason: 'unreachable' });
    } finally {
      await broken.close();
    }
  });
});
