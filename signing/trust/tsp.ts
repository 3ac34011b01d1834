/**
 * RFC 3161 time-stamping: ask a TSA to stamp some bytes (in a CAdES
 * signature, the signature value), check what comes back, and read a token.
 *
 * The request carries a SHA-256 imprint, a nonce and certReq, so the token
 * brings the TSA's certificate. The answer must be granted, stamp the same
 * imprint, echo the nonce, and be signed by a certificate with the
 * timeStamping EKU (and, given trust material, one that chains to a trusted
 * root). An unreachable or failing TSA is not an error: the result is
 * `token: null` with the reason, and the signature goes out without a stamp
 * and says so.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { SigningError } from '../errors.js';
import { buildChainViews, type TrustMaterial } from './chain.js';
import { bytesEqual } from '../asn1.js';
import { copyBytes, derFrom, DIGEST_OID_BY_NAME, digestByOid, digestName, hex, isKzGost, serialKey } from '../der.js';
import { httpExchange, type HttpProblem } from './http.js';
import { verifySignature } from './signature.js';
import { nameKey } from '../certificate.js';
import { certView, OID, type CertInput, type CertView } from './x509.js';

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const TST_INFO = '1.2.840.113549.1.9.16.1.4';
const ATTR_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const ATTR_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const ATTR_SIGNING_CERTIFICATE = '1.2.840.113549.1.9.16.2.12';
const ATTR_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';

export interface TimestampInfo {
  genTime: Date;
  /** The token's serial number, lower-case hex without leading zeros. */
  serialNumber: string;
  /** The TSA policy OID. */
  policy: string;
  /** 'sha256', 'sha1', 'gost34311' or the OID. */
  imprintAlgorithm: string;
  imprintAlgorithmOid: string;
  imprint: Uint8Array;
  /** Hex, or null when the request had none. */
  nonce: string | null;
  accuracy: { seconds: number; millis: number; micros: number } | null;
  /** The signer's certificate found in the token, DER, or null when the token doesn't carry it. */
  tsaCertificate: Uint8Array | null;
  /** The SignerInfo's signature algorithm OID. */
  signatureAlgorithm: string;
}

interface ParsedToken {
  info: TimestampInfo;
  signedData: pkijs.SignedData;
  signerInfo: pkijs.SignerInfo;
  eContent: Uint8Array;
  signer: CertView | null;
}

/** Reads a TimeStampToken (a CMS ContentInfo of SignedData over TSTInfo). Throws 'malformedSignature'. */
export function parseTimestampToken(der: Uint8Array): TimestampInfo {
  return readToken(derFrom(der)).info;
}

function readToken(der: Uint8Array, extraCerts: readonly CertInput[] = []): ParsedToken {
  try {
    const contentInfo = pkijs.ContentInfo.fromBER(der);
    if (contentInfo.contentType !== SIGNED_DATA) throw new Error('not SignedData');
    const signedData = new pkijs.SignedData({ schema: contentInfo.content });
    if (signedData.encapContentInfo.eContentType !== TST_INFO) throw new Error('not a TSTInfo');
    const eContentBlock = signedData.encapContentInfo.eContent;
    if (!eContentBlock) throw new Error('no TSTInfo');
    const eContent = new Uint8Array(eContentBlock.getValue());
    const tst = pkijs.TSTInfo.fromBER(eContent);
    const signerInfo = signedData.signerInfos[0];
    if (!signerInfo || signedData.signerInfos.length !== 1) throw new Error('a token has one signer');
    const certs = (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
    const candidates = [
      ...certs.map((c) => safeView(new Uint8Array(c.toSchema().toBER()))),
      ...extraCerts.map((c) => safeView(c)),
    ].filter((c): c is CertView => c !== null);
    const signer = candidates.find((c) => identifies(signerInfo.sid, c)) ?? null;
    const accuracy = tst.accuracy
      ? { seconds: tst.accuracy.seconds ?? 0, millis: tst.accuracy.millis ?? 0, micros: tst.accuracy.micros ?? 0 }
      : null;
    const imprintOid = tst.messageImprint.hashAlgorithm.algorithmId;
    return {
      info: {
        genTime: tst.genTime,
        serialNumber: serialKey(tst.serialNumber.valueBlock.valueHexView),
        policy: tst.policy,
        imprintAlgorithm: digestName(imprintOid),
        imprintAlgorithmOid: imprintOid,
        imprint: copyBytes(tst.messageImprint.hashedMessage.valueBlock.valueHexView),
        nonce: tst.nonce ? serialKey(tst.nonce.valueBlock.valueHexView) : null,
        accuracy,
        tsaCertificate: signer?.der ?? null,
        signatureAlgorithm: signerInfo.signatureAlgorithm.algorithmId,
      },
      signedData,
      signerInfo,
      eContent,
      signer,
    };
  } catch (cause) {
    throw new SigningError('malformedSignature', { part: 'timestamp' }, { cause });
  }
}

function safeView(input: CertInput): CertView | null {
  try {
    return certView(input);
  } catch {
    return null;
  }
}

/** Does the SignerInfo's sid (issuerAndSerialNumber or [0] subjectKeyIdentifier) name `cert`? */
function identifies(sid: unknown, cert: CertView): boolean {
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    return (
      nameKey(sid.issuer) === cert.issuerKey && serialKey(sid.serialNumber.valueBlock.valueHexView) === cert.serial
    );
  }
  if (sid instanceof asn1js.BaseBlock && sid.idBlock.tagClass === 3 && sid.idBlock.tagNumber === 0) {
    const value = (sid as asn1js.Primitive).valueBlock.valueHexView;
    return cert.subjectKeyId !== null && hex(value) === cert.subjectKeyId;
  }
  return false;
}

export type TspProblem =
  | HttpProblem
  | 'malformed'
  | 'rejected'
  | 'imprintMismatch'
  | 'nonceMismatch'
  | 'tsaCertificateMissing'
  | 'notTimeStamping'
  | 'signatureInvalid'
  | 'signatureUnsupported'
  | 'tsaUntrusted';

export interface TimestampVerifyOptions {
  /** The stamped bytes: the imprint must be their digest. */
  data?: Uint8Array;
  /** Or the imprint expected, as is. */
  imprint?: Uint8Array;
  /** The nonce sent, hex (any form). */
  nonce?: string;
  /** TSA certificates to use when the token doesn't carry its own. */
  tsaCertificates?: readonly CertInput[];
  /** When given, the TSA certificate must chain to one of these roots and be valid at genTime. */
  trust?: TrustMaterial;
}

export type TimestampVerification =
  { ok: true; info: TimestampInfo } | { ok: false; problem: TspProblem; message: string; info: TimestampInfo | null };

/** Checks a token: signer (timeStamping EKU), signed attributes, signature, imprint, nonce, and trust if asked. */
export function verifyTimestampToken(der: Uint8Array, options: TimestampVerifyOptions = {}): TimestampVerification {
  let token: ParsedToken;
  try {
    token = readToken(derFrom(der), options.tsaCertificates);
  } catch {
    return { ok: false, problem: 'malformed', message: 'not a time-stamp token', info: null };
  }
  const { info, signerInfo, signer, eContent } = token;
  const fail = (problem: TspProblem, message: string): TimestampVerification => ({
    ok: false,
    problem,
    message,
    info,
  });

  // What was stamped.
  if (options.data) {
    const digest = digestByOid(info.imprintAlgorithmOid, options.data);
    if (!digest) return fail('signatureUnsupported', `imprint algorithm ${info.imprintAlgorithm}`);
    if (!bytesEqual(digest, info.imprint)) return fail('imprintMismatch', 'the token stamps other data');
  }
  if (options.imprint && !bytesEqual(options.imprint, info.imprint)) {
    return fail('imprintMismatch', 'the token stamps another imprint');
  }
  if (options.nonce !== undefined && info.nonce !== serialKey(options.nonce)) {
    return fail('nonceMismatch', 'the token answers another request');
  }

  // Who stamped it.
  if (!signer) return fail('tsaCertificateMissing', "the TSA's certificate is not in the token");
  if (!signer.extKeyUsage?.includes(OID.ekuTimeStamping)) {
    return fail('notTimeStamping', 'the signer is not a time-stamping authority');
  }
  const sigAlg = signerInfo.signatureAlgorithm.algorithmId;
  const digestOid = signerInfo.digestAlgorithm.algorithmId;
  if (isKzGost(sigAlg) || isKzGost(digestOid) || isKzGost(signer.publicKeyAlgorithm)) {
    return fail('signatureUnsupported', 'GOST signatures are not checked here');
  }

  // The signed attributes bind the TSTInfo and the TSA's certificate.
  const attrs = signerInfo.signedAttrs;
  if (!attrs || attrs.encodedValue.byteLength === 0) return fail('malformed', 'no signed attributes');
  const attr = (type: string) => attrs.attributes.find((a) => a.type === type);
  const contentType = attr(ATTR_CONTENT_TYPE)?.values[0];
  if (!(contentType instanceof asn1js.ObjectIdentifier) || contentType.valueBlock.toString() !== TST_INFO) {
    return fail('malformed', 'the signed content type is not TSTInfo');
  }
  const messageDigest = attr(ATTR_MESSAGE_DIGEST)?.values[0];
  const expected = digestByOid(digestOid, eContent);
  if (!expected) return fail('signatureUnsupported', `digest ${digestOid}`);
  if (!(messageDigest instanceof asn1js.OctetString) || !bytesEqual(expected, messageDigest.valueBlock.valueHexView)) {
    return fail('signatureInvalid', 'the message digest does not match the TSTInfo');
  }
  const essProblem = checkSigningCertificate(attr(ATTR_SIGNING_CERTIFICATE), attr(ATTR_SIGNING_CERTIFICATE_V2), signer);
  if (essProblem) return fail('signatureInvalid', essProblem);
  const check = verifySignature(
    signerInfo.signatureAlgorithm,
    new Uint8Array(attrs.encodedValue),
    signerInfo.signature.valueBlock.valueHexView,
    signer,
    digestOid,
  );
  if (check === 'unsupported') return fail('signatureUnsupported', `algorithm ${sigAlg}`);
  if (check === 'invalid') return fail('signatureInvalid', 'the signature does not check');

  if (options.trust) {
    try {
      buildChainViews(signer, options.trust);
    } catch {
      return fail('tsaUntrusted', 'the TSA certificate does not chain to a trusted root');
    }
    const t = info.genTime.getTime();
    if (t < signer.notBefore.getTime() || t > signer.notAfter.getTime()) {
      return fail('tsaUntrusted', 'the TSA certificate was not valid at the stamped time');
    }
  }
  return { ok: true, info };
}

/** ESS signing-certificate (v1: SHA-1; v2: SHA-256 by default) must name the signer when present. */
function checkSigningCertificate(
  v1: pkijs.Attribute | undefined,
  v2: pkijs.Attribute | undefined,
  signer: CertView,
): string | null {
  const first = (a: pkijs.Attribute | undefined) => {
    const outer = a?.values[0];
    const certs = outer instanceof asn1js.Sequence ? outer.valueBlock.value[0] : undefined;
    const id = certs instanceof asn1js.Sequence ? certs.valueBlock.value[0] : undefined;
    return id instanceof asn1js.Sequence ? id.valueBlock.value : null;
  };
  const id2 = first(v2);
  if (id2) {
    let hashOid: string = DIGEST_OID_BY_NAME.sha256;
    let hashIndex = 0;
    const head = id2[0];
    if (head instanceof asn1js.Sequence) {
      const oid = head.valueBlock.value[0];
      if (oid instanceof asn1js.ObjectIdentifier) hashOid = oid.valueBlock.toString();
      hashIndex = 1;
    }
    const hash = id2[hashIndex];
    const digest = digestByOid(hashOid, signer.der);
    if (!(hash instanceof asn1js.OctetString) || !digest) return 'unreadable signing-certificate-v2';
    return bytesEqual(digest, hash.valueBlock.valueHexView) ? null : 'signing-certificate-v2 names another certificate';
  }
  const id1 = first(v1);
  if (id1) {
    const hash = id1[0];
    const digest = createHash('sha1').update(signer.der).digest();
    if (!(hash instanceof asn1js.OctetString)) return 'unreadable signing-certificate';
    return bytesEqual(digest, hash.valueBlock.valueHexView) ? null : 'signing-certificate names another certificate';
  }
  return null;
}

export interface TimestampResponse {
  /** 'granted' and 'grantedWithMods' carry a token. */
  status: 'granted' | 'grantedWithMods' | 'rejection' | 'waiting' | 'revocationWarning' | 'revocationNotification';
  statusText: string | null;
  /** The PKIFailureInfo bits set, by name. */
  failInfo: string[];
  /** The TimeStampToken's DER as sent, or null. */
  token: Uint8Array | null;
}

const PKI_STATUS = [
  'granted',
  'grantedWithMods',
  'rejection',
  'waiting',
  'revocationWarning',
  'revocationNotification',
] as const;

const FAILURE_BITS: Readonly<Record<number, string>> = {
  0: 'badAlg',
  2: 'badRequest',
  5: 'badDataFormat',
  14: 'timeNotAvailable',
  15: 'unacceptedPolicy',
  16: 'unacceptedExtension',
  17: 'addInfoNotAvailable',
  25: 'systemFailure',
};

/** Reads a TimeStampResp. Throws 'malformedSignature' on garbage. */
export function parseTimestampResponse(der: Uint8Array): TimestampResponse {
  try {
    const asn = asn1js.fromBER(der);
    if (asn.offset === -1 || !(asn.result instanceof asn1js.Sequence)) throw new Error('not a SEQUENCE');
    const resp = new pkijs.TimeStampResp({ schema: asn.result });
    const code = resp.status.status as number;
    const status = PKI_STATUS[code];
    if (!status) throw new Error(`unknown status ${code}`);
    const failInfo: string[] = [];
    const bits = resp.status.failInfo?.valueBlock.valueHexView;
    if (bits) {
      for (const [bit, name] of Object.entries(FAILURE_BITS)) {
        const i = Number(bit);
        if ((bits[i >> 3] ?? 0) & (0x80 >> (i & 7))) failInfo.push(name);
      }
    }
    const tokenBlock = asn.result.valueBlock.value[1];
    return {
      status,
      statusText: resp.status.statusStrings?.map((s) => s.valueBlock.value).join('; ') || null,
      failInfo,
      token: tokenBlock ? copyBytes(tokenBlock.valueBeforeDecodeView) : null,
    };
  } catch (cause) {
    throw new SigningError('malformedSignature', { part: 'timestamp' }, { cause });
  }
}

/** A TimeStampReq for `data`: SHA-256 imprint, a positive 64-bit nonce, certReq. */
export function buildTimestampRequest(
  data: Uint8Array,
  options: { policy?: string; nonce?: Uint8Array } = {},
): { der: Uint8Array; imprint: Uint8Array; nonce: string } {
  const imprint = new Uint8Array(createHash('sha256').update(data).digest());
  const nonce = options.nonce ?? new Uint8Array(randomBytes(8));
  if (!options.nonce) nonce[0] = ((nonce[0] ?? 0) & 0x7f) | 0x40; // positive and minimally encoded
  const request = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({
        algorithmId: DIGEST_OID_BY_NAME.sha256,
        algorithmParams: new asn1js.Null(),
      }),
      hashedMessage: new asn1js.OctetString({ valueHex: imprint }),
    }),
    nonce: new asn1js.Integer({ valueHex: nonce }),
    certReq: true,
    ...(options.policy ? { reqPolicy: options.policy } : {}),
  });
  return { der: new Uint8Array(request.toSchema().toBER()), imprint, nonce: serialKey(nonce) };
}

export interface TimestampRequestOptions {
  /** Deadline for the exchange (default 15 s). */
  timeoutMs?: number;
  /** A TSA policy to ask for. */
  policy?: string;
  /** The TSA certificate must chain to these roots. */
  trust?: TrustMaterial;
  /** TSA certificates to use if the token doesn't carry its own. */
  tsaCertificates?: readonly CertInput[];
}

export type TimestampResult =
  { token: Uint8Array; info: TimestampInfo } | { token: null; reason: TspProblem; message: string };

/**
 * Asks the TSA at `url` to stamp `data` (e.g. a CMS signature value). Returns
 * the checked token, or `token: null` with the reason. Never throws for a
 * network or TSA problem.
 */
export async function requestTimestamp(
  url: string,
  data: Uint8Array,
  options: TimestampRequestOptions = {},
): Promise<TimestampResult> {
  const request = buildTimestampRequest(data, options.policy ? { policy: options.policy } : {});
  const answer = await httpExchange(url, {
    method: 'POST',
    body: request.der,
    contentType: 'application/timestamp-query',
    accept: 'application/timestamp-reply',
    timeoutMs: options.timeoutMs ?? 15_000,
    maxBytes: 1024 * 1024,
  });
  if (!answer.ok) return { token: null, reason: answer.problem, message: answer.message };
  let response: TimestampResponse;
  try {
    response = parseTimestampResponse(answer.body);
  } catch {
    return { token: null, reason: 'malformed', message: 'the answer is not a time-stamp response' };
  }
  if ((response.status !== 'granted' && response.status !== 'grantedWithMods') || !response.token) {
    const why = [response.status, ...response.failInfo, response.statusText].filter(Boolean).join(', ');
    return { token: null, reason: 'rejected', message: `the TSA refused: ${why}` };
  }
  const verified = verifyTimestampToken(response.token, {
    imprint: request.imprint,
    nonce: request.nonce,
    ...(options.trust ? { trust: options.trust } : {}),
    ...(options.tsaCertificates ? { tsaCertificates: options.tsaCertificates } : {}),
  });
  if (!verified.ok) return { token: null, reason: verified.problem, message: verified.message };
  if (verified.info.imprintAlgorithmOid !== DIGEST_OID_BY_NAME.sha256) {
    return { token: null, reason: 'imprintMismatch', message: 'the TSA changed the imprint algorithm' };
  }
  return { token: response.token, info: verified.info };
}
