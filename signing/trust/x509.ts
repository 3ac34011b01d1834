/**
 * What the trust checks need to read from a certificate, read once: node's
 * X509Certificate for the signature checks and pkijs for the extensions
 * node doesn't expose (key usage bits, basic constraints' path length, key
 * identifiers, AIA and CRL distribution points, the raw subject name).
 *
 * Deliberately small and internal to trust/: the certificate facts shown to
 * people are signing/certificate.ts's business, and so are the readers of
 * names, key usage and identity numbers this view shares with them (a
 * certificate reads the same in both). The CMS fast path reads the few fields
 * it needs with asn1.ts, without pkijs.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { bytesEqual } from '../asn1.js';
import {
  attributes,
  decodeCertificate,
  extendedKeyUsageOf,
  keyUsageOf,
  nameKey,
  twelveDigits,
  type KeyUsageName,
} from '../certificate.js';
import { copyBytes, derFrom, hex, serialKey } from '../der.js';

export type { KeyUsageName };

/** A certificate as DER, PEM (text or bytes) or an already parsed X509Certificate. */
export type CertInput = Uint8Array | string | X509Certificate;

export const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  crlDistributionPoints: '2.5.29.31',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  accessOcsp: '1.3.6.1.5.5.7.48.1',
  ekuClientAuth: '1.3.6.1.5.5.7.3.2',
  ekuEmailProtection: '1.3.6.1.5.5.7.3.4',
  ekuTimeStamping: '1.3.6.1.5.5.7.3.8',
  ekuOcspSigning: '1.3.6.1.5.5.7.3.9',
  ekuAny: '2.5.29.37.0',
  serialNumber: '2.5.4.5',
  organizationalUnit: '2.5.4.11',
  commonName: '2.5.4.3',
} as const;

/** A parsed certificate with the facts the trust checks use. */
export interface CertView {
  readonly der: Uint8Array;
  readonly x509: X509Certificate;
  readonly cert: pkijs.Certificate;
  /** sha256 of the DER, hex: the identity used for caches and comparisons. */
  readonly fingerprint: string;
  /** Normal-form serial (see serialKey). */
  readonly serial: string;
  /** The serial's INTEGER contents as encoded (for OCSP CertIDs). */
  readonly serialBytes: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Canonical subject and issuer names, for comparisons (see nameKey). */
  readonly subjectKey: string;
  readonly issuerKey: string;
  /** The subject Name's DER as encoded (for OCSP issuerNameHash). */
  readonly subjectNameDer: Uint8Array;
  /** The subjectPublicKey BIT STRING's bits (for OCSP issuerKeyHash and responder byKey). */
  readonly publicKeyBits: Uint8Array;
  readonly publicKeyAlgorithm: string;
  /** null when the extension is absent. */
  readonly keyUsage: ReadonlySet<KeyUsageName> | null;
  readonly extKeyUsage: readonly string[] | null;
  readonly basicConstraints: { readonly ca: boolean; readonly pathLen: number | null } | null;
  readonly subjectKeyId: string | null;
  readonly authorityKeyId: string | null;
  readonly ocspUrls: readonly string[];
  readonly crlUrls: readonly string[];
}

function extension(cert: pkijs.Certificate, oid: string): pkijs.Extension | undefined {
  return cert.extensions?.find((e) => e.extnID === oid);
}

function keyUsageSet(cert: pkijs.Certificate): Set<KeyUsageName> | null {
  const names = keyUsageOf(cert);
  return names && new Set(names);
}

function readBasicConstraints(cert: pkijs.Certificate): CertView['basicConstraints'] {
  const ext = extension(cert, OID.basicConstraints);
  if (!ext) return null;
  const bc = ext.parsedValue as pkijs.BasicConstraints | undefined;
  const pathLen = bc?.pathLenConstraint;
  return {
    ca: bc?.cA === true,
    pathLen: pathLen === undefined ? null : typeof pathLen === 'number' ? pathLen : Number(pathLen.valueBlock.valueDec),
  };
}

function readUris(names: readonly pkijs.GeneralName[] | undefined): string[] {
  // GeneralName uniformResourceIdentifier is [6].
  return (names ?? []).filter((n) => n.type === 6 && typeof n.value === 'string').map((n) => String(n.value));
}

function readOcspUrls(cert: pkijs.Certificate): string[] {
  const info = extension(cert, OID.authorityInfoAccess)?.parsedValue as pkijs.InfoAccess | undefined;
  return readUris(
    info?.accessDescriptions.filter((d) => d.accessMethod === OID.accessOcsp).map((d) => d.accessLocation),
  );
}

function readCrlUrls(cert: pkijs.Certificate): string[] {
  const cdp = extension(cert, OID.crlDistributionPoints)?.parsedValue as pkijs.CRLDistributionPoints | undefined;
  const urls: string[] = [];
  for (const point of cdp?.distributionPoints ?? []) {
    const dp = point.distributionPoint;
    if (Array.isArray(dp)) urls.push(...readUris(dp));
  }
  return urls;
}

function readKeyId(cert: pkijs.Certificate, oid: string): string | null {
  const value = extension(cert, oid)?.parsedValue as asn1js.OctetString | pkijs.AuthorityKeyIdentifier | undefined;
  if (!value) return null;
  if (value instanceof pkijs.AuthorityKeyIdentifier) {
    return value.keyIdentifier ? hex(value.keyIdentifier.valueBlock.valueHexView) : null;
  }
  return hex(value.valueBlock.valueHexView);
}

function build(der: Uint8Array, x509: X509Certificate): CertView {
  const cert = decodeCertificate(der);
  return {
    der,
    x509,
    cert,
    fingerprint: createHash('sha256').update(der).digest('hex'),
    serial: serialKey(cert.serialNumber.valueBlock.valueHexView),
    serialBytes: copyBytes(cert.serialNumber.valueBlock.valueHexView),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    subjectKey: nameKey(cert.subject),
    issuerKey: nameKey(cert.issuer),
    subjectNameDer: new Uint8Array(cert.subject.toSchema().toBER()),
    publicKeyBits: copyBytes(cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView),
    publicKeyAlgorithm: cert.subjectPublicKeyInfo.algorithm.algorithmId,
    keyUsage: keyUsageSet(cert),
    extKeyUsage: extendedKeyUsageOf(cert),
    basicConstraints: readBasicConstraints(cert),
    subjectKeyId: readKeyId(cert, OID.subjectKeyIdentifier),
    authorityKeyId: readKeyId(cert, OID.authorityKeyIdentifier),
    ocspUrls: readOcspUrls(cert),
    crlUrls: readCrlUrls(cert),
  };
}

// Parsed views, by the X509Certificate object and by the DER's sha1: the same
// CA certificates come through every check, and a CMS verification rate of
// hundreds a second shouldn't re-parse them each time.
const byObject = new WeakMap<X509Certificate, CertView>();
const byDigest = new Map<string, CertView>();
// And the outcome of each issuer → certificate signature check.
const verifiedLinks = new Map<string, boolean>();
const CACHE_LIMIT = 256;

/** Reads a certificate (cached). Throws on bytes that aren't one. */
export function certView(input: CertInput | CertView): CertView {
  if (isCertView(input)) return input;
  if (input instanceof X509Certificate) {
    const hit = byObject.get(input);
    if (hit) return hit;
    const view = viewOfDer(new Uint8Array(input.raw), input);
    byObject.set(input, view);
    return view;
  }
  return viewOfDer(derFrom(input));
}

function viewOfDer(der: Uint8Array, x509?: X509Certificate): CertView {
  const key = createHash('sha1').update(der).digest('hex');
  const hit = byDigest.get(key);
  if (hit) return hit;
  const view = build(der, x509 ?? new X509Certificate(der));
  if (byDigest.size >= CACHE_LIMIT) {
    const oldest = byDigest.keys().next().value;
    if (oldest !== undefined) byDigest.delete(oldest);
  }
  byDigest.set(key, view);
  return view;
}

function isCertView(input: unknown): input is CertView {
  return typeof input === 'object' && input !== null && 'fingerprint' in input && 'x509' in input;
}

/**
 * True when `issuer` issued `cert`: names chain, key identifiers agree when
 * both are present, and the signature checks with the issuer's key (false
 * for keys node can't use, such as GOST).
 */
export function issuedBy(cert: CertView, issuer: CertView): boolean {
  if (cert.issuerKey !== issuer.subjectKey) return false;
  if (cert.authorityKeyId && issuer.subjectKeyId && cert.authorityKeyId !== issuer.subjectKeyId) return false;
  // A signature over fixed bytes checks the same every time: remember the answer.
  const link = `${cert.fingerprint}>${issuer.fingerprint}`;
  const known = verifiedLinks.get(link);
  if (known !== undefined) return known;
  let ok: boolean;
  try {
    ok = cert.x509.verify(issuer.x509.publicKey);
  } catch {
    ok = false;
  }
  if (verifiedLinks.size >= CACHE_LIMIT) {
    const oldest = verifiedLinks.keys().next().value;
    if (oldest !== undefined) verifiedLinks.delete(oldest);
  }
  verifiedLinks.set(link, ok);
  return ok;
}

/** Same subject and same key: the same CA, even re-issued. */
export function sameEntity(a: CertView, b: CertView): boolean {
  return (
    a.fingerprint === b.fingerprint || (a.subjectKey === b.subjectKey && bytesEqual(a.publicKeyBits, b.publicKeyBits))
  );
}

/** Subject's IIN (SERIALNUMBER=IIN…) and BIN (OU=BIN…), 12 digits each, or null. */
export function subjectIdentity(input: CertInput | CertView): { iin: string | null; bin: string | null } {
  const { cert } = certView(input);
  return {
    iin: twelveDigits(attributes(cert.subject, OID.serialNumber), 'IIN'),
    bin: twelveDigits(attributes(cert.subject, OID.organizationalUnit), 'BIN'),
  };
}
