import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningError, type SigningErrorCode } from '../errors.js';
import { standardPeople, TestPki, type Person } from '../testing/pki.js';
import {
  freePort,
  startBrokenServer,
  startCrlServer,
  startOcspResponder,
  type BrokenServer,
  type CrlServer,
  type OcspResponder,
} from '../testing/responders.js';
import { CertificateChecker, type CheckerConfig, type CheckOptions } from './checker.js';
import { CrlStore } from './crl.js';

const DAY = 86400_000;

let dir: string;
let pki: TestPki;
let other: TestPki;
let people: ReturnType<typeof standardPeople>;
let revoked: Person;
let ocsp: OcspResponder;
let crlServer: CrlServer;
let broken: BrokenServer;
let stores = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-checker-'));
  const ocspPort = await freePort();
  crlServer = await startCrlServer();
  pki = new TestPki(join(dir, 'pki'), { ocspUrl: `http://127.0.0.1:${ocspPort}/`, crlUrl: crlServer.url });
  other = new TestPki(join(dir, 'other'));
  people = standardPeople(pki);
  revoked = pki.issue({ ...people.sign.options, name: 'revoked' });
  pki.revoke(revoked);
  crlServer.set(pki.crl(24));
  ocsp = await startOcspResponder(pki, { port: ocspPort });
  broken = await startBrokenServer('garbage');
});

afterAll(async () => {
  await ocsp?.close();
  await crlServer?.close();
  await broken?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function emptyStore(): Promise<CrlStore> {
  return CrlStore.open({ dir: join(dir, `crls-${++stores}`), issuers: [pki.root.certDer, pki.ca.certDer] });
}

async function storeWith(crl: Uint8Array): Promise<CrlStore> {
  const store = await emptyStore();
  const update = await store.update(crl);
  if (!update.accepted) throw new Error(`CRL refused: ${update.reason}`);
  return store;
}

function checker(overrides: Partial<CheckerConfig> & { crlStore: CrlStore }): CertificateChecker {
  return new CertificateChecker({
    trustedRoots: [pki.root.certDer],
    intermediates: [pki.ca.certDer],
    ocsp: { enabled: true, timeoutMs: 2_000 },
    online: () => true,
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<SigningError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SigningError) return err;
    throw err;
  }
  throw new Error('expected a SigningError');
}

const signNow = (): CheckOptions => ({ at: new Date(), act: 'sign', newAct: true });

describe('online', () => {
  it('asks OCSP first and returns the chain', async () => {
    const result = await checker({ crlStore: await emptyStore() }).check(people.sign.certDer, signNow());
    expect(result.revocation).toMatchObject({ source: 'ocsp', status: 'good', stale: false });
    expect(result.warnings).toEqual([]);
    expect(result.chain).toHaveLength(3);
    expect(result.chain[1]?.subject).toContain('QYZMET TEST CA (RSA)');
  });

  it('refuses a certificate the responder says is revoked', async () => {
    const err = await failure(checker({ crlStore: await emptyStore() }).check(revoked.certDer, signNow()));
    expect(err.code).toBe('certRevoked');
    expect(err.details.reason).toBe('keyCompromise');
    expect(Math.abs(new Date(err.details.revokedAt ?? '').getTime() - Date.now())).toBeLessThan(10 * 60_000);
  });

  it('accepts a signature made before the revocation, with a warning', async () => {
    const result = await checker({ crlStore: await emptyStore() }).check(revoked.certDer, {
      at: new Date(Date.now() - DAY),
      act: 'sign',
    });
    expect(result.revocation.status).toBe('revoked');
    expect(result.warnings).toContain('revokedAfterSigning');
  });

  it('falls back to the CRL when the responder is down, downloading it from the distribution point', async () => {
    const closedPort = await freePort();
    const store = await emptyStore();
    const before = crlServer.requests;
    const result = await checker({
      crlStore: store,
      ocsp: { enabled: true, url: `http://127.0.0.1:${closedPort}/`, timeoutMs: 1_000 },
    }).check(people.sign.certDer, signNow());
    expect(result.revocation).toMatchObject({ source: 'crl', status: 'good', stale: false });
    expect(result.warnings).toEqual(['ocsp:unreachable']);
    expect(crlServer.requests).toBe(before + 1);
    // The downloaded CRL now serves the revoked certificate as well.
    const err = await failure(
      checker({ crlStore: store, ocsp: { enabled: false, timeoutMs: 1_000 } }).check(revoked.certDer, signNow()),
    );
    expect(err.code).toBe('certRevoked');
  });

  it('falls back to the CRL when the responder answers garbage or hangs', async () => {
    const store = await storeWith(pki.crl(24));
    const viaBroken = checker({ crlStore: store, ocsp: { enabled: true, url: broken.url, timeoutMs: 300 } });
    broken.mode = 'garbage';
    const garbage = await viaBroken.check(people.sign.certDer, signNow());
    expect(garbage.revocation.source).toBe('crl');
    expect(garbage.warnings).toEqual(['ocsp:malformed']);
    broken.mode = 'hang';
    const started = Date.now();
    const hung = await viaBroken.check(people.sign.certDer, signNow());
    expect(hung.warnings).toEqual(['ocsp:timeout']);
    expect(Date.now() - started).toBeLessThan(2_000);
    broken.mode = 'garbage';
  });

  it('says revocationUnknown when neither OCSP nor any CRL can be had', async () => {
    const closedPort = await freePort();
    const err = await failure(
      checker({
        crlStore: await emptyStore(),
        ocsp: { enabled: true, url: `http://127.0.0.1:${closedPort}/`, timeoutMs: 500 },
        fetchCrl: false,
      }).check(people.sign.certDer, signNow()),
    );
    expect(err.code).toBe('revocationUnknown');
  });
});

describe('offline', () => {
  const offline = { online: () => false };

  it('uses the cached CRL only', async () => {
    const before = crlServer.requests;
    const result = await checker({ ...offline, crlStore: await storeWith(pki.crl(24)) }).check(people.head.certDer, {
      ...signNow(),
      expect: { iin: '850315400015', bin: '050140000011' },
    });
    expect(result.revocation).toMatchObject({ source: 'crl', status: 'good', stale: false });
    expect(result.warnings).toEqual([]);
    expect(crlServer.requests).toBe(before);
  });

  it('refuses a revoked certificate from the CRL', async () => {
    const err = await failure(
      checker({ ...offline, crlStore: await storeWith(pki.crl(24)) }).check(revoked.certDer, signNow()),
    );
    expect(err.code).toBe('certRevoked');
    expect(err.details.reason).toBe('keyCompromise');
  });

  it('uses a stale CRL with the warning crlStale', async () => {
    const store = await storeWith(pki.crl(-1));
    const result = await checker({ ...offline, crlStore: store }).check(people.sign.certDer, {
      ...signNow(),
      now: new Date(Date.now() + 5_000),
    });
    expect(result.revocation).toMatchObject({ source: 'crl', status: 'good', stale: true });
    expect(result.warnings).toEqual(['crlStale']);
  });

  it('says revocationUnknown without a CRL', async () => {
    const err = await failure(
      checker({ ...offline, crlStore: await emptyStore() }).check(people.sign.certDer, signNow()),
    );
    expect(err.code).toBe('revocationUnknown');
  });
});

describe('the order of the checks', () => {
  const cases: [string, () => Uint8Array, Partial<CheckOptions>, SigningErrorCode][] = [
    [
      'another PKI, even expired',
      () => other.issue({ ...people.expired.options, name: 'x' }).certDer,
      {},
      'chainUntrusted',
    ],
    ['expired, even for the wrong act', () => people.expired.certDer, { act: 'auth' }, 'certExpired'],
    ['not yet valid', () => people.notYetValid.certDer, {}, 'certNotYetValid'],
    [
      'the wrong key for the act, even for another person',
      () => people.auth.certDer,
      { expect: { iin: '1' } },
      'wrongKeyUsage',
    ],
    ['another person, even revoked', () => revoked.certDer, { expect: { iin: '850315400015' } }, 'iinMismatch'],
    ['revoked', () => revoked.certDer, {}, 'certRevoked'],
  ];
  for (const [name, cert, options, code] of cases) {
    it(`${name}: ${code}`, async () => {
      const check = checker({ online: () => false, crlStore: await storeWith(pki.crl(24)) });
      const err = await failure(check.check(cert(), { ...signNow(), ...options }));
      expect(err.code).toBe(code);
    });
  }

  it('checks validity at the signing time, and also now for a new act', async () => {
    const check = checker({ online: () => false, crlStore: await storeWith(pki.crl(24)) });
    const then = new Date(Date.now() - 100 * DAY);
    const verified = await check.check(people.expired.certDer, { at: then, act: 'sign' });
    expect(verified.revocation.status).toBe('good');
    const err = await failure(check.check(people.expired.certDer, { at: then, act: 'sign', newAct: true }));
    expect(err.code).toBe('certExpired');
  });

  it('builds the chain with intermediates the signature brings', async () => {
    const check = new CertificateChecker({
      trustedRoots: [pki.root.certDer],
      intermediates: [],
      crlStore: await storeWith(pki.crl(24)),
      online: () => false,
    });
    expect((await failure(check.check(people.sign.certDer, signNow()))).code).toBe('chainUntrusted');
    const result = await check.check(people.sign.certDer, { ...signNow(), intermediates: [pki.ca.certDer] });
    expect(result.chain).toHaveLength(3);
  });
});

describe('speed', () => {
  it('checks well over 500 certificates a second offline with a cached CRL', async () => {
    const check = checker({ online: () => false, crlStore: await storeWith(pki.crl(24)) });
    const certs = [people.sign.certDer, people.head.certDer, people.employeeEc.certDer];
    await check.check(people.sign.certDer, signNow()); // warm the caches
    const rounds = 1_000;
    const started = performance.now();
    for (let i = 0; i < rounds; i++) {
      const result = await check.check(new Uint8Array(certs[i % 3] ?? people.sign.certDer), signNow());
      if (result.revocation.status !== 'good') throw new Error('unexpected status');
    }
    const perSecond = rounds / ((performance.now() - started) / 1000);
    // The whole CMS verification has a budget of 2 ms; the certificate's checks take a fraction of it.
    expect(perSecond).toBeGreaterThan(2_000);
  });
});

describe('strict revocation (the server judging a pushed signature)', () => {
  let strictPki: TestPki;
  let signer: Person;

  beforeAll(() => {
    strictPki = new TestPki(join(dir, 'strict'));
    signer = strictPki.issue({ ...people.sign.options, name: 'strict-signer' });
  });

  async function strictChecker(...crls: Uint8Array[]): Promise<CertificateChecker> {
    const store = await CrlStore.open({
      dir: join(dir, `crls-${++stores}`),
      issuers: [strictPki.root.certDer, strictPki.ca.certDer],
    });
    for (const crl of crls) {
      const update = await store.update(crl);
      if (!update.accepted) throw new Error(`CRL refused: ${update.reason}`);
    }
    return new CertificateChecker({
      trustedRoots: [strictPki.root.certDer],
      intermediates: [strictPki.ca.certDer],
      crlStore: store,
      online: () => false,
    });
  }

  const strictNow = (): CheckOptions => ({ at: new Date(), act: 'sign', strictRevocation: true });

  it('needs the CRLs of every CA of the chain: without the root’s, revocationUnknown', async () => {
    const caOnly = await strictChecker(strictPki.crl(24));
    expect((await caOnly.check(signer.certDer, { at: new Date(), act: 'sign' })).revocation.status).toBe('good');
    expect((await failure(caOnly.check(signer.certDer, strictNow()))).code).toBe('revocationUnknown');
    const both = await strictChecker(strictPki.rootCrl(24), strictPki.crl(24));
    expect((await both.check(signer.certDer, strictNow())).revocation.status).toBe('good');
  });

  it('takes a CRL past its nextUpdate for none (not the warning crlStale)', async () => {
    const stale = await strictChecker(strictPki.rootCrl(24), strictPki.crl(24));
    const later = new Date(Date.now() + 2 * DAY);
    const lenient = await stale.check(signer.certDer, { at: later, now: later, act: 'sign' });
    expect(lenient.warnings).toContain('crlStale');
    expect((await failure(stale.check(signer.certDer, { ...strictNow(), at: later, now: later }))).code).toBe(
      'revocationUnknown',
    );
  });

  it('refuses a certificate whose intermediate CA was revoked before the time judged', async () => {
    const caCrl = strictPki.crl(24);
    strictPki.revokeCa(strictPki.ca, 'cACompromise', new Date(Date.now() - DAY));
    const check = await strictChecker(strictPki.rootCrl(24), caCrl);
    const err = await failure(check.check(signer.certDer, strictNow()));
    expect(err.code).toBe('certRevoked');
    expect(err.details.which).toBe('issuer');
    // Judged before the CA's revocation, the signature stands (with the warning).
    const before = await check.check(signer.certDer, { ...strictNow(), at: new Date(Date.now() - 2 * DAY) });
    expect(before.warnings).toContain('revokedAfterSigning');
  });
});
