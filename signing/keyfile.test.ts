import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, randomBytes, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSigningError, type SigningError, type SigningErrorCode } from './errors.js';
import { inspectKeyFile, listKeyFileAliases, openKeyFile, unlockKeyFile } from './keyfile.js';
import { gostCertificate, gostKeyFile } from './testing/gost-keyfile.js';
import { buildPkcs12 } from './pkcs12-builder.js';
import { standardPeople, TestPki, type Person } from './testing/pki.js';
import type { SigningKey } from './types.js';

const PASSWORD = 'Qwerty12';
const CYRILLIC = 'Құпия сөз 2024';
const pw = (text: string = PASSWORD) => new Uint8Array(Buffer.from(text, 'utf8'));

/** DER of an OID, to show which protection scheme a file really uses. */
const OID_DER = {
  pbeSha1TripleDes: Buffer.from('060a2a864886f70d010c0103', 'hex'),
  pbeSha1Rc240: Buffer.from('060a2a864886f70d010c0106', 'hex'),
  pbes2: Buffer.from('06092a864886f70d01050d', 'hex'),
  hmacWithSha256: Buffer.from('06082a864886f70d0209', 'hex'),
  aes256Cbc: Buffer.from('060960864801650304012a', 'hex'),
};

function pkcs8Der(person: Person): Uint8Array {
  return createPrivateKey(person.keyPem).export({ type: 'pkcs8', format: 'der' });
}

/** Signs with the key and checks the signature with the certificate's public key (Node/OpenSSL). */
async function expectSignsFor(key: SigningKey, certificate: Uint8Array) {
  const data = randomBytes(100);
  const signature = await key.sign(data);
  expect(verify('sha256', data, new X509Certificate(certificate).publicKey, signature)).toBe(true);
  expect(
    verify('sha256', Buffer.concat([data, Buffer.from('x')]), new X509Certificate(certificate).publicKey, signature),
  ).toBe(false);
}

function failure(fn: () => unknown): SigningError {
  try {
    fn();
  } catch (err) {
    if (isSigningError(err)) return err;
    throw err;
  }
  throw new Error('expected a SigningError');
}

function expectCode(fn: () => unknown, code: SigningErrorCode): SigningError {
  const err = failure(fn);
  expect(err.code).toBe(code);
  return err;
}

const hex = (bytes: readonly Uint8Array[]) => bytes.map((b) => Buffer.from(b).toString('hex')).sort();

let dir: string;
let pki: TestPki;
let people: ReturnType<typeof standardPeople>;
const files: Record<string, Buffer> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-keyfile-'));
  pki = new TestPki(dir);
  people = standardPeople(pki);
  files.legacy = pki.p12(people.sign, PASSWORD, { legacy: true });
  files.modern = pki.p12(people.sign, PASSWORD);
  files.legacyCyrillic = pki.p12(people.head, CYRILLIC, { legacy: true });
  files.modernCyrillic = pki.p12(people.head, CYRILLIC);
  files.ec = pki.p12(people.employeeEc, PASSWORD, { alias: 'Артём EC' });

  // What `openssl pkcs12 -export -legacy` writes, as BouncyCastle (and so Kalkan) does: 3DES key, RC2-40 certificates.
  const passFile = join(dir, 'rc2.pass');
  writeFileSync(passFile, PASSWORD);
  const export12 = (out: string, extra: string[]) => {
    execFileSync(
      'openssl',
      [
        'pkcs12',
        '-export',
        '-inkey',
        people.auth.keyPath,
        '-in',
        people.auth.certPath,
        '-certfile',
        pki.chainPath,
        '-name',
        'auth',
        '-passout',
        `file:${passFile}`,
        '-out',
        join(dir, out),
        ...extra,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return readFileSync(join(dir, out));
  };
  files.rc2 = export12('rc2.p12', ['-legacy']);
  files.noMac = export12('nomac.p12', ['-legacy', '-nomac']);

  // Two keys in one file, certificates first and in the other order: pairing must not rely on order.
  files.twoKeys = buildPkcs12({
    password: PASSWORD,
    entries: [
      { pkcs8: pkcs8Der(people.sign), certificate: people.sign.certDer, alias: 'sign' },
      { pkcs8: pkcs8Der(people.head), certificate: people.head.certDer, alias: 'head' },
    ],
    extraCertificates: [pki.ca.certDer],
    certEncryption: '3des',
    mac: 'sha256',
    certificatesFirst: true,
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('opening key files', () => {
  it('opens a legacy PBE-SHA1-3DES file (what NCA key files use) and signs for its certificate', async () => {
    expect(files.legacy!.includes(OID_DER.pbeSha1TripleDes)).toBe(true);
    expect(files.legacy!.includes(OID_DER.pbes2)).toBe(false);
    const key = openKeyFile(files.legacy!, pw());
    expect(key.source).toBe('keyfile');
    expect(key.label).toBe('sign');
    expect(key.algorithm).toBe('rsa');
    expect(Buffer.from(key.certificate).equals(people.sign.certDer)).toBe(true);
    expect(hex(key.chain)).toEqual(hex([pki.ca.certDer, pki.root.certDer]));
    await expectSignsFor(key, people.sign.certDer);
  });

  it("opens OpenSSL 3's default: PBES2 AES-256-CBC with PBKDF2 HMAC-SHA256", async () => {
    expect(files.modern!.includes(OID_DER.pbes2)).toBe(true);
    expect(files.modern!.includes(OID_DER.hmacWithSha256)).toBe(true);
    expect(files.modern!.includes(OID_DER.aes256Cbc)).toBe(true);
    const key = openKeyFile(files.modern!, pw());
    expect(Buffer.from(key.certificate).equals(people.sign.certDer)).toBe(true);
    expect(key.chain).toHaveLength(2);
    await expectSignsFor(key, people.sign.certDer);
  });

  it('opens both kinds with a Cyrillic password (BMPString for PKCS#12 PBE, UTF-8 for PBKDF2)', async () => {
    for (const file of [files.legacyCyrillic!, files.modernCyrillic!]) {
      const key = openKeyFile(file, pw(CYRILLIC));
      await expectSignsFor(key, people.head.certDer);
      expectCode(() => openKeyFile(file, pw(PASSWORD)), 'wrongPassword');
    }
  });

  it('opens an EC key (which forge cannot parse) and signs ECDSA', async () => {
    const key = openKeyFile(files.ec!, pw());
    expect(key.algorithm).toBe('ec');
    expect(key.label).toBe('Артём EC');
    await expectSignsFor(key, people.employeeEc.certDer);
  });

  it('opens the BouncyCastle layout: RC2-40 certificates (gone from OpenSSL 3 without the legacy provider)', async () => {
    expect(files.rc2!.includes(OID_DER.pbeSha1Rc240)).toBe(true);
    const key = openKeyFile(files.rc2!, pw());
    expect(key.label).toBe('auth');
    await expectSignsFor(key, people.auth.certDer);
  });

  it('opens a file without a MAC, and still tells a wrong password', async () => {
    await expectSignsFor(openKeyFile(files.noMac!, pw()), people.auth.certDer);
    expectCode(() => openKeyFile(files.noMac!, pw('wrong')), 'wrongPassword');
  });

  it('accepts the alias of a one-key file', async () => {
    await expectSignsFor(openKeyFile(files.legacy!, pw(), { alias: 'sign' }), people.sign.certDer);
  });

  it('names a key without a friendlyName by its localKeyId, and pairs by public key without one', async () => {
    const localKeyId = Buffer.from('0102a0ff', 'hex');
    const file = buildPkcs12({
      password: PASSWORD,
      entries: [
        { pkcs8: pkcs8Der(people.sign), certificate: people.sign.certDer, localKeyId },
        { pkcs8: pkcs8Der(people.auth), certificate: people.auth.certDer, alias: 'auth', localKeyId: null },
      ],
      certificatesFirst: true,
    });
    const unlocked = unlockKeyFile(file, pw());
    expect(unlocked.aliases).toEqual(['0102a0ff', 'auth']);
    await expectSignsFor(unlocked.signingKey('0102a0ff'), people.sign.certDer);
    await expectSignsFor(unlocked.signingKey('auth'), people.auth.certDer);
  });
  it('ignores bytes after the PKCS#12 structure', async () => {
    const padded = Buffer.concat([files.legacy!, Buffer.from('\n\0\0')]);
    await expectSignsFor(openKeyFile(padded, pw()), people.sign.certDer);
  });

  it('trusts the public key over a localKeyId that names the wrong certificate', async () => {
    const file = buildPkcs12({
      password: PASSWORD,
      entries: [{ pkcs8: pkcs8Der(people.sign), certificate: people.auth.certDer, alias: 'x' }],
      extraCertificates: [people.sign.certDer],
    });
    const key = openKeyFile(file, pw());
    expect(Buffer.from(key.certificate).equals(people.sign.certDer)).toBe(true);
    expect(hex(key.chain)).toEqual(hex([people.auth.certDer]));
    await expectSignsFor(key, people.sign.certDer);
  });

  it('says keyfileCorrupt for a key whose certificate is not in the file', () => {
    const file = buildPkcs12({
      password: PASSWORD,
      entries: [{ pkcs8: pkcs8Der(people.sign), certificate: people.auth.certDer, alias: 'x' }],
    });
    expect(unlockKeyFile(file, pw()).entries[0]?.certificate).toBeNull();
    expectCode(() => openKeyFile(file, pw()), 'keyfileCorrupt');
  });
});

describe('several keys in one file', () => {
  it('is a real PKCS#12 file with two keys (OpenSSL reads it)', () => {
    const path = join(dir, 'two.p12');
    writeFileSync(path, files.twoKeys!);
    // `-info` reports the bags on stderr.
    const run = spawnSync('openssl', ['pkcs12', '-in', path, '-info', '-noout', '-passin', `pass:${PASSWORD}`], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    const info = run.stdout + run.stderr;
    expect(info).toContain('MAC: sha256');
    expect(info.match(/Shrouded Keybag/g)).toHaveLength(2);
  });

  it('wants an alias, and lists them', () => {
    const err = expectCode(() => openKeyFile(files.twoKeys!, pw()), 'aliasRequired');
    expect(err.details).toEqual({ aliases: 'sign,head' });
    expect(expectCode(() => openKeyFile(files.twoKeys!, pw(), { alias: 'nobody' }), 'aliasRequired').details).toEqual({
      aliases: 'sign,head',
    });
    expect(listKeyFileAliases(files.twoKeys!, pw())).toEqual(['sign', 'head']);
  });

  it('opens the chosen key with its own certificate; the chain leaves out the other key', async () => {
    const key = openKeyFile(files.twoKeys!, pw(), { alias: 'head' });
    expect(Buffer.from(key.certificate).equals(people.head.certDer)).toBe(true);
    expect(hex(key.chain)).toEqual(hex([pki.ca.certDer]));
    await expectSignsFor(key, people.head.certDer);
  });

  it('shows who will sign, then signs with either key after one password', async () => {
    const inspection = inspectKeyFile(files.twoKeys!, pw());
    expect(
      inspection.aliases.map((a) => ({
        alias: a.alias,
        name: a.facts?.commonName,
        iin: a.facts?.iin,
        organisation: a.facts?.organisation,
        algorithm: a.algorithm,
        unsupported: a.unsupportedAlgorithm,
      })),
    ).toEqual([
      {
        alias: 'sign',
        name: 'ТЕСТОВ ТЕСТ',
        iin: '900101300017',
        organisation: null,
        algorithm: 'rsa',
        unsupported: null,
      },
      {
        alias: 'head',
        name: 'ӘБІЛҚАСЫМОВА ГҮЛНАР',
        iin: '850315400015',
        organisation: 'ГУ "Отдел занятости и социальных программ"',
        algorithm: 'rsa',
        unsupported: null,
      },
    ]);

    const password = pw();
    const unlocked = unlockKeyFile(files.twoKeys!, password);
    expect(password.every((b) => b === 0)).toBe(true);
    await expectSignsFor(unlocked.signingKey('sign'), people.sign.certDer);
    await expectSignsFor(unlocked.signingKey('head'), people.head.certDer);
    expectCode(() => unlocked.signingKey(), 'aliasRequired');
  });

  it('keeps aliases apart when two keys share a friendlyName', () => {
    const file = buildPkcs12({
      password: PASSWORD,
      entries: [
        { pkcs8: pkcs8Der(people.sign), certificate: people.sign.certDer, alias: 'RSA256' },
        { pkcs8: pkcs8Der(people.auth), certificate: people.auth.certDer, alias: 'RSA256' },
      ],
    });
    expect(listKeyFileAliases(file, pw())).toEqual(['RSA256', 'RSA256 #2']);
  });

  it('says keyNotFound for a file with certificates only', () => {
    const file = buildPkcs12({ password: PASSWORD, entries: [], extraCertificates: [pki.ca.certDer] });
    expect(listKeyFileAliases(file, pw())).toEqual([]);
    expectCode(() => openKeyFile(file, pw()), 'keyNotFound');
  });
});

describe('GOST key files', () => {
  it('refuses a GOST 34.310-2004 key with the algorithm named', () => {
    const err = expectCode(() => openKeyFile(gostKeyFile(PASSWORD), pw()), 'unsupportedAlgorithm');
    expect(err.details).toEqual({ algorithm: 'GOST 34.310-2004' });
    expect(err.message).toBe('signing: unsupportedAlgorithm');
  });

  it('refuses a GOST 34.10-2015 key with the algorithm named', () => {
    const err = expectCode(() => openKeyFile(gostKeyFile(PASSWORD, { variant: '2015' }), pw()), 'unsupportedAlgorithm');
    expect(err.details).toEqual({ algorithm: 'GOST 34.10-2015' });
  });

  it('still shows whose GOST key it is', () => {
    const [entry, ...rest] = inspectKeyFile(gostKeyFile(PASSWORD, { alias: 'ceo' }), pw()).aliases;
    expect(rest).toEqual([]);
    expect(entry?.alias).toBe('ceo');
    expect(entry?.algorithm).toBe('gost2004');
    expect(entry?.unsupportedAlgorithm).toBe('GOST 34.310-2004');
    expect(Buffer.from(entry!.certificate!).equals(Buffer.from(gostCertificate()))).toBe(true);
    expect(entry?.facts).toMatchObject({
      commonName: 'ТЕСТОВ ТЕСТ',
      organisation: 'АО "ТЕСТ"',
      bin: '123456789021',
      iinChecksumValid: false,
      roles: ['legalEntity', 'head'],
    });
  });

  it('checks the password before the algorithm', () => {
    expectCode(() => openKeyFile(gostKeyFile(PASSWORD), pw('wrong')), 'wrongPassword');
  });
});

describe('errors', () => {
  it('says wrongPassword for a wrong or empty password, in both formats', () => {
    for (const file of [files.legacy!, files.modern!, files.rc2!, files.twoKeys!]) {
      expectCode(() => openKeyFile(file, pw('qwerty12')), 'wrongPassword');
      expectCode(() => openKeyFile(file, new Uint8Array(0)), 'wrongPassword');
    }
  });

  it('says keyfileCorrupt for a truncated file', () => {
    for (const file of [files.legacy!, files.modern!]) {
      expectCode(() => openKeyFile(file.subarray(0, file.length >> 1), pw()), 'keyfileCorrupt');
      expectCode(() => openKeyFile(file.subarray(0, file.length - 1), pw()), 'keyfileCorrupt');
      expectCode(() => openKeyFile(file.subarray(0, 40), pw()), 'keyfileCorrupt');
    }
  });

  it('says keyfileCorrupt, not wrongPassword, when the MAC is damaged but the password decrypts the key', () => {
    for (const file of [files.legacy!, files.modern!]) {
      const pfx = forge.asn1.fromDer(file.toString('binary'));
      const digest = ((pfx.value as forge.asn1.Asn1[])[2]!.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
      const bytes = Buffer.from(digest[1]!.value as string, 'binary');
      bytes[0]! ^= 0xff;
      digest[1]!.value = bytes.toString('binary');
      const damaged = Buffer.from(forge.asn1.toDer(pfx).getBytes(), 'binary');
      expect(damaged.length).toBe(file.length);
      expectCode(() => openKeyFile(damaged, pw()), 'keyfileCorrupt');
      expectCode(() => openKeyFile(damaged, pw('wrong')), 'wrongPassword');
    }
  });

  it('says keyfileNotPkcs12 for what is not PKCS#12 at all', () => {
    const notPkcs12: Uint8Array[] = [
      new Uint8Array(0),
      randomBytes(4096),
      Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<< /Type /Catalog >>\nendobj\n'),
      Buffer.from(people.sign.certPem), // a PEM certificate
      people.sign.certDer, // a DER certificate: ASN.1, but no PFX
      pkcs8Der(people.sign), // a bare PKCS#8 key
      Buffer.from(files.legacy!.toString('base64')), // a base64 dump of a key file
    ];
    for (const bytes of notPkcs12) expectCode(() => openKeyFile(bytes, pw()), 'keyfileNotPkcs12');
  });

  it('never keeps the password: wiped after success and after every kind of failure', () => {
    const cases: [Uint8Array, string][] = [
      [files.legacy!, PASSWORD],
      [files.modernCyrillic!, CYRILLIC],
      [files.legacy!, 'Bad-Pa55'],
      [files.legacy!.subarray(0, 100), PASSWORD],
      [Buffer.from('%PDF-1.7'), PASSWORD],
      [gostKeyFile(PASSWORD), PASSWORD],
      [files.twoKeys!, PASSWORD],
    ];
    for (const [bytes, text] of cases) {
      for (const fn of [openKeyFile, listKeyFileAliases, inspectKeyFile]) {
        const password = pw(text);
        let error: unknown = null;
        try {
          fn(bytes, password);
        } catch (err) {
          error = err;
        }
        expect(password.every((b) => b === 0)).toBe(true);
        if (error) {
          expect(isSigningError(error)).toBe(true);
          const shown = JSON.stringify({ message: (error as Error).message, details: (error as SigningError).details });
          expect(shown).not.toContain(text);
        }
      }
    }
  });
});
