import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSigningError } from '../errors.js';
import { standardPeople, TestPki, type Person } from '../testing/pki.js';
import { freePort, startBrokenServer, startOcspResponder, type OcspResponder } from '../testing/responders.js';
import { parseCrl } from './crl.js';
import { httpExchange } from './http.js';
import {
  buildOcspRequest,
  checkOcsp,
  evaluateOcspAnswer,
  findResponse,
  parseOcspResponse,
  verifyOcspResponse,
} from './ocsp.js';

const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/nca-test/', import.meta.url));
const fixture = (name: string) => readFileSync(join(FIXTURES, name));

let dir: string;
let pki: TestPki;
let other: TestPki;
let people: ReturnType<typeof standardPeople>;
let responder: OcspResponder;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-ocsp-'));
  const port = await freePort();
  pki = new TestPki(join(dir, 'pki'), { ocspUrl: `http://127.0.0.1:${port}/` });
  other = new TestPki(join(dir, 'other')); // no AIA in its certificates
  people = standardPeople(pki);
  responder = await startOcspResponder(pki, { port });
});

afterAll(async () => {
  await responder?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the NCA test responder answers', () => {
  it('reads a good answer and checks it fully against the RSA CA (delegated responder)', () => {
    const response = parseOcspResponse(fixture('ocsp-ocsp_response_individual_sign_2004.bin'));
    expect(response.responseStatus).toBe('successful');
    expect(response.producedAt?.toISOString()).toBe('2022-09-02T16:53:59.000Z');
    expect(Buffer.from(response.nonce ?? []).toString('hex')).toBe('b5e5c9b552cbcac4');
    expect(response.certificates).toHaveLength(1);
    expect(response.responses).toHaveLength(1);
    const single = response.responses[0];
    expect(single?.status).toBe('good');
    expect(single?.certId.hashAlgorithm).toBe('2.16.840.1.101.3.4.2.1'); // the NCA answers with SHA-256 CertIDs
    expect(single?.certId.serial).toBe('4279390a141f5353a62947b61ed65e81741467d1');

    const ca = fixture('ca-nca_rsa_test.crt');
    // The CertID's hashes are the RSA CA's name and key.
    expect(findResponse(response, { serial: '4279390A141F5353A62947B61ED65E81741467D1', issuer: ca })).toBe(single);
    expect(findResponse(response, { serial: '4279390a', issuer: ca })).toBeNull();

    const at = new Date('2022-09-02T16:54:00Z');
    const nonce = new Uint8Array(Buffer.from('b5e5c9b552cbcac4', 'hex'));
    expect(verifyOcspResponse(response, { issuer: ca, nonce, now: at })).toMatchObject({
      ok: true,
      signer: 'delegated',
    });
    // NCANode's own "invalid nonce" case: another nonce makes the answer worthless.
    expect(
      verifyOcspResponse(response, { issuer: ca, nonce: new Uint8Array([255, 2, 253, 4, 251, 6, 249, 8]), now: at }),
    ).toMatchObject({ ok: false, problem: 'nonceMismatch' });
    // Its responder certificate has expired since.
    expect(verifyOcspResponse(response, { issuer: ca, nonce, now: new Date() })).toMatchObject({
      ok: false,
      problem: 'responderUntrusted',
    });
    // And it is no answer for another CA.
    expect(verifyOcspResponse(response, { issuer: pki.ca.certDer, nonce, now: at })).toMatchObject({ ok: false });
  });

  it('reads the revoked GOST answers (parse only) and matches their CertIDs', () => {
    const ceo2015 = parseOcspResponse(fixture('ocsp-ocsp_response_ceo_2015_revoked.bin'));
    expect(ceo2015.responses[0]).toMatchObject({
      status: 'revoked',
      revokedAt: new Date('2022-07-27T10:25:30Z'),
      reason: 'certificateHold',
    });
    const gost2015 = fixture('ca-nca_gost2015_test.cer');
    expect(
      findResponse(ceo2015, { serial: '3A90343E720594C55204B19CB9A402422EF0E622', issuer: gost2015 }),
    ).not.toBeNull();
    // The 2022 GOST CA's CRL says the same about that certificate.
    expect(
      parseCrl(fixture('crl-nca_gost2022_test.crl')).revoked.get('3a90343e720594c55204b19cb9a402422ef0e622')?.revokedAt,
    ).toEqual(new Date('2022-07-27T10:25:30Z'));
    expect(verifyOcspResponse(ceo2015, { issuer: gost2015, now: new Date('2022-09-03T00:00:00Z') })).toMatchObject({
      ok: false,
      problem: 'signatureUnsupported',
    });

    const ceo2004 = parseOcspResponse(fixture('ocsp-ocsp_response_ceo_sign_2004_revoked.bin'));
    expect(ceo2004.responses[0]).toMatchObject({
      status: 'revoked',
      revokedAt: new Date('2022-01-18T06:30:55Z'),
      reason: 'superseded',
    });
    expect(
      findResponse(ceo2004, {
        serial: '12E3E7B9966D09EB9CDA64251457E815C2A8DDED',
        issuer: fixture('ca-nca_gost_test.crt'),
      }),
    ).not.toBeNull();

    // "Revoked" at 1970-01-01, certificateHold: RFC 6960's way of saying "never issued".
    const individual2015 = parseOcspResponse(fixture('ocsp-ocsp_response_individual_2015.bin'));
    expect(individual2015.responses[0]).toMatchObject({
      status: 'revoked',
      revokedAt: new Date(0),
      reason: 'certificateHold',
    });
    expect(Buffer.from(individual2015.nonce ?? []).toString('hex')).toBe('e408ffb790834af2');
  });

  it('refuses garbage with revocationUnknown', () => {
    let error: unknown;
    try {
      parseOcspResponse(new Uint8Array([0x30, 0x03, 0x0a, 0x01]));
    } catch (err) {
      error = err;
    }
    expect(isSigningError(error, 'revocationUnknown')).toBe(true);
  });
});

describe('the request', () => {
  it('carries a SHA-1 CertID (or SHA-256) and a 16-byte nonce in an OCTET STRING', () => {
    const request = buildOcspRequest(people.sign.certDer, pki.ca.certDer);
    const parsed = pkijs.OCSPRequest.fromBER(request.der);
    const certId = parsed.tbsRequest.requestList[0]?.reqCert;
    expect(certId?.hashAlgorithm.algorithmId).toBe('1.3.14.3.2.26');
    expect(certId?.issuerNameHash.valueBlock.valueHexView).toHaveLength(20);
    expect(request.nonce).toHaveLength(16);
    const ext = parsed.tbsRequest.requestExtensions?.[0];
    expect(ext?.extnID).toBe('1.3.6.1.5.5.7.48.1.2');
    expect(Buffer.from(ext?.extnValue.valueBlock.valueHexView ?? []).toString('hex')).toBe(
      '0410' + Buffer.from(request.nonce ?? []).toString('hex'),
    );
    const sha256 = buildOcspRequest(people.sign.certDer, pki.ca.certDer, { hash: 'sha256', nonce: false });
    expect(sha256.nonce).toBeNull();
    expect(sha256.certId.issuerKeyHash).toHaveLength(32);
  });
});

describe('against openssl ocsp', () => {
  it('says good, with the responder delegated by the CA', async () => {
    const result = await checkOcsp(people.sign.certDer, pki.ca.certDer, { timeoutMs: 5_000 });
    expect(result.status).toBe('good');
    if (result.status !== 'good') return;
    expect(result.url).toBe(responder.url);
    expect(Math.abs(result.thisUpdate.getTime() - Date.now())).toBeLessThan(60_000);
    expect(result.nextUpdate?.getTime()).toBe(result.thisUpdate.getTime() + 5 * 60_000); // -nmin 5
    expect((await checkOcsp(people.head.certDer, pki.ca.certDer, { hash: 'sha256' })).status).toBe('good');
  });

  it('says revoked after the CA revokes, with the time and reason', async () => {
    const person: Person = pki.issue({ ...people.sign.options, name: 'ocsp-revoked' });
    await responder.restart(); // see below: the responder lags one request behind its index
    expect((await checkOcsp(person.certDer, pki.ca.certDer)).status).toBe('good');
    pki.revoke(person);
    // openssl ocsp notices a changed index only before waiting for its next
    // connection: the first answer after the change may still be the old one.
    await responder.restart();
    const result = await checkOcsp(person.certDer, pki.ca.certDer);
    expect(result.status).toBe('revoked');
    if (result.status !== 'revoked') return;
    expect(result.reason).toBe('keyCompromise');
    expect(result.nonIssued).toBe(false);
    expect(Math.abs(result.revokedAt.getTime() - Date.now())).toBeLessThan(10 * 60_000);
  });

  it('eventually sees a revocation without a restart (it re-reads a changed index)', async () => {
    const person: Person = pki.issue({ ...people.sign.options, name: 'ocsp-revoked-live' });
    await responder.restart();
    expect((await checkOcsp(person.certDer, pki.ca.certDer)).status).toBe('good');
    pki.revoke(person);
    const seen: string[] = [];
    for (let i = 0; i < 3 && seen.at(-1) !== 'revoked'; i++) {
      seen.push((await checkOcsp(person.certDer, pki.ca.certDer)).status);
    }
    expect(seen.at(-1)).toBe('revoked');
    expect(seen.length).toBeLessThanOrEqual(2);
  });

  it('does not accept the answer for a certificate of another CA', async () => {
    const stranger = other.issue({ ...people.sign.options, name: 'stranger' });
    const result = await checkOcsp(stranger.certDer, other.ca.certDer, { url: responder.url });
    expect(result).toMatchObject({ status: 'unknown', problem: 'responderUntrusted' });
    expect(await checkOcsp(stranger.certDer, other.ca.certDer)).toMatchObject({ status: 'unknown', problem: 'noUrl' });
  });

  it('judges freshness: a replayed answer without nonce is too old a day later', async () => {
    const request = buildOcspRequest(people.sign.certDer, pki.ca.certDer, { nonce: false });
    const answer = await httpExchange(responder.url, {
      method: 'POST',
      body: request.der,
      contentType: 'application/ocsp-request',
      timeoutMs: 5_000,
      maxBytes: 65_536,
    });
    if (!answer.ok) throw new Error(answer.message);
    const der = answer.body;
    const options = { issuer: pki.ca.certDer, nonce: null };
    expect(evaluateOcspAnswer(der, people.sign.certDer, options).status).toBe('good');
    const tomorrow = new Date(Date.now() + 86400_000);
    expect(evaluateOcspAnswer(der, people.sign.certDer, { ...options, now: tomorrow })).toMatchObject({
      status: 'unknown',
      problem: 'notFresh',
    });
    // Asked with a nonce, an answer without any is accepted while fresh by its own dates.
    expect(evaluateOcspAnswer(der, people.sign.certDer, { ...options, nonce: new Uint8Array(16) }).status).toBe('good');
    expect(evaluateOcspAnswer(der, people.head.certDer, options)).toMatchObject({
      status: 'unknown',
      problem: 'noMatchingResponse',
    });
  });
});

describe('a broken or absent responder', () => {
  it('gives unknown with the problem, within the deadline, never an exception', async () => {
    const broken = await startBrokenServer('garbage');
    const ask = () => checkOcsp(people.sign.certDer, pki.ca.certDer, { url: broken.url, timeoutMs: 300 });
    try {
      expect(await ask()).toMatchObject({ status: 'unknown', problem: 'malformed' });
      broken.mode = 'empty';
      expect(await ask()).toMatchObject({ status: 'unknown', problem: 'malformed' });
      broken.mode = 'status500';
      expect(await ask()).toMatchObject({ status: 'unknown', problem: 'httpError' });
      broken.mode = 'reset';
      expect(await ask()).toMatchObject({ status: 'unknown', problem: 'unreachable' });
      broken.mode = 'hang';
      const started = Date.now();
      expect(await ask()).toMatchObject({ status: 'unknown', problem: 'timeout' });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await broken.close();
    }
    const closedPort = await freePort();
    expect(
      await checkOcsp(people.sign.certDer, pki.ca.certDer, {
        url: `http://127.0.0.1:${closedPort}/`,
        timeoutMs: 1_000,
      }),
    ).toMatchObject({ status: 'unknown', problem: 'unreachable' });
  });
});
