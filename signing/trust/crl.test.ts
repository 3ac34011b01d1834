import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSigningError } from '../errors.js';
import { standardPeople, TestPki, type Person } from '../testing/pki.js';
import { freePort, startBrokenServer, startCrlServer } from '../testing/responders.js';
import { CrlStore, isNewer, parseCrl, verifyCrl } from './crl.js';

const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/nca-test/', import.meta.url));
const fixture = (name: string) => readFileSync(join(FIXTURES, name));

let dir: string;
let pki: TestPki;
let other: TestPki;
let people: ReturnType<typeof standardPeople>;
let revokedPerson: Person;
let crlBefore: Buffer;
let crlAfter: Buffer;
let n = 0;
const storeDir = () => join(dir, `store-${++n}`);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-crl-'));
  pki = new TestPki(join(dir, 'pki'));
  other = new TestPki(join(dir, 'other'));
  people = standardPeople(pki);
  revokedPerson = pki.issue({ ...people.sign.options, name: 'revoked-crl' });
  crlBefore = pki.crl(24);
  pki.revoke(revokedPerson);
  crlAfter = pki.crl(24);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseCrl: the NCA test CRLs', () => {
  it('reads the RSA CA CRL: dates, number, entries and reasons', () => {
    const crl = parseCrl(fixture('crl-nca_rsa_test.crl'));
    expect(crl.issuer).toBe('C=KZ, CN=ҰКО 3.0 (RSA TEST)');
    expect(crl.thisUpdate.toISOString()).toBe('2022-03-29T04:18:29.000Z');
    expect(crl.nextUpdate?.toISOString()).toBe('2022-09-25T04:18:29.000Z');
    expect(crl.crlNumber).toBe(9n);
    expect(crl.isDelta).toBe(false);
    expect(crl.authorityKeyId).toBe('a68c16337cb8e83567063e5e415755a2af345068');
    expect(crl.revoked.size).toBe(126);
    expect([...crl.revoked.values()].filter((e) => e.reason !== null)).toHaveLength(49);
    expect(crl.revoked.get('474c38696d8677a2c8b6e40345a8b04168c0905c')).toEqual({
      serial: '474c38696d8677a2c8b6e40345a8b04168c0905c',
      revokedAt: new Date('2021-04-01T06:56:52Z'),
      reason: 'certificateHold',
    });
    expect(crl.revoked.get('4b779cb5647c4da7b07327c503eab1656d716ed8')?.reason).toBe('keyCompromise');
    expect(crl.revoked.get('1f6de34f4f4bb353dd57ef15e4e6ddb8363f6d00')?.reason).toBeNull();
  });

  it('checks the RSA CRL against its CA, and refuses a tampered one', () => {
    const der = fixture('crl-nca_rsa_test.crl');
    expect(verifyCrl(parseCrl(der), fixture('ca-nca_rsa_test.crt'))).toBe('valid');
    expect(verifyCrl(parseCrl(der), fixture('ca-nca_gost_test.crt'))).toBe('invalid');
    const tampered = Buffer.from(der);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 10) ^ 0x01, tampered.length - 10);
    expect(verifyCrl(parseCrl(tampered), fixture('ca-nca_rsa_test.crt'))).toBe('invalid');
  });

  it('reads the GOST CRLs but does not claim to check them', () => {
    const gost = parseCrl(fixture('crl-nca_gost_test.crl'));
    expect(gost.issuer).toBe('C=KZ, CN=ҰКО 3.0 (GOST TEST)');
    expect(gost.revoked.size).toBe(31);
    expect(gost.crlNumber).toBe(7n);
    expect(gost.signatureAlgorithm).toBe('1.2.398.3.10.1.1.1.2');
    expect(verifyCrl(gost, fixture('ca-nca_gost_test.crt'))).toBe('unsupported');

    const gost2022 = parseCrl(fixture('crl-nca_gost2022_test.crl'));
    expect(gost2022.revoked.size).toBe(6);
    expect(gost2022.crlNumber).toBe(4n);
    expect(gost2022.thisUpdate.toISOString()).toBe('2022-07-27T11:26:06.000Z');
    expect(gost2022.revoked.get('3a90343e720594c55204b19cb9a402422ef0e622')).toMatchObject({
      reason: 'certificateHold',
      revokedAt: new Date('2022-07-27T10:25:30Z'),
    });
    expect(verifyCrl(gost2022, fixture('ca-nca_gost2015_test.cer'))).toBe('unsupported');
  });

  it('reads PEM as well, and refuses garbage with revocationUnknown', () => {
    const der = fixture('crl-nca_gost_test.crl');
    const pem = `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END X509 CRL-----\n`;
    expect(parseCrl(pem).revoked.size).toBe(31);
    expect(parseCrl(Buffer.from(pem)).crlNumber).toBe(7n);
    let error: unknown;
    try {
      parseCrl(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]));
    } catch (err) {
      error = err;
    }
    expect(isSigningError(error, 'revocationUnknown')).toBe(true);
  });
});

describe('CrlStore', () => {
  it('answers good, then revoked once a newer CRL arrives, and keeps the newer', async () => {
    const store = await CrlStore.open({ dir: storeDir(), issuers: [pki.root.certDer, pki.ca.certDer] });
    expect(store.status(revokedPerson.certDer, pki.ca.certDer).status).toBe('unknown');
    expect(await store.update(crlBefore)).toMatchObject({ accepted: true, issuer: 'CN=QYZMET TEST CA (RSA), C=KZ' });
    expect(store.status(revokedPerson.certDer, pki.ca.certDer)).toMatchObject({ status: 'good', stale: false });

    expect(isNewer(parseCrl(crlAfter), parseCrl(crlBefore))).toBe(true);
    expect((await store.update(crlAfter)).accepted).toBe(true);
    const status = store.status(revokedPerson.certDer, pki.ca.certDer);
    expect(status.status).toBe('revoked');
    expect(status.reason).toBe('keyCompromise');
    expect(Math.abs((status.revokedAt?.getTime() ?? 0) - Date.now())).toBeLessThan(10 * 60_000);
    expect(store.status(people.sign.certDer, pki.ca.certDer).status).toBe('good');

    expect(await store.update(crlBefore)).toEqual({ accepted: false, reason: 'notNewer' });
    expect(store.status(revokedPerson.certDer, pki.ca.certDer).status).toBe('revoked');
  });

  it('survives a restart: the CRL is reloaded from its folder and checked again', async () => {
    const folder = storeDir();
    const first = await CrlStore.open({ dir: folder, issuers: [pki.ca.certDer] });
    await first.update(crlAfter);
    expect(readdirSync(folder).filter((f) => f.endsWith('.crl'))).toHaveLength(1);

    const second = await CrlStore.open({ dir: folder, issuers: [pki.ca.certDer] });
    expect(second.status(revokedPerson.certDer, pki.ca.certDer).status).toBe('revoked');
    expect(second.get(pki.ca.certDer)?.crlNumber).toBe(parseCrl(crlAfter).crlNumber);

    // A file altered on disk is not trusted on the next start.
    const file = join(folder, readdirSync(folder).find((f) => f.endsWith('.crl')) ?? '');
    const bytes = readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 5) ^ 0xff, bytes.length - 5);
    writeFileSync(file, bytes);
    const third = await CrlStore.open({ dir: folder, issuers: [pki.ca.certDer] });
    expect(third.status(revokedPerson.certDer, pki.ca.certDer).status).toBe('unknown');
  });

  it('refuses CRLs it cannot trust', async () => {
    const store = await CrlStore.open({ dir: storeDir(), issuers: [pki.ca.certDer] });
    // Same CA name, another key: the name matches, the signature does not.
    expect(await store.update(other.crl(24))).toEqual({ accepted: false, reason: 'signatureInvalid' });
    expect(await store.update(fixture('crl-nca_rsa_test.crl'))).toEqual({ accepted: false, reason: 'issuerUnknown' });
    expect(await store.update(new Uint8Array([1, 2, 3]))).toEqual({ accepted: false, reason: 'malformed' });
    const gostStore = await CrlStore.open({ dir: storeDir(), issuers: [fixture('ca-nca_gost_test.crt')] });
    expect(await gostStore.update(fixture('crl-nca_gost_test.crl'))).toEqual({
      accepted: false,
      reason: 'signatureUnsupported',
    });
  });

  it('keeps the NCA RSA CRL and answers from it at its time', async () => {
    const ca = fixture('ca-nca_rsa_test.crt');
    const store = await CrlStore.open({ dir: storeDir(), issuers: [ca] });
    expect((await store.update(fixture('crl-nca_rsa_test.crl'))).accepted).toBe(true);
    const leaf = fixture('certs-individual_valid_sign_2004_rsa.cer');
    expect(store.status(leaf, ca, new Date('2022-06-01T00:00:00Z'))).toMatchObject({ status: 'good', stale: false });
    // Today that CRL is long past its nextUpdate.
    expect(store.status(leaf, ca).stale).toBe(true);
  });

  it('says stale once nextUpdate has passed', async () => {
    const store = await CrlStore.open({ dir: storeDir(), issuers: [pki.ca.certDer] });
    await store.update(pki.crl(-1)); // nextUpdate one second after thisUpdate
    const later = new Date(Date.now() + 5_000);
    expect(store.status(people.sign.certDer, pki.ca.certDer, later)).toMatchObject({ status: 'good', stale: true });
    expect(store.status(people.sign.certDer, pki.ca.certDer, new Date(Date.now() - 60_000)).stale).toBe(false);
  });

  it('answers a lookup in well under a millisecond', async () => {
    const store = await CrlStore.open({ dir: storeDir(), issuers: [pki.ca.certDer] });
    await store.update(crlAfter);
    const certs = [people.sign.certDer, revokedPerson.certDer, people.head.certDer];
    const rounds = 20_000;
    const started = performance.now();
    let revoked = 0;
    for (let i = 0; i < rounds; i++) {
      if (store.status(certs[i % 3] ?? people.sign.certDer, pki.ca.certDer).status === 'revoked') revoked++;
    }
    const perSecond = rounds / ((performance.now() - started) / 1000);
    expect(revoked).toBe(6667); // every third, from the second
    // The budget is 500 whole CMS verifications a second; the lookup must be a small part of it.
    expect(perSecond).toBeGreaterThan(5_000);
  });
});

describe('CrlStore.fetch', () => {
  it('downloads a CRL over HTTP and keeps it', async () => {
    const server = await startCrlServer(crlAfter);
    try {
      const store = await CrlStore.open({ dir: storeDir(), issuers: [pki.ca.certDer] });
      const got = await store.fetch(server.url);
      expect(got).toMatchObject({ ok: true, update: { accepted: true } });
      expect(store.status(revokedPerson.certDer, pki.ca.certDer).status).toBe('revoked');
      const small = await CrlStore.open({ dir: storeDir(), issuers: [pki.ca.certDer], maxBytes: 100 });
      expect(await small.fetch(server.url)).toMatchObject({ ok: false, problem: 'tooLarge' });
      server.set(null);
      expect(await store.fetch(server.url)).toMatchObject({ ok: false, problem: 'httpError', httpStatus: 404 });
    } finally {
      await server.close();
    }
  });

  it('reports an unreachable, hanging or erring server without throwing, within its deadline', async () => {
    const store = await CrlStore.open({ dir: storeDir(), issuers: [pki.ca.certDer], timeoutMs: 300 });
    const port = await freePort();
    expect(await store.fetch(`http://127.0.0.1:${port}/ca.crl`)).toMatchObject({ ok: false, problem: 'unreachable' });
    expect(await store.fetch('ldap://example/ca.crl')).toMatchObject({ ok: false, problem: 'unsupportedUrl' });

    const broken = await startBrokenServer('hang');
    try {
      const started = Date.now();
      expect(await store.fetch(broken.url)).toMatchObject({ ok: false, problem: 'timeout' });
      expect(Date.now() - started).toBeLessThan(2_000);
      broken.mode = 'garbage';
      expect(await store.fetch(broken.url)).toEqual({ ok: true, update: { accepted: false, reason: 'malformed' } });
      broken.mode = 'status500';
      expect(await store.fetch(broken.url)).toMatchObject({ ok: false, problem: 'httpError', httpStatus: 500 });
      broken.mode = 'reset';
      expect(await store.fetch(broken.url)).toMatchObject({ ok: false, problem: 'unreachable' });
    } finally {
      await broken.close();
    }
  });
});
