import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateFormatError,
  certificateDer,
  derToPem,
  gostAlgorithmName,
  gostFamily,
  isGostAlgorithm,
  parseCertificate,
  pemToDer,
} from './certificate.js';
import { serialKey } from './der.js';
import { standardPeople, TestPki } from './testing/pki.js';

const FIXTURES = fileURLToPath(new URL('../../shared/fixtures/nca-test/', import.meta.url));
const fixture = (name: string) => readFileSync(join(FIXTURES, name));

const QUIET: ExecFileSyncOptions = { stdio: ['ignore', 'pipe', 'pipe'] };
const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

describe('NCA test certificates', () => {
  // Expected values were read with `openssl x509 -text` / `openssl asn1parse` and `openssl dgst -sha256`.

  it("reads an individual's RSA signing certificate", () => {
    const facts = parseCertificate(fixture('certs-individual_valid_sign_2004_rsa.cer'));
    expect(facts).toEqual({
      commonName: 'ТЕСТОВ ТЕСТ',
      surname: 'ТЕСТОВ',
      givenName: 'ТЕСТОВИЧ',
      iin: '123456789011',
      iinChecksumValid: false, // the NCA test IIN: a warning, and the certificate is still read
      bin: null,
      binChecksumValid: null,
      organisation: null,
      email: null,
      roles: ['individual'],
      purpose: 'sign',
      keyUsage: ['digitalSignature', 'nonRepudiation'],
      extendedKeyUsage: [EMAIL_PROTECTION, '1.2.398.3.3.4.1.1'],
      policies: ['1.2.398.3.3.2.3'],
      notBefore: '2022-01-18T04:38:50.000Z',
      notAfter: '2023-01-18T04:38:50.000Z',
      issuerCommonName: 'ҰКО 3.0 (RSA TEST)',
      issuer: 'C=KZ, CN=ҰКО 3.0 (RSA TEST)',
      subject: 'CN=ТЕСТОВ ТЕСТ, SURNAME=ТЕСТОВ, SERIALNUMBER=IIN123456789011, C=KZ, GIVENNAME=ТЕСТОВИЧ',
      serialNumber: '41e45cc8a04c705963e5cd6769848a934d8eaef5',
      publicKeyAlgorithm: 'rsa',
      publicKeyBits: 2048,
      sha256: '5dabb23d78f0cfce952ea037a4128717796da54cdd0502c4b6293617dc9102ff',
    });
  });

  it("reads the same person's RSA authentication certificate as 'auth'", () => {
    const facts = parseCertificate(fixture('certs-individual_valid_sign_2004_rsa_auth.cer'));
    expect(facts).toMatchObject({
      commonName: 'ТЕСТОВ ТЕСТ',
      iin: '123456789011',
      iinChecksumValid: false,
      roles: ['individual'],
      purpose: 'auth',
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      extendedKeyUsage: [CLIENT_AUTH, '1.2.398.3.3.4.1.1'],
      policies: ['1.2.398.3.3.2.4'],
      notBefore: '2022-01-18T04:38:49.000Z',
      notAfter: '2023-01-18T04:38:49.000Z',
      serialNumber: '247c3fda89fa641ea226987393cdaf3f5baf24b3',
      publicKeyAlgorithm: 'rsa',
      publicKeyBits: 2048,
      sha256: '56fe092b99dfb1bff969a308f6104890360f4f5fcbeb4cffd4958946ab2c3c84',
    });
  });

  it("reads a legal entity head's GOST 34.310-2004 certificate (which OpenSSL and forge cannot)", () => {
    const facts = parseCertificate(fixture('certs-ceo_valid_sign_2004_gost.cer'));
    expect(facts).toEqual({
      commonName: 'ТЕСТОВ ТЕСТ',
      surname: 'ТЕСТОВ',
      givenName: 'ТЕСТОВИЧ',
      iin: '123456789011',
      iinChecksumValid: false,
      bin: '123456789021',
      binChecksumValid: false,
      organisation: 'АО "ТЕСТ"',
      email: null,
      roles: ['legalEntity', 'head'],
      purpose: 'sign',
      keyUsage: ['digitalSignature', 'nonRepudiation'],
      extendedKeyUsage: [EMAIL_PROTECTION, '1.2.398.3.3.4.1.2', '1.2.398.3.3.4.1.2.1'],
      policies: ['1.2.398.3.3.2.1'],
      notBefore: '2022-01-18T04:45:35.000Z',
      notAfter: '2023-01-18T04:45:35.000Z',
      issuerCommonName: 'ҰКО 3.0 (GOST TEST)',
      issuer: 'C=KZ, CN=ҰКО 3.0 (GOST TEST)',
      subject:
        'CN=ТЕСТОВ ТЕСТ, SURNAME=ТЕСТОВ, SERIALNUMBER=IIN123456789011, C=KZ, O=АО \\"ТЕСТ\\", OU=BIN123456789021, GIVENNAME=ТЕСТОВИЧ',
      serialNumber: '6cbd4560a33a58c0b07c3363c9ae0674a0838e58',
      publicKeyAlgorithm: 'gost2004',
      publicKeyBits: 256,
      sha256: '1c7652e8c6080208da8ee0fda6cbcfc49c696220f68531bb529a0f4a0e883e73',
    });
  });

  it('reads the RSA intermediate CA', () => {
    const facts = parseCertificate(fixture('ca-nca_rsa_test.crt'));
    expect(facts).toMatchObject({
      commonName: 'ҰКО 3.0 (RSA TEST)',
      surname: null,
      iin: null,
      iinChecksumValid: null,
      bin: null,
      roles: [],
      purpose: 'unknown',
      keyUsage: ['keyCertSign', 'cRLSign'],
      extendedKeyUsage: [],
      policies: ['1.2.398.3.3.1.1'],
      notBefore: '2019-03-15T03:42:17.000Z',
      notAfter: '2024-03-13T03:42:17.000Z',
      issuerCommonName: 'НЕГІЗГІ КО TEST (RSA)',
      issuer: 'CN=НЕГІЗГІ КО TEST (RSA), C=KZ',
      subject: 'C=KZ, CN=ҰКО 3.0 (RSA TEST)',
      serialNumber: '452a6437611c183fbf1ec5a1ba4920dd72148a9b',
      publicKeyAlgorithm: 'rsa',
      publicKeyBits: 4096,
      sha256: '7e96a36409dc11e0fc99efae41f8c639e16a495d77c2f2278edb98580f997231',
    });
  });

  it('reads the GOST 2004 intermediate CA', () => {
    const facts = parseCertificate(fixture('ca-nca_gost_test.crt'));
    expect(facts).toMatchObject({
      commonName: 'ҰКО 3.0 (GOST TEST)',
      issuerCommonName: 'НЕГІЗГІ КО TEST (GOST)',
      purpose: 'unknown',
      keyUsage: ['keyCertSign', 'cRLSign'],
      notBefore: '2019-03-14T11:34:07.000Z',
      notAfter: '2024-03-12T11:34:07.000Z',
      serialNumber: '1236e8f1619123d1e96f00e56791f855e2dcb457',
      publicKeyAlgorithm: 'gost2004',
      publicKeyBits: 256,
      sha256: '0307e8bdf77cb708b7c9d9a5799facdc6de7154447cb394af9ac9b528c3d82c7',
    });
  });

  it('reads the GOST 34.10-2015 CA (a DER file) with its 512-bit key', () => {
    const facts = parseCertificate(fixture('ca-nca_gost2015_test.cer'));
    expect(facts).toMatchObject({
      commonName: 'ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022',
      issuerCommonName: 'НЕГІЗГІ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022',
      subject: 'CN=ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST 2022, C=KZ',
      purpose: 'unknown',
      roles: [],
      policies: ['1.2.398.3.3.2'],
      notBefore: '2022-07-07T09:55:23.000Z',
      notAfter: '2032-07-04T09:55:23.000Z',
      serialNumber: '7ad24b1ba3a0c961fe1ca8503e6aa2bb450db8a3',
      publicKeyAlgorithm: 'gost2015',
      publicKeyBits: 512,
      sha256: 'beeffc0bdb77cd798c35983eb0715f6ef0051cccb71d7cd05505e8a4fb2c6f4d',
    });
  });
});

describe('input forms', () => {
  const pem = () => fixture('certs-individual_valid_sign_2004_rsa.cer').toString('utf8');
  const SHA256 = '5dabb23d78f0cfce952ea037a4128717796da54cdd0502c4b6293617dc9102ff';

  it('takes PEM text, PEM bytes, DER bytes, bare base64 and DER with trailing bytes alike', () => {
    const der = pemToDer(pem());
    const base64 = Buffer.from(der).toString('base64');
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`\r\n${pem()}`)]);
    const inputs: (Uint8Array | string)[] = [
      pem(),
      Buffer.from(pem()),
      withBom,
      der,
      base64,
      Buffer.from(base64),
      Buffer.concat([der, Buffer.from('\n')]),
    ];
    for (const input of inputs) {
      expect(Buffer.from(certificateDer(input)).equals(Buffer.from(der))).toBe(true);
      expect(parseCertificate(input).sha256).toBe(SHA256);
    }
  });

  it('round-trips PEM and DER, with 64-column lines', () => {
    const der = pemToDer(pem());
    const text = derToPem(der);
    expect(text.startsWith('-----BEGIN CERTIFICATE-----\n')).toBe(true);
    expect(text.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    const body = text.split('\n').slice(1, -2);
    expect(body.slice(0, -1).every((line) => line.length === 64)).toBe(true);
    expect(Buffer.from(pemToDer(text)).equals(Buffer.from(der))).toBe(true);
    // The same base64 as the fixture, whose lines are 64 columns too.
    expect(text.replace(/\s+/g, '')).toBe(pem().replace(/\s+/g, ''));
  });

  it('finds the certificate among other PEM blocks', () => {
    const text = `-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n${pem()}`;
    expect(parseCertificate(text).commonName).toBe('ТЕСТОВ ТЕСТ');
  });

  it('refuses what is not a certificate with CertificateFormatError', () => {
    const der = pemToDer(pem());
    const bad: (Uint8Array | string)[] = [
      new Uint8Array(0),
      '',
      der.subarray(0, der.length - 10), // truncated
      Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n'),
      '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
      new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), // a SEQUENCE, not a certificate
      'not base64 at all!',
    ];
    for (const input of bad) expect(() => parseCertificate(input)).toThrow(CertificateFormatError);
  });
});

describe('helpers', () => {
  it('tells GOST algorithms and their standards apart', () => {
    expect(isGostAlgorithm('1.2.398.3.10.1.1.1.1')).toBe(true);
    expect(isGostAlgorithm('1.2.398.3.10.1.1.1.2')).toBe(true); // the 2004 signature algorithm
    expect(isGostAlgorithm('1.2.398.3.10.1.1.2.2')).toBe(true);
    expect(isGostAlgorithm('1.2.840.113549.1.1.1')).toBe(false);
    expect(isGostAlgorithm('1.2.398.3.3.4.1.1')).toBe(false); // an NCA role, not an algorithm
    expect(gostFamily('1.2.398.3.10.1.1.1.1')).toBe('gost2004');
    expect(gostFamily('1.2.398.3.10.1.1.2.3.2')).toBe('gost2015');
    expect(gostFamily('1.2.840.10045.2.1')).toBeNull();
    expect(gostAlgorithmName('1.2.398.3.10.1.1.1.1')).toBe('GOST 34.310-2004');
    expect(gostAlgorithmName('1.2.398.3.10.1.1.2.2')).toBe('GOST 34.10-2015');
    expect(gostAlgorithmName('1.2.840.113549.1.1.1')).toBeNull();
  });

  it('writes serials as unsigned hex without leading zeros', () => {
    expect(serialKey(new Uint8Array([0x00, 0x8f, 0x01]))).toBe('8f01'); // sign byte
    expect(serialKey(new Uint8Array([0x0a, 0xbc]))).toBe('abc');
    expect(serialKey(new Uint8Array([0x00]))).toBe('0');
    expect(serialKey(new Uint8Array([0x10, 0x00]))).toBe(BigInt(0x1000).toString(16));
  });
});

describe('certificates of the test CA', () => {
  let dir: string;
  let pki: TestPki;
  let people: ReturnType<typeof standardPeople>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qyzmet-cert-'));
    pki = new TestPki(dir);
    people = standardPeople(pki);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The same facts as Node's own X.509 reader (OpenSSL) gives. */
  function expectAgreesWithOpenSsl(der: Uint8Array) {
    const facts = parseCertificate(der);
    const x = new X509Certificate(der);
    expect(facts.notBefore).toBe(new Date(x.validFrom).toISOString());
    expect(facts.notAfter).toBe(new Date(x.validTo).toISOString());
    expect(facts.serialNumber).toBe(BigInt(`0x${x.serialNumber}`).toString(16));
    expect(facts.sha256).toBe(x.fingerprint256.replace(/:/g, '').toLowerCase());
    return facts;
  }

  it('reads a valid IIN as valid', () => {
    const facts = expectAgreesWithOpenSsl(people.sign.certDer);
    expect(facts).toMatchObject({
      commonName: 'ТЕСТОВ ТЕСТ',
      surname: 'ТЕСТОВ',
      givenName: 'ТЕСТОВИЧ',
      iin: '900101300017',
      iinChecksumValid: true,
      bin: null,
      roles: ['individual'],
      purpose: 'sign',
      issuerCommonName: 'QYZMET TEST CA (RSA)',
      publicKeyAlgorithm: 'rsa',
      publicKeyBits: 2048,
    });
    expect(expectAgreesWithOpenSsl(people.auth.certDer).purpose).toBe('auth');
  });

  it("reads an organisation's name with quotes, its BIN and the roles", () => {
    const facts = expectAgreesWithOpenSsl(people.head.certDer);
    expect(facts).toMatchObject({
      commonName: 'ӘБІЛҚАСЫМОВА ГҮЛНАР',
      givenName: 'СЕРІКҚЫЗЫ',
      organisation: 'ГУ "Отдел занятости и социальных программ"',
      bin: '050140000011',
      binChecksumValid: true,
      iin: '850315400015',
      iinChecksumValid: true,
      roles: ['legalEntity', 'head'],
    });
    expect(facts.subject).toContain('O=ГУ \\"Отдел занятости и социальных программ\\"');
  });

  it('reads an EC key and its curve size', () => {
    const facts = expectAgreesWithOpenSsl(people.employeeEc.certDer);
    expect(facts).toMatchObject({
      publicKeyAlgorithm: 'ec',
      publicKeyBits: 256,
      roles: ['legalEntity', 'employee'],
      purpose: 'sign',
    });
  });

  it('reports the dates of an expired certificate as they are', () => {
    const facts = expectAgreesWithOpenSsl(people.expired.certDer);
    expect(Date.parse(facts.notAfter)).toBeLessThan(Date.now());
  });

  it('reads BMPString names, GeneralizedTime, an e-mail, both purposes, P-384', () => {
    // string_mask=default writes non-Latin text as BMPString; a date after 2049 must be GeneralizedTime.
    const cfg = join(dir, 'bmp.cnf');
    writeFileSync(
      cfg,
      [
        '[ req ]',
        'distinguished_name = dn',
        'prompt = no',
        'string_mask = default',
        'utf8 = yes',
        '[ dn ]',
        'CN = ЖАНБОЛАТ ӘЛИ',
        'O = ТОО \\"Тест, ЛТД\\"',
        'serialNumber = IIN900101300017',
        '[ ext ]',
        'basicConstraints = CA:FALSE',
        'keyUsage = critical, digitalSignature, nonRepudiation',
        'extendedKeyUsage = clientAuth, emailProtection, 1.2.398.3.3.4.1.2.3',
        'subjectAltName = email:test@example.kz',
        '',
      ].join('\n'),
    );
    const certPath = join(dir, 'bmp.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-384',
        '-nodes',
        '-keyout',
        join(dir, 'bmp.key'),
        '-out',
        certPath,
        '-days',
        '20000',
        '-config',
        cfg,
        '-extensions',
        'ext',
      ],
      QUIET,
    );
    const parsed = execFileSync('openssl', ['asn1parse', '-in', certPath], { encoding: 'utf8' });
    expect(parsed).toContain('BMPSTRING');
    expect(parsed).toContain('GENERALIZEDTIME');

    const facts = expectAgreesWithOpenSsl(pemToDer(readFileSync(certPath, 'utf8')));
    expect(facts).toMatchObject({
      commonName: 'ЖАНБОЛАТ ӘЛИ',
      organisation: 'ТОО "Тест, ЛТД"',
      iin: '900101300017',
      email: 'test@example.kz',
      purpose: 'both',
      roles: ['financial'],
      publicKeyAlgorithm: 'ec',
      publicKeyBits: 384,
    });
    expect(facts.subject).toBe('CN=ЖАНБОЛАТ ӘЛИ, O=ТОО \\"Тест\\, ЛТД\\", SERIALNUMBER=IIN900101300017');
    expect(new Date(facts.notAfter).getUTCFullYear()).toBeGreaterThan(2049);
  });

  it('falls back to nonRepudiation for the purpose and finds roles in the policies', () => {
    const ext = join(dir, 'ku.ext');
    writeFileSync(ext, 'keyUsage = critical, nonRepudiation\ncertificatePolicies = 1.2.398.3.3.4.1.2.4\n');
    const certPath = join(dir, 'ku.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'ku.key'),
        '-out',
        certPath,
        '-subj',
        '/CN=HR',
        '-days',
        '1',
        '-addext',
        'keyUsage = critical, nonRepudiation',
        '-addext',
        'certificatePolicies = 1.2.398.3.3.4.1.2.4',
      ],
      QUIET,
    );
    const facts = parseCertificate(readFileSync(certPath));
    expect(facts).toMatchObject({
      extendedKeyUsage: [],
      keyUsage: ['nonRepudiation'],
      purpose: 'sign',
      policies: ['1.2.398.3.3.4.1.2.4'],
      roles: ['hr'],
    });
  });
});
