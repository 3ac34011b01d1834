/**
 * CMS SignedData (RFC 5652) with SHA-256: signing (attached or detached),
 * co-signing (another SignerInfo on an existing SignedData), placing an
 * RFC 3161 timestamp token as an unsigned attribute, reading, and the
 * cryptographic check of every signer.
 *
 * The private key never comes here: a SigningKey signs the DER of the signed
 * attributes (it hashes them itself). Trust in the signer's certificate
 * (chain, validity, revocation) is another module's job; verifyCmsSignatures
 * only says whether the bytes are what the signer signed.
 *
 * Signed attributes: contentType, signingTime, messageDigest and
 * signingCertificateV2 (RFC 5035: SHA-256 of the signer's certificate and its
 * issuer and serial number), DER-sorted as a SET OF requires.
 *
 * Encoding is done with ./asn1.js rather than pkijs's SignedData: elements of
 * an existing CMS must be kept byte for byte (re-encoding a signer's signed
 * attributes breaks its signature), and the content is copied once, into the
 * output, instead of the several passes pkijs makes.
 */
import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import {
  Asn1Error,
  NULL,
  TAG,
  bytesEqual,
  childrenOf,
  contentsOf,
  ctx,
  encodingOf,
  expectTag,
  int,
  node,
  octetString,
  octetsOf,
  oid,
  publicKeyOf,
  readCertificate,
  readOid,
  readRoot,
  readTime,
  seq,
  set,
  setOf,
  time,
  toDer,
  type CertificateInfo,
  type Der,
  type Tlv,
} from './asn1.js';
import { SigningError } from './errors.js';
import type { SigningKey } from './types.js';

export const CMS_OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  timeStampToken: '1.2.840.113549.1.9.16.2.14',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
} as const;

/** Digest algorithms a signer may name, by OID: the node:crypto name. */
const DIGESTS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

interface SignatureAlgorithm {
  name: string;
  key: 'rsa' | 'ec';
  /** The hash the algorithm names, or null when it is the signer's digestAlgorithm (rsaEncryption, ecPublicKey). */
  hash: string | null;
}

const SIGNATURE_ALGORITHMS: Readonly<Record<string, SignatureAlgorithm>> = {
  '1.2.840.113549.1.1.1': { name: 'rsaEncryption', key: 'rsa', hash: null },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', key: 'rsa', hash: 'sha1' },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', key: 'rsa', hash: 'sha224' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', key: 'rsa', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', key: 'rsa', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', key: 'rsa', hash: 'sha512' },
  '1.2.840.10045.2.1': { name: 'ecPublicKey', key: 'ec', hash: null },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', key: 'ec', hash: 'sha1' },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', key: 'ec', hash: 'sha224' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', key: 'ec', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', key: 'ec', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', key: 'ec', hash: 'sha512' },
};

// AlgorithmIdentifiers this module writes: SHA-2 without parameters (RFC 5754),
// sha256WithRSAEncryption with NULL (RFC 4055), ECDSA without (RFC 5758).
const SHA256_ALGORITHM = toDer(seq(oid(CMS_OID.sha256)));
const RSA_SHA256_ALGORITHM = toDer(seq(oid(CMS_OID.sha256WithRSAEncryption), NULL));
const ECDSA_SHA256_ALGORITHM = toDer(seq(oid(CMS_OID.ecdsaWithSHA256)));

// ---------------------------------------------------------------------------
// Public shapes
// ---------------------------------------------------------------------------

export interface CmsSignOptions {
  /** Leave the content out of the CMS (the verifier gets it separately). */
  detached?: boolean;
  /** The signingTime attribute; now by default. Whole seconds are kept. */
  signingTime?: Date;
  /** Add the key's chain (intermediates) to the certificates besides the signer's own. */
  includeChain?: boolean;
}

export interface CmsCosignOptions {
  /** The signed content, required when the CMS is detached. When attached, it must equal the content inside. */
  content?: Uint8Array;
  signingTime?: Date;
  includeChain?: boolean;
}

export interface CmsSignerFacts {
  /** The signer's certificate (DER) found among the CMS's certificates by issuer and serial number or by key identifier. */
  certificate: Uint8Array | null;
  signingTime: Date | null;
  /** 'sha256' etc., or the OID when unknown. */
  digestAlgorithm: string;
  /** 'sha256WithRSAEncryption', 'ecdsa-with-SHA256' etc., or the OID when unknown (e.g. GOST). */
  signatureAlgorithm: string;
  hasSigningCertificateV2: boolean;
  /** The first RFC 3161 TimeStampToken (DER ContentInfo) among the unsigned attributes, or null. */
  timestampToken: Uint8Array | null;
}

export interface ParsedCms {
  detached: boolean;
  /** The encapsulated content: a view into the input when it was encoded as one piece (no copy). */
  content: Uint8Array | null;
  /** The OID of the encapsulated content's type (id-data for documents). */
  contentType: string;
  signers: CmsSignerFacts[];
  /** Every X.509 certificate the CMS carries, DER. */
  certificates: Uint8Array[];
}

export type CmsSignerCheck =
  | { index: number; ok: true; certificate: Uint8Array; signingTime: Date | null }
  | {
      index: number;
      ok: false;
      code: 'signatureInvalid' | 'contentMismatch' | 'unsupportedAlgorithm';
      /** What failed, in English, for the logs. */
      reason: string;
      certificate: Uint8Array | null;
    };

export interface CmsVerifyOptions {
  /** The content of a detached CMS (ignored when the CMS carries its content). */
  content?: Uint8Array;
  /** Certificates to look the signers up in besides those inside the CMS (DER). */
  certificates?: readonly Uint8Array[];
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

interface Attribute {
  oid: string;
  tlv: Tlv;
  values: Tlv[];
}

interface SignerRecord {
  tlv: Tlv;
  fields: Tlv[];
  sid: { issuer: Uint8Array; serialNumber: Uint8Array } | { subjectKeyIdentifier: Uint8Array };
  digestOid: string;
  signedAttrs: { tlv: Tlv; list: Attribute[] } | null;
  signatureOid: string;
  signatureTlv: Tlv;
  unsignedAttrs: { tlv: Tlv; list: Attribute[] } | null;
}

interface SignedDataRecord {
  buf: Uint8Array;
  fields: {
    version: Tlv;
    digestAlgorithms: Tlv;
    encapContentInfo: Tlv;
    certificates: Tlv | null;
    crls: Tlv | null;
    signerInfos: Tlv;
  };
  contentType: string;
  content: Uint8Array | null;
  /** Each element of the certificates field (certificates and other choices), whole encodings. */
  certificateChoices: Uint8Array[];
  /** The X.509 certificates among them. */
  certificates: Uint8Array[];
  signers: SignerRecord[];
}

function malformed(reason: string, cause?: unknown): SigningError {
  return new SigningError('malformedSignature', { reason }, cause === undefined ? undefined : { cause });
}

function readAttributes(buf: Uint8Array, tlv: Tlv): Attribute[] {
  return childrenOf(buf, tlv).map((a) => {
    const [type, values] = childrenOf(buf, expectTag(a, TAG.sequence, 'Attribute'));
    return {
      oid: readOid(buf, type),
      tlv: a,
      values: childrenOf(buf, expectTag(values, TAG.set, 'AttributeValues')),
    };
  });
}

function readSignerInfo(buf: Uint8Array, tlv: Tlv): SignerRecord {
  const fields = childrenOf(buf, expectTag(tlv, TAG.sequence, 'SignerInfo'));
  let i = 0;
  expectTag(fields[i++], TAG.integer, 'SignerInfo version');
  const sidTlv = fields[i++];
  let sid: SignerRecord['sid'];
  if (sidTlv?.tag === TAG.sequence) {
    const [issuer, serial] = childrenOf(buf, sidTlv);
    sid = {
      issuer: encodingOf(buf, expectTag(issuer, TAG.sequence, 'issuer')),
      serialNumber: encodingOf(buf, expectTag(serial, TAG.integer, 'serialNumber')),
    };
  } else if (sidTlv?.tag === 0x80 || sidTlv?.tag === 0xa0) {
    sid = { subjectKeyIdentifier: octetsOf(buf, sidTlv) };
  } else {
    throw new Asn1Error('SignerIdentifier expected');
  }
  const digestOid = readOid(buf, childrenOf(buf, expectTag(fields[i++], TAG.sequence, 'digestAlgorithm'))[0]);
  let signedAttrs: SignerRecord['signedAttrs'] = null;
  if (fields[i]?.tag === 0xa0) {
    signedAttrs = { tlv: fields[i]!, list: readAttributes(buf, fields[i]!) };
    i++;
  }
  const signatureOid = readOid(buf, childrenOf(buf, expectTag(fields[i++], TAG.sequence, 'signatureAlgorithm'))[0]);
  const signatureTlv = fields[i++];
  if (!signatureTlv || (signatureTlv.tag & 0xdf) !== TAG.octetString) throw new Asn1Error('signature expected');
  let unsignedAttrs: SignerRecord['unsignedAttrs'] = null;
  if (fields[i]?.tag === 0xa1) {
    unsignedAttrs = { tlv: fields[i]!, list: readAttributes(buf, fields[i]!) };
    i++;
  }
  if (i !== fields.length) throw new Asn1Error('SignerInfo: unexpected element');
  return { tlv, fields, sid, digestOid, signedAttrs, signatureOid, signatureTlv, unsignedAttrs };
}

function readSignedData(der: Uint8Array): SignedDataRecord {
  if (!(der instanceof Uint8Array)) throw malformed('bytes expected');
  try {
    const buf = der;
    const root = expectTag(readRoot(buf), TAG.sequence, 'ContentInfo');
    const [typeTlv, explicit] = childrenOf(buf, root);
    if (readOid(buf, typeTlv) !== CMS_OID.signedData) throw new Asn1Error('not a SignedData');
    const sd = expectTag(childrenOf(buf, expectTag(explicit, 0xa0, '[0] content'))[0], TAG.sequence, 'SignedData');
    const f = childrenOf(buf, sd);
    let i = 0;
    const version = expectTag(f[i++], TAG.integer, 'version');
    const digestAlgorithms = expectTag(f[i++], TAG.set, 'digestAlgorithms');
    const encapContentInfo = expectTag(f[i++], TAG.sequence, 'encapContentInfo');
    const certificates = f[i]?.tag === 0xa0 ? f[i++]! : null;
    const crls = f[i]?.tag === 0xa1 ? f[i++]! : null;
    const signerInfos = expectTag(f[i++], TAG.set, 'signerInfos');
    if (i !== f.length) throw new Asn1Error('SignedData: unexpected element');

    const [eType, eContent] = childrenOf(buf, encapContentInfo);
    const contentType = readOid(buf, eType);
    let content: Uint8Array | null = null;
    if (eContent) {
      const octets = childrenOf(buf, expectTag(eContent, 0xa0, '[0] eContent'))[0];
      if (!octets || (octets.tag & 0xdf) !== TAG.octetString) throw new Asn1Error('eContent OCTET STRING expected');
      content = octetsOf(buf, octets);
    }

    const certificateChoices: Uint8Array[] = [];
    const certs: Uint8Array[] = [];
    if (certificates) {
      for (const c of childrenOf(buf, certificates)) {
        certificateChoices.push(encodingOf(buf, c));
        if (c.tag === TAG.sequence) certs.push(encodingOf(buf, c));
      }
    }
    const signers = childrenOf(buf, signerInfos).map((s) => readSignerInfo(buf, s));
    return {
      buf,
      fields: { version, digestAlgorithms, encapContentInfo, certificates, crls, signerInfos },
      contentType,
      content,
      certificateChoices,
      certificates: certs,
      signers,
    };
  } catch (err) {
    if (err instanceof SigningError) throw err;
    if (err instanceof Asn1Error) throw malformed(err.message, err);
    throw malformed('unreadable', err);
  }
}

function attribute(signer: SignerRecord, kind: 'signed' | 'unsigned', attrOid: string): Attribute | undefined {
  const attrs = kind === 'signed' ? signer.signedAttrs : signer.unsignedAttrs;
  return attrs?.list.find((a) => a.oid === attrOid);
}

function signingTimeOf(buf: Uint8Array, signer: SignerRecord): Date | null {
  const value = attribute(signer, 'signed', CMS_OID.signingTime)?.values[0];
  return value ? readTime(buf, value) : null;
}

/** Certificates read once per call; the signer's found by issuer and serial number, or by key identifier. */
class CertificateIndex {
  private readonly infos: CertificateInfo[];
  private readonly keys = new Map<CertificateInfo, KeyObject>();

  constructor(ders: readonly Uint8Array[]) {
    this.infos = ders.map((d) => {
      try {
        return readCertificate(d);
      } catch (err) {
        throw err instanceof Asn1Error ? malformed(`certificate: ${err.message}`, err) : err;
      }
    });
  }

  find(sid: SignerRecord['sid']): CertificateInfo | null {
    for (const c of this.infos) {
      if ('issuer' in sid) {
        if (bytesEqual(c.serialNumber, sid.serialNumber) && bytesEqual(c.issuer, sid.issuer)) return c;
      } else if (c.subjectKeyIdentifier && bytesEqual(c.subjectKeyIdentifier, sid.subjectKeyIdentifier)) {
        return c;
      }
    }
    return null;
  }

  /** The certificate's public key, made once per certificate; null when node cannot read it (e.g. GOST). */
  key(cert: CertificateInfo): KeyObject | null {
    let k = this.keys.get(cert);
    if (!k) {
      try {
        k = publicKeyOf(cert);
      } catch {
        return null;
      }
      this.keys.set(cert, k);
    }
    return k;
  }
}

/** Reads a CMS SignedData (DER or BER). Malformed input: SigningError 'malformedSignature'. */
export function parseCms(der: Uint8Array): ParsedCms {
  const cms = readSignedData(der);
  const index = new CertificateIndex(cms.certificates);
  const buf = cms.buf;
  return {
    detached: cms.content === null,
    content: cms.content,
    contentType: cms.contentType,
    certificates: cms.certificates.map((c) => Uint8Array.from(c)),
    signers: cms.signers.map((s) => {
      const cert = index.find(s.sid);
      const token = attribute(s, 'unsigned', CMS_OID.timeStampToken)?.values[0];
      return {
        certificate: cert ? Uint8Array.from(cert.der) : null,
        signingTime: signingTimeOf(buf, s),
        digestAlgorithm: DIGESTS[s.digestOid] ?? s.digestOid,
        signatureAlgorithm: SIGNATURE_ALGORITHMS[s.signatureOid]?.name ?? s.signatureOid,
        hasSigningCertificateV2: attribute(s, 'signed', CMS_OID.signingCertificateV2) !== undefined,
        timestampToken: token ? Uint8Array.from(encodingOf(buf, token)) : null,
      };
    }),
  };
}

// ---------------------------------------------------------------------------
// Verifying
// ---------------------------------------------------------------------------

type Failure = Extract<CmsSignerCheck, { ok: false }>;

/** node:crypto verify that says false, rather than throwing, for a signature it cannot even read. */
function verifies(hash: string, data: Uint8Array, key: KeyObject, signature: Uint8Array): boolean {
  try {
    return cryptoVerify(hash, data, key, signature);
  } catch {
    return false;
  }
}

/**
 * Checks every signer cryptographically: the messageDigest attribute against
 * the content, the signature over the signed attributes with the signer's
 * certificate, and signingCertificate(V2) against that certificate.
 * Malformed CMS: SigningError 'malformedSignature'; a detached CMS without
 * `options.content`: SigningError 'contentMissing'.
 */
export function verifyCmsSignatures(der: Uint8Array, options: CmsVerifyOptions = {}): CmsSignerCheck[] {
  const cms = readSignedData(der);
  const content = cms.content ?? options.content ?? null;
  if (!content) throw new SigningError('contentMissing');
  const index = new CertificateIndex([...cms.certificates, ...(options.certificates ?? [])]);
  const digests = new Map<string, Buffer>();
  const digestOf = (hash: string) => {
    let d = digests.get(hash);
    if (!d) {
      d = createHash(hash).update(content).digest();
      digests.set(hash, d);
    }
    return d;
  };
  return cms.signers.map((signer, i) => {
    try {
      return checkSigner(cms, content, signer, i, index, digestOf);
    } catch (err) {
      if (err instanceof Asn1Error) throw malformed(`signer ${i}: ${err.message}`, err);
      throw err;
    }
  });
}

function checkSigner(
  cms: SignedDataRecord,
  content: Uint8Array,
  signer: SignerRecord,
  index: number,
  certificates: CertificateIndex,
  digestOf: (hash: string) => Buffer,
): CmsSignerCheck {
  const buf = cms.buf;
  const cert = certificates.find(signer.sid);
  const certificate = cert ? Uint8Array.from(cert.der) : null;
  const fail = (code: Failure['code'], reason: string): Failure => ({ index, ok: false, code, reason, certificate });

  const digestName = DIGESTS[signer.digestOid];
  if (!digestName) return fail('unsupportedAlgorithm', `digest algorithm ${signer.digestOid}`);
  const algorithm = SIGNATURE_ALGORITHMS[signer.signatureOid];
  if (!algorithm) return fail('unsupportedAlgorithm', `signature algorithm ${signer.signatureOid}`);

  // What the signature covers: the signed attributes as a SET OF (RFC 5652 5.4), or the content itself.
  let signed: Uint8Array;
  if (signer.signedAttrs) {
    const md = attribute(signer, 'signed', CMS_OID.messageDigest)?.values[0];
    if (!md || md.tag !== TAG.octetString) return fail('signatureInvalid', 'no messageDigest attribute');
    if (!bytesEqual(contentsOf(buf, md), digestOf(digestName))) {
      return fail('contentMismatch', 'messageDigest differs from the content');
    }
    const ct = attribute(signer, 'signed', CMS_OID.contentType)?.values[0];
    if (!ct || readOid(buf, ct) !== cms.contentType) {
      return fail('signatureInvalid', 'contentType attribute missing or not the content type');
    }
    signed = Buffer.from(encodingOf(buf, signer.signedAttrs.tlv));
    signed[0] = TAG.set;
  } else {
    // No signed attributes: the signature is over the content itself (RFC 5652 5.4).
    signed = content;
  }

  if (!cert) return fail('signatureInvalid', 'the signer certificate is not in the CMS');
  const key = certificates.key(cert);
  if (!key) return fail('unsupportedAlgorithm', 'the certificate key is not readable here');
  if (key.asymmetricKeyType !== algorithm.key) {
    return fail('signatureInvalid', `${algorithm.name} with a ${String(key.asymmetricKeyType)} key`);
  }
  const signature = octetsOf(buf, signer.signatureTlv);
  if (!verifies(algorithm.hash ?? digestName, signed, key, signature))
    return fail('signatureInvalid', 'the signature does not verify with the certificate key');

  const certCheck = checkSigningCertificate(buf, signer, cert);
  if (certCheck) return fail('signatureInvalid', certCheck);
  return { index, ok: true, certificate: certificate!, signingTime: signingTimeOf(buf, signer) };
}

/** signingCertificateV2 (or v1) names the certificate that verified the signature: null when it does (or is absent), else why not. */
function checkSigningCertificate(buf: Uint8Array, signer: SignerRecord, cert: CertificateInfo): string | null {
  const v2 = attribute(signer, 'signed', CMS_OID.signingCertificateV2);
  const v1 = attribute(signer, 'signed', CMS_OID.signingCertificate);
  const attr = v2 ?? v1;
  if (!attr) return null;
  const value = expectTag(attr.values[0], TAG.sequence, 'SigningCertificate');
  const certs = expectTag(childrenOf(buf, value)[0], TAG.sequence, 'certs');
  const first = expectTag(childrenOf(buf, certs)[0], TAG.sequence, 'ESSCertID');
  const parts = childrenOf(buf, first);
  let i = 0;
  let hash = v2 ? 'sha256' : 'sha1';
  if (v2 && parts[0]?.tag === TAG.sequence) {
    const algOid = readOid(buf, childrenOf(buf, parts[i++]!)[0]);
    const name = DIGESTS[algOid];
    if (!name) return `signingCertificateV2 hash algorithm ${algOid} unknown`;
    hash = name;
  }
  const certHash = expectTag(parts[i++], TAG.octetString, 'certHash');
  if (!bytesEqual(contentsOf(buf, certHash), createHash(hash).update(cert.der).digest())) {
    return 'signingCertificate attribute names another certificate';
  }
  const issuerSerial = parts[i];
  if (issuerSerial?.tag === TAG.sequence) {
    const serial = childrenOf(buf, issuerSerial)[1];
    if (serial && !bytesEqual(encodingOf(buf, serial), cert.serialNumber)) {
      return 'signingCertificate attribute names another serial number';
    }
  }
  return null;
}

// ---------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------

function signerCertificate(key: SigningKey): { info: CertificateInfo; publicKey: KeyObject; algorithm: Uint8Array } {
  let info: CertificateInfo;
  try {
    info = readCertificate(key.certificate);
  } catch (err) {
    throw malformed('the signing key’s certificate is not a certificate', err);
  }
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyOf(info);
  } catch (err) {
    throw new SigningError('unsupportedAlgorithm', { algorithm: 'certificate key' }, { cause: err });
  }
  const type = publicKey.asymmetricKeyType;
  if ((type !== 'rsa' && type !== 'ec') || type !== key.algorithm) {
    throw new SigningError('unsupportedAlgorithm', { algorithm: `${key.algorithm} key, ${String(type)} certificate` });
  }
  return { info, publicKey, algorithm: type === 'rsa' ? RSA_SHA256_ALGORITHM : ECDSA_SHA256_ALGORITHM };
}

/** One SignerInfo (version 1, issuerAndSerialNumber) signed by `key` over `digest` of content of type `contentType`. */
async function makeSignerInfo(
  key: SigningKey,
  contentType: string,
  digest: Uint8Array,
  signingTime: Date | undefined,
): Promise<Buffer> {
  const signer = signerCertificate(key);
  const cert = signer.info;
  const certHash = createHash('sha256').update(cert.der).digest();
  const attrs = setOf([
    seq(oid(CMS_OID.contentType), set(oid(contentType))),
    seq(oid(CMS_OID.signingTime), set(time(signingTime ?? new Date()))),
    seq(oid(CMS_OID.messageDigest), set(octetString(digest))),
    // SigningCertificateV2 { certs { ESSCertIDv2 { certHash, IssuerSerial { GeneralNames { [4] Name }, serial } } } };
    // hashAlgorithm is SHA-256, the DEFAULT, so DER leaves it out.
    seq(
      oid(CMS_OID.signingCertificateV2),
      set(seq(seq(seq(octetString(certHash), seq(seq(node(0xa4, cert.issuer)), cert.serialNumber))))),
    ),
  ]);
  // The signature covers the attributes encoded as SET OF (tag 0x31); the SignerInfo carries them as [0] IMPLICIT.
  const toSign = toDer(attrs);
  const signature = await key.sign(toSign);
  // A key that is not the certificate's (a token holding several) would make a CMS no one can verify: stop here.
  if (!verifies('sha256', toSign, signer.publicKey, signature)) {
    throw new SigningError('signatureInvalid', { reason: 'the key’s signature does not verify with its certificate' });
  }
  return toDer(
    seq(
      int(1),
      seq(cert.issuer, cert.serialNumber),
      SHA256_ALGORITHM,
      node(0xa0, ...attrs.parts),
      signer.algorithm,
      octetString(signature),
    ),
  );
}

function certificatesOf(key: SigningKey, includeChain: boolean | undefined): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of [key.certificate, ...(includeChain ? key.chain : [])]) {
    if (!out.some((o) => bytesEqual(o, c))) out.push(c);
  }
  return out;
}

function contentInfo(signedData: Der): Buffer {
  return toDer(seq(oid(CMS_OID.signedData), ctx(0, signedData)));
}

/**
 * Signs `content` as CMS SignedData with SHA-256 and returns the DER ContentInfo.
 * The content is hashed once and, when attached, copied once into the output.
 */
export async function signCms(content: Uint8Array, key: SigningKey, options: CmsSignOptions = {}): Promise<Uint8Array> {
  const digest = createHash('sha256').update(content).digest();
  const signerInfo = await makeSignerInfo(key, CMS_OID.data, digest, options.signingTime);
  const encap = options.detached ? seq(oid(CMS_OID.data)) : seq(oid(CMS_OID.data), ctx(0, octetString(content)));
  return contentInfo(
    seq(int(1), set(SHA256_ALGORITHM), encap, ctx(0, ...certificatesOf(key, options.includeChain)), set(signerInfo)),
  );
}

/**
 * Adds `key`'s SignerInfo to an existing SignedData (the head signs after the
 * executor). The existing SignerInfos, content and certificates are copied
 * byte for byte; the new signer's certificate is added and SHA-256 joins the
 * digestAlgorithms. This does not check the existing signatures: call
 * verifyCmsSignatures first when that matters.
 */
export async function cosignCms(
  existing: Uint8Array,
  key: SigningKey,
  options: CmsCosignOptions = {},
): Promise<Uint8Array> {
  const cms = readSignedData(existing);
  const buf = cms.buf;
  const content = cms.content ?? options.content ?? null;
  if (!content) throw new SigningError('contentMissing');
  if (cms.content && options.content && !bytesEqual(cms.content, options.content)) {
    throw new SigningError('contentMismatch', { reason: 'the given content differs from the content inside' });
  }
  const digest = createHash('sha256').update(content).digest();
  const signerInfo = await makeSignerInfo(key, cms.contentType, digest, options.signingTime);

  const f = cms.fields;
  const algorithms = childrenOf(buf, f.digestAlgorithms).map((t) => encodingOf(buf, t));
  const hasSha256 = childrenOf(buf, f.digestAlgorithms).some(
    (t) => readOid(buf, childrenOf(buf, t)[0]) === CMS_OID.sha256,
  );
  if (!hasSha256) algorithms.push(SHA256_ALGORITHM);

  const choices = [...cms.certificateChoices];
  for (const c of certificatesOf(key, options.includeChain)) {
    if (!choices.some((o) => bytesEqual(o, c))) choices.push(c);
  }
  return contentInfo(
    seq(
      // The version stays: a version-1 SignerInfo never raises it (RFC 5652 5.1).
      encodingOf(buf, f.version),
      setOf(algorithms),
      encodingOf(buf, f.encapContentInfo),
      ctx(0, ...choices),
      ...(f.crls ? [encodingOf(buf, f.crls)] : []),
      set(...childrenOf(buf, f.signerInfos).map((t) => encodingOf(buf, t)), signerInfo),
    ),
  );
}

// ---------------------------------------------------------------------------
// Unsigned attributes and timestamps
// ---------------------------------------------------------------------------

function signerAt(cms: SignedDataRecord, signerIndex: number): SignerRecord {
  const signer = cms.signers[signerIndex];
  if (!Number.isInteger(signerIndex) || !signer) {
    throw new RangeError(`signer ${signerIndex} out of range (0..${cms.signers.length - 1})`);
  }
  return signer;
}

/** The bytes a TSA timestamps for a signer (RFC 3161 appendix A): the SignerInfo's signature value. */
export function signatureValueOf(cms: Uint8Array, signerIndex: number): Uint8Array {
  const parsed = readSignedData(cms);
  return Uint8Array.from(octetsOf(parsed.buf, signerAt(parsed, signerIndex).signatureTlv));
}

/**
 * Adds an unsigned attribute (`values`: each one DER element) to a SignerInfo.
 * Everything else, that SignerInfo's signed part included, is kept byte for byte.
 */
export function addUnsignedAttribute(
  cms: Uint8Array,
  signerIndex: number,
  attributeOid: string,
  values: readonly Uint8Array[],
): Uint8Array {
  const parsed = readSignedData(cms);
  const buf = parsed.buf;
  const signer = signerAt(parsed, signerIndex);
  if (values.length === 0) throw new RangeError('an attribute needs at least one value');
  for (const v of values) {
    try {
      readRoot(v);
    } catch (err) {
      throw err instanceof Asn1Error ? malformed(`attribute value: ${err.message}`, err) : err;
    }
  }
  const added = seq(oid(attributeOid), set(...values));
  const unsigned = signer.unsignedAttrs
    ? ctx(1, ...childrenOf(buf, signer.unsignedAttrs.tlv).map((t) => encodingOf(buf, t)), added)
    : ctx(1, added);
  // The SignerInfo up to and including its signature, as it was, then the new [1].
  const head = buf.subarray(signer.tlv.valueStart, signer.signatureTlv.end);
  const newSigner = seq(head, unsigned);

  const f = parsed.fields;
  const signers = childrenOf(buf, f.signerInfos).map((t, i) => (i === signerIndex ? newSigner : encodingOf(buf, t)));
  const sd: Der[] = [
    encodingOf(buf, f.version),
    encodingOf(buf, f.digestAlgorithms),
    encodingOf(buf, f.encapContentInfo),
    ...(f.certificates ? [encodingOf(buf, f.certificates)] : []),
    ...(f.crls ? [encodingOf(buf, f.crls)] : []),
    set(...signers),
  ];
  return contentInfo(seq(...sd));
}

/**
 * Places an RFC 3161 TimeStampToken (DER ContentInfo) on a signer as the
 * id-aa-timeStampToken unsigned attribute (RFC 3161 appendix A). The token's
 * message imprint must be the hash of that signer's signature value, else
 * SigningError 'contentMismatch'; a token that is not a SignedData over a
 * TSTInfo: 'malformedSignature'.
 */
export function addTimestampToken(cms: Uint8Array, signerIndex: number, tokenDer: Uint8Array): Uint8Array {
  const parsed = readSignedData(cms);
  const signature = octetsOf(parsed.buf, signerAt(parsed, signerIndex).signatureTlv);
  const imprint = messageImprintOf(tokenDer);
  const hash = DIGESTS[imprint.algorithm];
  if (!hash) throw new SigningError('unsupportedAlgorithm', { algorithm: imprint.algorithm });
  if (!bytesEqual(createHash(hash).update(signature).digest(), imprint.hashedMessage)) {
    throw new SigningError('contentMismatch', { reason: 'the timestamp is not over this signature' });
  }
  return addUnsignedAttribute(cms, signerIndex, CMS_OID.timeStampToken, [tokenDer]);
}

/** TimeStampToken → TSTInfo.messageImprint. */
function messageImprintOf(token: Uint8Array): { algorithm: string; hashedMessage: Uint8Array } {
  const cms = readSignedData(token);
  if (cms.contentType !== CMS_OID.tstInfo || !cms.content) throw malformed('timestamp token without a TSTInfo');
  try {
    const tst = cms.content;
    const root = expectTag(readRoot(tst), TAG.sequence, 'TSTInfo');
    const [, , imprint] = childrenOf(tst, root);
    const [alg, hashed] = childrenOf(tst, expectTag(imprint, TAG.sequence, 'MessageImprint'));
    return {
      algorithm: readOid(tst, childrenOf(tst, expectTag(alg, TAG.sequence, 'hashAlgorithm'))[0]),
      hashedMessage: contentsOf(tst, expectTag(hashed, TAG.octetString, 'hashedMessage')),
    };
  } catch (err) {
    throw err instanceof Asn1Error ? malformed(`TSTInfo: ${err.message}`, err) : err;
  }
}
