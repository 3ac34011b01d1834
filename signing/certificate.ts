/**
 * Reads X.509 certificates into the facts the interface, the CLI and the
 * checks use (who, which organisation, which roles, what for, until when).
 *
 * Parsing goes through pkijs/asn1js, never node-forge: forge refuses any
 * certificate whose key is not RSA, and the national CA issues GOST ones
 * (GOST 34.310-2004 and GOST 34.10-2015) that must still be readable here even
 * though this workstation cannot sign with them.
 *
 * Conventions:
 * - `serialNumber`: the serial as an unsigned number in lower-case hex with no
 *   leading zeros (what `BigInt(…).toString(16)` gives): der.ts's serialKey, the
 *   one normal form, which CRL entries and OCSP CertIDs use too.
 * - `subject` / `issuer`: the name in the certificate's own order (as NCALayer
 *   and Kalkan show it: "CN=…, SURNAME=…, SERIALNUMBER=IIN…"), values escaped
 *   as in RFC 4514. For matching names, compare the DER, not these strings.
 * - Dates are ISO 8601 in UTC.
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { isValidBin, isValidIin } from '#core/identity/iin.js';
import { hex, isBase64Text, pemBlocks, serialKey } from './der.js';
import { NCA_ROLE_OIDS, type CertificateFacts, type NcaRole } from './types.js';

export { derToPem } from './der.js';

/** The input is not an X.509 certificate (or not one this reader can decode). */
export class CertificateFormatError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`certificate: ${message}`, options);
    this.name = 'CertificateFormatError';
  }
}

// ---------------------------------------------------------------------------
// OIDs

const OID = {
  commonName: '2.5.4.3',
  surname: '2.5.4.4',
  serialNumber: '2.5.4.5',
  organisation: '2.5.4.10',
  organisationalUnit: '2.5.4.11',
  givenName: '2.5.4.42',
  emailAddress: '1.2.840.113549.1.9.1',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  certificatePolicies: '2.5.29.32',
  extKeyUsage: '2.5.29.37',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
} as const;

const GOST_ARC = '1.2.398.3.10.1.1.';
const GOST_2004_ARC = '1.2.398.3.10.1.1.1.';
const GOST_2015_ARC = '1.2.398.3.10.1.1.2.';

/** Short attribute names, as Kalkan/BouncyCastle print them. */
const NAME_LABELS: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SURNAME',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'T',
  '2.5.4.42': 'GIVENNAME',
  '2.5.4.43': 'INITIALS',
  '2.5.4.65': 'PSEUDONYM',
  '1.2.840.113549.1.9.1': 'E',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
};

export type KeyUsageName = (typeof KEY_USAGE_NAMES)[number];

/** RFC 5280 KeyUsage bit names, by bit number. */
const KEY_USAGE_NAMES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

/** Named curves and their sizes in bits. */
const EC_CURVE_BITS: Readonly<Record<string, number>> = {
  '1.2.840.10045.3.1.7': 256, // P-256
  '1.3.132.0.34': 384, // P-384
  '1.3.132.0.35': 521, // P-521
  '1.3.132.0.10': 256, // secp256k1
  '1.3.36.3.3.2.8.1.1.7': 256, // brainpoolP256r1
  '1.3.36.3.3.2.8.1.1.11': 384, // brainpoolP384r1
  '1.3.36.3.3.2.8.1.1.13': 512, // brainpoolP512r1
};

// ---------------------------------------------------------------------------
// GOST

/** True for the Kazakh GOST key and signature algorithm OIDs (1.2.398.3.10.1.1.*). */
export function isGostAlgorithm(oid: string): boolean {
  return oid.startsWith(GOST_ARC);
}

/** 'gost2004' for GOST 34.310-2004 OIDs, 'gost2015' for GOST 34.10-2015 OIDs, otherwise null. */
export function gostFamily(oid: string): 'gost2004' | 'gost2015' | null {
  if (oid.startsWith(GOST_2004_ARC)) return 'gost2004';
  if (oid.startsWith(GOST_2015_ARC)) return 'gost2015';
  return null;
}

/** The standard's name for a GOST OID ('GOST 34.310-2004', 'GOST 34.10-2015', or 'GOST' for another arc), or null. */
export function gostAlgorithmName(oid: string): string | null {
  switch (gostFamily(oid)) {
    case 'gost2004':
      return 'GOST 34.310-2004';
    case 'gost2015':
      return 'GOST 34.10-2015';
    default:
      return isGostAlgorithm(oid) ? 'GOST' : null;
  }
}

// ---------------------------------------------------------------------------
// PEM / DER

const CERTIFICATE_LABELS = ['CERTIFICATE', 'X509 CERTIFICATE'];

/**
 * The DER of the first PEM block with one of `labels` (default: a
 * certificate). Throws CertificateFormatError when there is none.
 */
export function pemToDer(pem: string, labels: string | readonly string[] = CERTIFICATE_LABELS): Uint8Array {
  const wanted = typeof labels === 'string' ? [labels] : labels;
  const block = pemBlocks(pem).find((b) => wanted.includes(b.label));
  if (!block) throw new CertificateFormatError(`no ${wanted.join(' / ')} PEM block`);
  if (!isBase64Text(block.base64)) throw new CertificateFormatError(`the ${block.label} PEM block is not base64`);
  return new Uint8Array(Buffer.from(block.base64, 'base64'));
}

/**
 * Length in bytes of the DER element at the start of `bytes` (header and
 * content), or null when the header is not a definite-length SEQUENCE.
 */
function outerSequenceLength(bytes: Uint8Array): number | null {
  if (bytes.length < 2 || bytes[0] !== 0x30) return null;
  const first = bytes[1] ?? 0;
  if (first < 0x80) return 2 + first;
  const count = first & 0x7f;
  if (count === 0 || count > 4 || bytes.length < 2 + count) return null;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (bytes[2 + i] ?? 0);
  return 2 + count + length;
}

function startsWithText(bytes: Uint8Array, text: string): boolean {
  let i = 0;
  // Skip a UTF-8 byte-order mark and leading whitespace.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  for (let j = 0; j < text.length; j++) if (bytes[i + j] !== text.charCodeAt(j)) return false;
  return true;
}

/**
 * The DER of a certificate given as DER, PEM (bytes or string) or bare base64.
 * Trailing bytes after the DER (a stray newline) are dropped; a truncated DER
 * throws CertificateFormatError. Always returns a new array.
 */
export function certificateDer(input: Uint8Array | string): Uint8Array {
  let der: Uint8Array;
  if (typeof input === 'string') {
    if (input.includes('-----BEGIN')) der = pemToDer(input);
    else if (isBase64Text(input)) der = new Uint8Array(Buffer.from(input.replace(/\s+/g, ''), 'base64'));
    else throw new CertificateFormatError('neither PEM nor base64 text');
  } else if (startsWithText(input, '-----BEGIN')) {
    der = pemToDer(new TextDecoder().decode(input));
  } else if (input[0] === 0x30) {
    der = new Uint8Array(input);
  } else {
    const text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
    if (input.length === 0 || !isBase64Text(text)) throw new CertificateFormatError('not DER or PEM');
    der = new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'base64'));
  }
  const length = outerSequenceLength(der);
  if (length === null) throw new CertificateFormatError('not a DER SEQUENCE');
  if (length > der.length) throw new CertificateFormatError('truncated DER');
  return length < der.length ? der.slice(0, length) : der;
}

// ---------------------------------------------------------------------------
// Small ASN.1 helpers

/** Number of significant bits of a big-endian unsigned integer. */
function bitLength(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  const top = bytes[i] ?? 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(top));
}

function parseDer(bytes: Uint8Array): asn1js.AsnType | null {
  const decoded = asn1js.fromBER(bytes);
  return decoded.offset === -1 ? null : decoded.result;
}

function childrenOf(node: asn1js.AsnType | null | undefined): asn1js.AsnType[] {
  if (node instanceof asn1js.Constructed || node instanceof asn1js.Sequence || node instanceof asn1js.Set) {
    return node.valueBlock.value;
  }
  return [];
}

function oidOf(node: asn1js.AsnType | undefined): string | null {
  return node instanceof asn1js.ObjectIdentifier ? node.valueBlock.toString() : null;
}

/** A directory string's text; non-string values in RFC 4514's '#hex' form. */
export function attributeText(value: unknown): string {
  if (value instanceof asn1js.BaseStringBlock) return value.valueBlock.value;
  if (value instanceof asn1js.BaseBlock) return `#${hex(new Uint8Array(value.toBER(false)))}`;
  return '';
}

// ---------------------------------------------------------------------------
// Names

function escapeRfc4514(value: string): string {
  let out = value.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/**
 * The name for people and logs, in the certificate's order: "CN=ТЕСТОВ ТЕСТ, SURNAME=ТЕСТОВ, SERIALNUMBER=IIN…,
 * C=KZ". The one formatter of names (subjects, issuers, CRL issuers, OCSP responders).
 */
export function distinguishedName(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => `${NAME_LABELS[tv.type] ?? tv.type}=${escapeRfc4514(attributeText(tv.value))}`)
    .join(', ');
}

/**
 * A name in one comparable form, for matching (never for showing): "oid=value" pairs, values trimmed,
 * spaces collapsed, lower case.
 */
export function nameKey(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => `${tv.type}=${attributeText(tv.value).trim().replace(/\s+/g, ' ').toLowerCase()}`)
    .join(',');
}

/** The values of one attribute type in a name, in order, trimmed. */
export function attributes(name: pkijs.RelativeDistinguishedNames, type: string): string[] {
  return name.typesAndValues.filter((tv) => tv.type === type).map((tv) => attributeText(tv.value).trim());
}

function firstAttribute(name: pkijs.RelativeDistinguishedNames, type: string): string | null {
  return attributes(name, type)[0] ?? null;
}

// ---------------------------------------------------------------------------
// Extensions

function extensionValue(cert: pkijs.Certificate, oid: string): asn1js.AsnType | null {
  const ext = cert.extensions?.find((e) => e.extnID === oid);
  if (!ext) return null;
  return parseDer(new Uint8Array(ext.extnValue.getValue()));
}

/** The key usage bits set, in bit order; null when the certificate has no key usage extension. */
export function keyUsageOf(cert: pkijs.Certificate): KeyUsageName[] | null {
  if (!cert.extensions?.some((e) => e.extnID === OID.keyUsage)) return null;
  const value = extensionValue(cert, OID.keyUsage);
  if (!(value instanceof asn1js.BitString)) return [];
  const bits = value.valueBlock.valueHexView;
  return KEY_USAGE_NAMES.filter((_, i) => (((bits[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) === 1);
}

/** The extended key usage OIDs; null when the certificate has no such extension. */
export function extendedKeyUsageOf(cert: pkijs.Certificate): string[] | null {
  if (!cert.extensions?.some((e) => e.extnID === OID.extKeyUsage)) return null;
  return childrenOf(extensionValue(cert, OID.extKeyUsage))
    .map((n) => oidOf(n))
    .filter((o): o is string => o !== null);
}

function policies(cert: pkijs.Certificate): string[] {
  return childrenOf(extensionValue(cert, OID.certificatePolicies))
    .map((info) => oidOf(childrenOf(info)[0]))
    .filter((o): o is string => o !== null);
}

/** rfc822Name entries of the subject alternative name ([1] IMPLICIT IA5String). */
function altNameEmails(cert: pkijs.Certificate): string[] {
  return childrenOf(extensionValue(cert, OID.subjectAltName))
    .filter((n) => n.idBlock.tagClass === 3 && n.idBlock.tagNumber === 1 && n instanceof asn1js.Primitive)
    .map((n) => Buffer.from((n as asn1js.Primitive).valueBlock.valueHexView).toString('latin1'));
}

// ---------------------------------------------------------------------------
// Public key

function publicKeyFacts(spki: pkijs.PublicKeyInfo): { algorithm: string; bits: number | null } {
  const oid = spki.algorithm.algorithmId;
  const keyBytes = spki.subjectPublicKey.valueBlock.valueHexView;
  if (oid === OID.rsaEncryption) {
    const modulus = childrenOf(parseDer(keyBytes))[0];
    return {
      algorithm: 'rsa',
      bits: modulus instanceof asn1js.Integer ? bitLength(modulus.valueBlock.valueHexView) : null,
    };
  }
  if (oid === OID.ecPublicKey) {
    const params: unknown = spki.algorithm.algorithmParams;
    const curve = params instanceof asn1js.ObjectIdentifier ? params.valueBlock.toString() : '';
    let bits = EC_CURVE_BITS[curve] ?? null;
    if (bits === null && keyBytes.length > 1) {
      if (keyBytes[0] === 0x04) bits = ((keyBytes.length - 1) / 2) * 8;
      else if (keyBytes[0] === 0x02 || keyBytes[0] === 0x03) bits = (keyBytes.length - 1) * 8;
    }
    return { algorithm: 'ec', bits };
  }
  const family = gostFamily(oid);
  if (family) {
    // The BIT STRING wraps an OCTET STRING holding the point (x || y): the key size is half of it.
    const point = parseDer(keyBytes);
    const bits = point instanceof asn1js.OctetString ? (point.valueBlock.valueHexView.length * 8) / 2 : null;
    return { algorithm: family, bits: bits || null };
  }
  return { algorithm: oid, bits: null };
}

// ---------------------------------------------------------------------------
// Certificate

/** Decodes a certificate (DER, PEM or base64) with pkijs. Throws CertificateFormatError. */
export function decodeCertificate(input: Uint8Array | string): pkijs.Certificate {
  const der = certificateDer(input);
  try {
    return pkijs.Certificate.fromBER(der);
  } catch (err) {
    throw new CertificateFormatError('not an X.509 certificate', { cause: err });
  }
}

/** The 12 digits of the first value that is `prefix` and 12 digits ("IIN…" in SERIALNUMBER, "BIN…" in OU). */
export function twelveDigits(values: readonly string[], prefix: string): string | null {
  const pattern = new RegExp(`^${prefix}(\\d{12})$`, 'i');
  for (const v of values) {
    const m = pattern.exec(v.trim());
    if (m?.[1]) return m[1];
  }
  return null;
}

function purposeOf(eku: readonly string[], keyUsage: readonly string[]): CertificateFacts['purpose'] {
  const auth = eku.includes(OID.clientAuth);
  const sign = eku.includes(OID.emailProtection);
  if (auth && sign) return 'both';
  if (auth) return 'auth';
  if (sign) return 'sign';
  if (keyUsage.includes('nonRepudiation')) return 'sign';
  return 'unknown';
}

function rolesOf(oids: readonly string[]): NcaRole[] {
  const roles: NcaRole[] = [];
  for (const oid of oids) {
    const role = (NCA_ROLE_OIDS as Readonly<Record<string, NcaRole>>)[oid];
    if (role && !roles.includes(role)) roles.push(role);
  }
  return roles;
}

/**
 * Facts already read, by the DER's SHA-256: verifying many signatures of the
 * same signers (a head's forty results) reads each certificate once.
 */
const FACTS_CACHE_SIZE = 512;
const factsCache = new Map<string, CertificateFacts>();

/** The facts of a certificate given as DER, PEM or base64. Throws CertificateFormatError. */
export function parseCertificate(input: Uint8Array | string): CertificateFacts {
  const der = certificateDer(input);
  const key = createHash('sha256').update(der).digest('hex');
  const cached = factsCache.get(key);
  if (cached) return structuredClone(cached);
  const facts = readFacts(der);
  if (factsCache.size >= FACTS_CACHE_SIZE) {
    const oldest = factsCache.keys().next().value;
    if (oldest !== undefined) factsCache.delete(oldest);
  }
  factsCache.set(key, facts);
  return structuredClone(facts);
}

function readFacts(der: Uint8Array): CertificateFacts {
  const cert = decodeCertificate(der);
  const subject = cert.subject;

  const iin = twelveDigits(attributes(subject, OID.serialNumber), 'IIN');
  const bin = twelveDigits(attributes(subject, OID.organisationalUnit), 'BIN');
  const keyUsage: string[] = keyUsageOf(cert) ?? [];
  const eku = extendedKeyUsageOf(cert) ?? [];
  const policyOids = policies(cert);
  const key = publicKeyFacts(cert.subjectPublicKeyInfo);

  return {
    commonName: firstAttribute(subject, OID.commonName) ?? '',
    surname: firstAttribute(subject, OID.surname),
    givenName: firstAttribute(subject, OID.givenName),
    iin,
    iinChecksumValid: iin === null ? null : isValidIin(iin),
    bin,
    binChecksumValid: bin === null ? null : isValidBin(bin),
    organisation: firstAttribute(subject, OID.organisation),
    email: firstAttribute(subject, OID.emailAddress) ?? altNameEmails(cert)[0] ?? null,
    roles: rolesOf([...eku, ...policyOids]),
    purpose: purposeOf(eku, keyUsage),
    keyUsage,
    extendedKeyUsage: eku,
    policies: policyOids,
    notBefore: cert.notBefore.value.toISOString(),
    notAfter: cert.notAfter.value.toISOString(),
    issuerCommonName: firstAttribute(cert.issuer, OID.commonName) ?? '',
    issuer: distinguishedName(cert.issuer),
    subject: distinguishedName(subject),
    serialNumber: serialKey(cert.serialNumber.valueBlock.valueHexView),
    publicKeyAlgorithm: key.algorithm,
    publicKeyBits: key.bits,
    sha256: createHash('sha256').update(der).digest('hex'),
  };
}
