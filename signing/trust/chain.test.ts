import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningError } from '../errors.js';
import { standardPeople, TestPki } from '../testing/pki.js';
import {
  buildChain,
  checkChainValidity,
  checkIdentity,
  checkKeyUsage,
  checkValidity,
  subjectIdentity,
} from './chain.js';

const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/nca-test/', import.meta.url));
const fixture = (name: string) => readFileSync(join(FIXTURES, name));

function thrown(fn: () => unknown): SigningError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SigningError) return err;
    throw err;
  }
  throw new Error('expected a SigningError');
}

let dir: string;
let pki: TestPki;
let other: TestPki;
let people: ReturnType<typeof standardPeople>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-chain-'));
  pki = new TestPki(join(dir, 'pki'));
  other = new TestPki(join(dir, 'other'));
  people = standardPeople(pki);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('buildChain', () => {
  it('orders leaf, intermediate, root', () => {
    const chain = buildChain(people.sign.certDer, {
      intermediates: [pki.ca.certDer],
      trustedRoots: [pki.root.certDer],
    });
    expect(chain.map((c) => c.subject.split('\n').find((l) => l.startsWith('CN=')))).toEqual([
      'CN=ТЕСТОВ ТЕСТ',
      'CN=QYZMET TEST CA (RSA)',
      'CN=QYZMET TEST ROOT (RSA)',
    ]);
  });

  it('accepts PEM and an EC leaf, and ignores unrelated helpers', () => {
    const chain = buildChain(people.employeeEc.certPem, {
      intermediates: [other.ca.certDer, pki.ca.certPem, new Uint8Array([1, 2, 3])],
      trustedRoots: [other.root.certDer, pki.root.certDer],
    });
    expect(chain).toHaveLength(3);
    expect(chain[2]?.fingerprint256).toBe(
      buildChain(pki.root.certDer, { intermediates: [], trustedRoots: [pki.root.certDer] })[0]?.fingerprint256,
    );
  });

  it('refuses a certificate of another PKI whose CAs carry the same names', () => {
    // Both PKIs name their CAs identically: only the signatures tell them apart.
    const err = thrown(() =>
      buildChain(other.issue({ ...people.sign.options, name: 'stranger' }).certDer, {
        intermediates: [pki.ca.certDer],
        trustedRoots: [pki.root.certDer],
      }),
    );
    expect(err.code).toBe('chainUntrusted');
  });

  it('refuses when the intermediate is missing or the root is not trusted', () => {
    expect(
      thrown(() => buildChain(people.sign.certDer, { intermediates: [], trustedRoots: [pki.root.certDer] })).code,
    ).toBe('chainUntrusted');
    expect(
      thrown(() =>
        buildChain(people.sign.certDer, { intermediates: [pki.ca.certDer], trustedRoots: [other.root.certDer] }),
      ).code,
    ).toBe('chainUntrusted');
  });

  it('refuses an issuer that is not a CA even when its signature checks', () => {
    // A certificate "issued" by a person's signing key: the signature is good, basicConstraints says CA:FALSE.
    const work = join(dir, 'fake');
    mkdirSync(work, { recursive: true });
    const key = join(work, 'k.pem');
    const csr = join(work, 'r.csr');
    const cert = join(work, 'c.pem');
    const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    openssl(['req', '-new', '-key', key, '-subj', '/CN=SUB OF A PERSON', '-out', csr]);
    const ext = join(work, 'ext');
    writeFileSync(ext, 'keyUsage = critical, digitalSignature, nonRepudiation\nextendedKeyUsage = emailProtection\n');
    openssl([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      people.sign.certPath,
      '-CAkey',
      people.sign.keyPath,
      '-CAcreateserial',
      '-days',
      '30',
      '-extfile',
      ext,
      '-out',
      cert,
    ]);
    // The signature itself is sound: only the issuer's basic constraints refuse it.
    expect(new X509Certificate(readFileSync(cert)).verify(new X509Certificate(people.sign.certDer).publicKey)).toBe(
      true,
    );
    const err = thrown(() =>
      buildChain(readFileSync(cert, 'utf8'), {
        intermediates: [people.sign.certDer, pki.ca.certDer],
        trustedRoots: [pki.root.certDer],
      }),
    );
    expect(err.code).toBe('chainUntrusted');
  });

  it('links the NCA test RSA certificates, and cannot check the GOST ones', () => {
    const chain = buildChain(fixture('certs-individual_valid_sign_2004_rsa.cer'), {
      intermediates: [],
      trustedRoots: [fixture('ca-nca_rsa_test.crt')],
    });
    expect(chain).toHaveLength(2);
    expect(chain[1]?.subject).toContain('ҰКО 3.0 (RSA TEST)');
    // GOST 34.310 signatures have no implementation in node: the chain can't be proven.
    expect(
      thrown(() =>
        buildChain(fixture('certs-ceo_valid_sign_2004_gost.cer'), {
          intermediates: [],
          trustedRoots: [fixture('ca-nca_gost_test.crt')],
        }),
      ).code,
    ).toBe('chainUntrusted');
  });
});

describe('validity', () => {
  it('says expired with the end date, and not yet valid with the start date', () => {
    const expired = thrown(() => checkValidity(people.expired.certDer, new Date()));
    expect(expired.code).toBe('certExpired');
    expect(new Date(expired.details.notAfter ?? '').getTime()).toBeLessThan(Date.now());
    const early = thrown(() => checkValidity(people.notYetValid.certDer, new Date()));
    expect(early.code).toBe('certNotYetValid');
    expect(new Date(early.details.notBefore ?? '').getTime()).toBeGreaterThan(Date.now());
  });

  it('accepts a certificate at a time inside its validity', () => {
    const inside = new Date(Date.now() - 100 * 86400_000);
    expect(() => checkValidity(people.expired.certDer, inside)).not.toThrow();
  });

  it('checks the whole chain, and the NCA fixtures at their time and now', () => {
    const chain = [people.sign.certDer, pki.ca.certDer, pki.root.certDer];
    expect(() => checkChainValidity(chain, new Date())).not.toThrow();
    // Twelve years on, the person's certificate is the first to have expired.
    const later = thrown(() => checkChainValidity(chain, new Date(Date.now() + 12 * 365 * 86400_000)));
    expect(later.code).toBe('certExpired');
    expect(later.details.notAfter).toBe(new Date(new X509Certificate(people.sign.certDer).validTo).toISOString());

    const nca = [fixture('certs-individual_valid_sign_2004_rsa.cer'), fixture('ca-nca_rsa_test.crt')];
    expect(() => checkChainValidity(nca, new Date('2022-06-01T00:00:00Z'))).not.toThrow();
    const now = thrown(() => checkChainValidity(nca, new Date()));
    expect(now.code).toBe('certExpired');
    expect(now.details.notAfter).toBe('2023-01-18T04:38:50.000Z');
  });
});

describe('key usage', () => {
  it('lets signing keys sign and authentication keys log in, not the other way round', () => {
    expect(() => checkKeyUsage(people.sign.certDer, 'sign')).not.toThrow();
    expect(() => checkKeyUsage(people.head.certDer, 'sign')).not.toThrow();
    expect(() => checkKeyUsage(people.employeeEc.certDer, 'sign')).not.toThrow();
    expect(() => checkKeyUsage(people.auth.certDer, 'auth')).not.toThrow();
    const signWithAuth = thrown(() => checkKeyUsage(people.auth.certDer, 'sign'));
    expect(signWithAuth.code).toBe('wrongKeyUsage');
    expect(signWithAuth.details.needed).toBe('sign');
    const authWithSign = thrown(() => checkKeyUsage(people.sign.certDer, 'auth'));
    expect(authWithSign.details.needed).toBe('auth');
  });

  it('reads the NCA test certificates the same way', () => {
    expect(() => checkKeyUsage(fixture('certs-individual_valid_sign_2004_rsa.cer'), 'sign')).not.toThrow();
    expect(() => checkKeyUsage(fixture('certs-individual_valid_sign_2004_rsa_auth.cer'), 'auth')).not.toThrow();
    expect(() => checkKeyUsage(fixture('certs-ceo_valid_sign_2004_gost.cer'), 'sign')).not.toThrow();
    expect(thrown(() => checkKeyUsage(fixture('certs-individual_valid_sign_2004_rsa_auth.cer'), 'sign')).code).toBe(
      'wrongKeyUsage',
    );
    expect(thrown(() => checkKeyUsage(fixture('certs-ceo_valid_sign_2004_gost.cer'), 'auth')).code).toBe(
      'wrongKeyUsage',
    );
    // A CA certificate is for neither.
    expect(thrown(() => checkKeyUsage(pki.ca.certDer, 'sign')).code).toBe('wrongKeyUsage');
    expect(thrown(() => checkKeyUsage(pki.ca.certDer, 'auth')).code).toBe('wrongKeyUsage');
  });
});

describe('identity', () => {
  it('reads IIN and BIN from the subject', () => {
    expect(subjectIdentity(people.head.certDer)).toEqual({ iin: '850315400015', bin: '050140000011' });
    expect(subjectIdentity(people.sign.certDer)).toEqual({ iin: '900101300017', bin: null });
    expect(subjectIdentity(fixture('certs-ceo_valid_sign_2004_gost.cer'))).toEqual({
      iin: '123456789011',
      bin: '123456789021',
    });
  });

  it('accepts the expected person and organisation, and names the mismatch', () => {
    expect(() => checkIdentity(people.head.certDer, { iin: '850315400015', bin: '050140000011' })).not.toThrow();
    const iin = thrown(() => checkIdentity(people.sign.certDer, { iin: '850315400015' }));
    expect(iin.code).toBe('iinMismatch');
    expect(iin.details).toMatchObject({ expected: '850315400015', actual: '900101300017', field: 'iin' });
    const bin = thrown(() => checkIdentity(people.sign.certDer, { bin: '050140000011' }));
    expect(bin.code).toBe('iinMismatch');
    expect(bin.details).toMatchObject({ expected: '050140000011', actual: '', field: 'bin' });
  });
});
