/**
 * The demo start's signing kit, so that a person trying the app can sign
 * without a token or a real certificate: a demo CA (trusted in this data
 * folder only), its CRL, and a key file for the demo head with a signing
 * certificate written the way the national CA writes them. Made once per data
 * folder, only when the app starts with demo data; never in a real install.
 */
import { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { buildPkcs12 } from '#signing/index.js';

export const DEMO_KEY_PASSWORD = 'demo';

export interface DemoKit {
  keyFile: string;
  password: string;
  created: boolean;
}

export interface DemoPerson {
  fullName: string; // "Surname Name Patronymic"
  iin: string;
  bin?: string;
  organisation?: string;
}

const OID = {
  cn: '2.5.4.3',
  surname: '2.5.4.4',
  givenName: '2.5.4.42',
  serialNumber: '2.5.4.5',
  country: '2.5.4.6',
  organisation: '2.5.4.10',
  unit: '2.5.4.11',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  policies: '2.5.29.32',
  crlNumber: '2.5.29.20',
  emailProtection: '1.3.6.1.5.5.7.3.4',
};

const ALGORITHM = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;

function engine(): pkijs.CryptoEngine {
  return new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as pkijs.ICryptoEngine['crypto'] });
}

/** A Name with one attribute per RDN, in the given order (pkijs would put them all in one multi-valued RDN). */
function rdn(pairs: [string, string, 'printable' | 'utf8'][]): pkijs.RelativeDistinguishedNames {
  const name = new asn1js.Sequence({
    value: pairs.map(
      ([type, value, kind]) =>
        new asn1js.Set({
          value: [
            new asn1js.Sequence({
              value: [
                new asn1js.ObjectIdentifier({ value: type }),
                kind === 'printable' ? new asn1js.PrintableString({ value }) : new asn1js.Utf8String({ value }),
              ],
            }),
          ],
        }),
    ),
  });
  const parsed = asn1js.fromBER(name.toBER(false));
  return new pkijs.RelativeDistinguishedNames({ schema: parsed.result });
}

function extension(extnID: string, critical: boolean, value: asn1js.BaseBlock): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

/** KeyUsage bits (digitalSignature = 0, nonRepudiation = 1, …, keyCertSign = 5, cRLSign = 6). */
function keyUsage(bits: number[]): asn1js.BitString {
  let byte = 0;
  for (const b of bits) byte |= 0x80 >> b;
  const last = Math.max(...bits);
  return new asn1js.BitString({ valueHex: new Uint8Array([byte]).buffer, unusedBits: 7 - last });
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(
    { ...ALGORITHM, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
}

/** A random 12-byte serial number. */
export function serial(): asn1js.Integer {
  const bytes = webcrypto.getRandomValues(new Uint8Array(12));
  // Positive, and never a leading zero byte: OpenSSL refuses a DER INTEGER that is not minimally encoded.
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return new asn1js.Integer({ valueHex: bytes.buffer });
}

async function certificate(o: {
  subject: pkijs.RelativeDistinguishedNames;
  issuer: pkijs.RelativeDistinguishedNames;
  publicKey: CryptoKey;
  signer: CryptoKey;
  notBefore: Date;
  notAfter: Date;
  extensions: pkijs.Extension[];
}): Promise<pkijs.Certificate> {
  const crypto = engine();
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = serial();
  cert.subject = o.subject;
  cert.issuer = o.issuer;
  cert.notBefore.value = o.notBefore;
  cert.notAfter.value = o.notAfter;
  cert.extensions = o.extensions;
  await cert.subjectPublicKeyInfo.importKey(o.publicKey, crypto);
  await cert.sign(o.signer, 'SHA-256', crypto);
  return cert;
}

function pem(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

/**
 * Makes the kit in `dataDir` unless it is there: `trusted/qyzmet-demo-ca.pem`,
 * `crl/qyzmet-demo-ca.crl` and `demo-signing/RSA256_<iin>.p12` (password "demo").
 */
export async function ensureDemoKit(dataDir: string, person: DemoPerson, now = new Date()): Promise<DemoKit> {
  const dir = join(dataDir, 'demo-signing');
  const keyFile = join(dir, `RSA256_${person.iin}.p12`);
  const caFile = join(dataDir, 'trusted', 'qyzmet-demo-ca.pem');
  const crlFile = join(dataDir, 'crl', 'qyzmet-demo-ca.crl');
  if (existsSync(keyFile) && existsSync(caFile) && existsSync(crlFile)) {
    return { keyFile, password: DEMO_KEY_PASSWORD, created: false };
  }
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(dataDir, 'trusted'), { recursive: true });
  mkdirSync(join(dataDir, 'crl'), { recursive: true });

  const day = 86_400_000;
  const caKeys = await keyPair();
  const caName = rdn([
    [OID.country, 'KZ', 'printable'],
    [OID.cn, 'QYZMET DEMO CA (RSA) — not for real use', 'utf8'],
  ]);
  const ca = await certificate({
    subject: caName,
    issuer: caName,
    publicKey: caKeys.publicKey,
    signer: caKeys.privateKey,
    notBefore: new Date(now.getTime() - day),
    notAfter: new Date(now.getTime() + 10 * 365 * day),
    extensions: [
      extension(OID.basicConstraints, true, new pkijs.BasicConstraints({ cA: true }).toSchema()),
      extension(OID.keyUsage, true, keyUsage([5, 6])),
    ],
  });

  const [surname = person.fullName, firstName = '', patronymic] = person.fullName.toUpperCase().split(/\s+/);
  const subject: [string, string, 'printable' | 'utf8'][] = [
    [OID.cn, `${surname} ${firstName}`.trim(), 'utf8'],
    [OID.surname, surname, 'utf8'],
    ...(patronymic ? ([[OID.givenName, patronymic, 'utf8']] as [string, string, 'utf8'][]) : []),
    [OID.serialNumber, `IIN${person.iin}`, 'printable'],
    [OID.country, 'KZ', 'printable'],
    ...(person.organisation ? ([[OID.organisation, person.organisation, 'utf8']] as [string, string, 'utf8'][]) : []),
    ...(person.bin ? ([[OID.unit, `BIN${person.bin}`, 'printable']] as [string, string, 'printable'][]) : []),
  ];
  const roles = person.bin ? ['1.2.398.3.3.4.1.2', '1.2.398.3.3.4.1.2.1'] : ['1.2.398.3.3.4.1.1'];
  const userKeys = await keyPair();
  const user = await certificate({
    subject: rdn(subject),
    issuer: caName,
    publicKey: userKeys.publicKey,
    signer: caKeys.privateKey,
    notBefore: new Date(now.getTime() - day),
    notAfter: new Date(now.getTime() + 365 * day),
    extensions: [
      extension(OID.basicConstraints, false, new pkijs.BasicConstraints({ cA: false }).toSchema()),
      extension(OID.keyUsage, true, keyUsage([0, 1])),
      extension(
        OID.extKeyUsage,
        false,
        new pkijs.ExtKeyUsage({ keyPurposes: [OID.emailProtection, ...roles] }).toSchema(),
      ),
      extension(
        OID.policies,
        false,
        new pkijs.CertificatePolicies({
          certificatePolicies: [new pkijs.PolicyInformation({ policyIdentifier: '1.2.398.3.3.2.3' })],
        }).toSchema(),
      ),
    ],
  });

  // An empty CRL for a year, so that offline checks know nothing is revoked.
  const crl = new pkijs.CertificateRevocationList();
  crl.version = 1;
  crl.issuer = caName;
  crl.thisUpdate = new pkijs.Time({ type: 0, value: now });
  crl.nextUpdate = new pkijs.Time({ type: 0, value: new Date(now.getTime() + 365 * day) });
  crl.crlExtensions = new pkijs.Extensions({
    extensions: [extension(OID.crlNumber, false, new asn1js.Integer({ value: 1 }))],
  });
  await crl.sign(caKeys.privateKey, 'SHA-256', engine());

  // The key file: PKCS#12 with 3DES, as the national CA's key files are.
  const pkcs8 = new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', userKeys.privateKey));
  const userDer = new Uint8Array(user.toSchema(true).toBER(false));
  const caDer = new Uint8Array(ca.toSchema(true).toBER(false));
  const p12 = buildPkcs12({
    password: DEMO_KEY_PASSWORD,
    entries: [{ pkcs8, certificate: userDer, alias: 'demo-head' }],
    extraCertificates: [caDer],
    keyEncryption: '3des',
    certEncryption: '3des',
    mac: 'sha1',
  });
  pkcs8.fill(0);
  writeFileSync(keyFile, p12);
  writeFileSync(caFile, pem(caDer, 'CERTIFICATE'));
  writeFileSync(crlFile, new Uint8Array(crl.toSchema(true).toBER(false)));
  return { keyFile, password: DEMO_KEY_PASSWORD, created: true };
}

/** The demo key file's bytes (tests). */
export function readDemoKeyFile(kit: DemoKit): Buffer {
  return readFileSync(kit.keyFile);
}
