/**
 * OCSP (RFC 6960) client: the request (CertID with SHA-1 by default, as
 * responders expect, or SHA-256 as the national CA's own answers use; a
 * nonce), the POST, and the answer's checks: signed by the CA itself or by a
 * responder the CA delegated (OCSPSigning EKU, issued by the CA), the nonce
 * echoed, the answer fresh. Never throws for a network or responder problem:
 * the result is then 'unknown' with the problem, and the caller falls back
 * to the CRL.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { SigningError } from '../errors.js';
import { reasonName, type RevocationReason } from './crl.js';
import { bytesEqual } from '../asn1.js';
import { copyBytes, derFrom, DIGEST_OID_BY_NAME, digestByOid, isKzGost, serialKey } from '../der.js';
import { httpExchange, type HttpProblem } from './http.js';
import { verifySignature } from './signature.js';
import { distinguishedName, nameKey } from '../certificate.js';
import { certView, issuedBy, OID, sameEntity, type CertInput, type CertView } from './x509.js';

const OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';

const RESPONSE_STATUSES = [
  'successful',
  'malformedRequest',
  'internalError',
  'tryLater',
  'unused4',
  'sigRequired',
  'unauthorized',
] as const;

export type OcspResponseStatus = (typeof RESPONSE_STATUSES)[number] | 'unrecognised';

export interface OcspCertId {
  /** The hash algorithm's OID. */
  readonly hashAlgorithm: string;
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  /** Normal-form serial (lower-case hex, no leading zeros). */
  readonly serial: string;
}

export interface OcspSingleResponse {
  readonly certId: OcspCertId;
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly revokedAt: Date | null;
  readonly reason: RevocationReason | null;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
}

export interface ParsedOcspResponse {
  readonly der: Uint8Array;
  readonly responseStatus: OcspResponseStatus;
  /** The rest is only present for a 'successful' basic response. */
  readonly producedAt: Date | null;
  readonly responder: { readonly name: string; readonly nameKey: string } | { readonly keyHash: string } | null;
  /** The nonce the answer carries (the inner OCTET STRING's value), or null. */
  readonly nonce: Uint8Array | null;
  readonly responses: readonly OcspSingleResponse[];
  /** Certificates the responder included (its own, usually), DER. */
  readonly certificates: readonly Uint8Array[];
  readonly signatureAlgorithm: string | null;
  readonly tbs: Uint8Array | null;
  readonly signatureValue: Uint8Array | null;
  readonly signatureAlgorithmId: pkijs.AlgorithmIdentifier | null;
}

/** Reads an OCSPResponse. Throws SigningError 'revocationUnknown' (details.problem 'ocspMalformed') on garbage. */
export function parseOcspResponse(input: Uint8Array): ParsedOcspResponse {
  const der = derFrom(input);
  try {
    const outer = pkijs.OCSPResponse.fromBER(der);
    const code = outer.responseStatus.valueBlock.valueDec;
    const responseStatus: OcspResponseStatus = RESPONSE_STATUSES[code] ?? 'unrecognised';
    const empty = {
      der,
      responseStatus,
      producedAt: null,
      responder: null,
      nonce: null,
      responses: [],
      certificates: [],
      signatureAlgorithm: null,
      tbs: null,
      signatureValue: null,
      signatureAlgorithmId: null,
    };
    if (responseStatus !== 'successful' || !outer.responseBytes) return empty;
    if (outer.responseBytes.responseType !== OCSP_BASIC) {
      throw new Error(`unsupported response type ${outer.responseBytes.responseType}`);
    }
    const basic = pkijs.BasicOCSPResponse.fromBER(outer.responseBytes.response.valueBlock.valueHexView);
    const data = basic.tbsResponseData;
    return {
      der,
      responseStatus,
      producedAt: data.producedAt,
      responder: readResponderId(data.responderID),
      nonce: readNonce(data.responseExtensions),
      responses: data.responses.map(readSingle),
      certificates: (basic.certs ?? []).map((c) => new Uint8Array(c.toSchema().toBER())),
      signatureAlgorithm: basic.signatureAlgorithm.algorithmId,
      tbs: copyBytes(data.tbsView),
      signatureValue: copyBytes(basic.signature.valueBlock.valueHexView),
      signatureAlgorithmId: basic.signatureAlgorithm,
    };
  } catch (cause) {
    throw new SigningError('revocationUnknown', { problem: 'ocspMalformed' }, { cause });
  }
}

function readResponderId(id: unknown): ParsedOcspResponse['responder'] {
  if (id instanceof pkijs.RelativeDistinguishedNames) return { name: distinguishedName(id), nameKey: nameKey(id) };
  if (id instanceof asn1js.OctetString) return { keyHash: Buffer.from(id.valueBlock.valueHexView).toString('hex') };
  return null;
}

/** The nonce's value: RFC 8954 wraps it in an OCTET STRING inside extnValue; very old responders don't. */
function readNonce(extensions: readonly pkijs.Extension[] | undefined): Uint8Array | null {
  const ext = extensions?.find((e) => e.extnID === OCSP_NONCE);
  if (!ext) return null;
  const raw = ext.extnValue.valueBlock.valueHexView;
  const inner = asn1js.fromBER(raw);
  if (inner.offset === raw.byteLength && inner.result instanceof asn1js.OctetString) {
    return copyBytes(inner.result.valueBlock.valueHexView);
  }
  return copyBytes(raw);
}

function readSingle(single: pkijs.SingleResponse): OcspSingleResponse {
  const certId: OcspCertId = {
    hashAlgorithm: single.certID.hashAlgorithm.algorithmId,
    issuerNameHash: copyBytes(single.certID.issuerNameHash.valueBlock.valueHexView),
    issuerKeyHash: copyBytes(single.certID.issuerKeyHash.valueBlock.valueHexView),
    serial: serialKey(single.certID.serialNumber.valueBlock.valueHexView),
  };
  const base = { certId, thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate ?? null };
  const status = single.certStatus as asn1js.BaseBlock;
  // CertStatus ::= CHOICE { good [0] NULL, revoked [1] RevokedInfo, unknown [2] UnknownInfo }
  switch (status.idBlock.tagNumber) {
    case 0:
      return { ...base, status: 'good', revokedAt: null, reason: null };
    case 1: {
      const parts = (status as asn1js.Constructed).valueBlock.value;
      const time = parts[0] instanceof asn1js.GeneralizedTime ? parts[0].toDate() : null;
      let reason: RevocationReason | null = null;
      const tagged = parts[1] as asn1js.Constructed | undefined;
      const enumerated = tagged?.valueBlock.value?.[0];
      if (enumerated instanceof asn1js.Enumerated) reason = reasonName(enumerated.valueBlock.valueDec);
      if (!time) throw new Error('revoked without a revocation time');
      return { ...base, status: 'revoked', revokedAt: time, reason };
    }
    default:
      return { ...base, status: 'unknown', revokedAt: null, reason: null };
  }
}

/** The CertID of a certificate: its issuer's name and key hashed with `hashOid`, and its serial. */
export function certIdOf(cert: CertInput | CertView, issuer: CertInput | CertView, hashOid: string): OcspCertId | null {
  const leaf = certView(cert);
  const ca = certView(issuer);
  const nameHash = digestByOid(hashOid, ca.subjectNameDer);
  const keyHash = digestByOid(hashOid, ca.publicKeyBits);
  if (!nameHash || !keyHash) return null;
  return { hashAlgorithm: hashOid, issuerNameHash: nameHash, issuerKeyHash: keyHash, serial: leaf.serial };
}

/** The answer about the certificate with `serial` (normal form or any hex) issued by `issuer`, if present. */
export function findResponse(
  response: ParsedOcspResponse,
  query: { serial: string; issuer: CertInput | CertView },
): OcspSingleResponse | null {
  const ca = certView(query.issuer);
  const serial = serialKey(query.serial);
  for (const single of response.responses) {
    if (single.certId.serial !== serial) continue;
    const nameHash = digestByOid(single.certId.hashAlgorithm, ca.subjectNameDer);
    const keyHash = digestByOid(single.certId.hashAlgorithm, ca.publicKeyBits);
    if (!nameHash || !keyHash) continue;
    if (bytesEqual(nameHash, single.certId.issuerNameHash) && bytesEqual(keyHash, single.certId.issuerKeyHash)) {
      return single;
    }
  }
  return null;
}

export interface OcspRequestOptions {
  /** The CertID hash: 'sha1' (default; what responders expect) or 'sha256'. */
  hash?: 'sha1' | 'sha256';
  /** Send a nonce (default true), or this nonce. */
  nonce?: boolean | Uint8Array;
}

/** An OCSPRequest for one certificate, DER, and the nonce it carries. */
export function buildOcspRequest(
  cert: CertInput | CertView,
  issuer: CertInput | CertView,
  options: OcspRequestOptions = {},
): { der: Uint8Array; nonce: Uint8Array | null; certId: OcspCertId } {
  const leaf = certView(cert);
  const hashOid = DIGEST_OID_BY_NAME[options.hash ?? 'sha1'];
  const certId = certIdOf(leaf, issuer, hashOid);
  if (!certId) throw new Error(`no digest for ${hashOid}`);
  const nonce =
    options.nonce === false
      ? null
      : options.nonce instanceof Uint8Array
        ? options.nonce
        : new Uint8Array(randomBytes(16));
  const request = new pkijs.OCSPRequest({
    tbsRequest: new pkijs.TBSRequest({
      requestList: [
        new pkijs.Request({
          reqCert: new pkijs.CertID({
            hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: hashOid, algorithmParams: new asn1js.Null() }),
            issuerNameHash: new asn1js.OctetString({ valueHex: certId.issuerNameHash }),
            issuerKeyHash: new asn1js.OctetString({ valueHex: certId.issuerKeyHash }),
            serialNumber: new asn1js.Integer({ valueHex: leaf.serialBytes }),
          }),
        }),
      ],
      ...(nonce
        ? {
            requestExtensions: [
              new pkijs.Extension({
                extnID: OCSP_NONCE,
                critical: false,
                extnValue: new asn1js.OctetString({ valueHex: nonce }).toBER(),
              }),
            ],
          }
        : {}),
    }),
  });
  return { der: new Uint8Array(request.toSchema(true).toBER()), nonce, certId };
}

export type OcspProblem =
  | HttpProblem
  | 'noUrl'
  | 'malformed'
  | 'notSuccessful'
  | 'signatureInvalid'
  | 'signatureUnsupported'
  | 'responderUntrusted'
  | 'nonceMismatch'
  | 'notFresh'
  | 'noMatchingResponse'
  | 'certUnknown';

export interface OcspVerifyOptions {
  /** The CA that issued the certificate asked about. */
  issuer: CertInput | CertView;
  /** The nonce sent: the answer must echo it. An answer without one is accepted only when fresh by its dates. */
  nonce?: Uint8Array | null;
  /** The time the responder's certificate must be valid at (default: now). */
  now?: Date;
  /** Responder certificates trusted outright (configured by hand). */
  trustedResponders?: readonly CertInput[];
}

/** Who signed an answer and whether it may: the CA itself, a delegated responder, or a configured one. */
export function verifyOcspResponse(
  response: ParsedOcspResponse,
  options: OcspVerifyOptions,
):
  | { ok: true; signer: 'issuer' | 'delegated' | 'trusted'; signerCertificate: Uint8Array }
  | { ok: false; problem: OcspProblem; message: string } {
  if (response.responseStatus !== 'successful' || !response.tbs || !response.signatureAlgorithmId) {
    return { ok: false, problem: 'notSuccessful', message: `responder said ${response.responseStatus}` };
  }
  if (options.nonce && response.nonce && !bytesEqual(options.nonce, response.nonce)) {
    return { ok: false, problem: 'nonceMismatch', message: 'the answer carries another nonce' };
  }
  const ca = certView(options.issuer);
  const trusted = (options.trustedResponders ?? []).map((c) => certView(c));
  const included: CertView[] = [];
  for (const der of response.certificates) {
    try {
      included.push(certView(der));
    } catch {
      // skip an unreadable certificate
    }
  }
  const signer = [...included, ca, ...trusted].find((c) => isResponder(c, response.responder));
  if (!signer) return { ok: false, problem: 'responderUntrusted', message: 'the responder certificate is missing' };
  if (isKzGost(response.signatureAlgorithmId.algorithmId) || isKzGost(signer.publicKeyAlgorithm)) {
    return { ok: false, problem: 'signatureUnsupported', message: 'GOST signatures are not checked here' };
  }
  let role: 'issuer' | 'delegated' | 'trusted';
  if (sameEntity(signer, ca)) role = 'issuer';
  else if (trusted.some((t) => sameEntity(t, signer))) role = 'trusted';
  else {
    const now = (options.now ?? new Date()).getTime();
    const delegated =
      issuedBy(signer, ca) &&
      signer.extKeyUsage?.includes(OID.ekuOcspSigning) === true &&
      now >= signer.notBefore.getTime() &&
      now <= signer.notAfter.getTime();
    if (!delegated) {
      return {
        ok: false,
        problem: 'responderUntrusted',
        message: 'the responder is neither the CA nor delegated by it (OCSPSigning, issued by the CA, valid)',
      };
    }
    role = 'delegated';
  }
  const check = verifySignature(
    response.signatureAlgorithmId,
    response.tbs,
    response.signatureValue ?? new Uint8Array(),
    signer,
  );
  if (check === 'unsupported') return { ok: false, problem: 'signatureUnsupported', message: 'unsupported algorithm' };
  if (check === 'invalid') return { ok: false, problem: 'signatureInvalid', message: 'the signature does not check' };
  return { ok: true, signer: role, signerCertificate: signer.der };
}

function isResponder(cert: CertView, responder: ParsedOcspResponse['responder']): boolean {
  if (!responder) return false;
  if ('nameKey' in responder) return cert.subjectKey === responder.nameKey;
  return createHash('sha1').update(cert.publicKeyBits).digest('hex') === responder.keyHash;
}

export interface OcspCheckOptions extends OcspRequestOptions {
  /** The responder: this URL, else the certificate's AIA OCSP address. */
  url?: string;
  /** Deadline for the exchange (default 10 s). */
  timeoutMs?: number;
  /** The time to judge freshness at (default: now). */
  now?: Date;
  /** Without nextUpdate and without an echoed nonce, how old thisUpdate may be (default 1 h). */
  maxAgeMs?: number;
  /** Tolerated clock difference with the responder (default 5 min). */
  clockSkewMs?: number;
  trustedResponders?: readonly CertInput[];
}

export type OcspResult =
  | {
      status: 'good';
      url: string;
      producedAt: Date;
      thisUpdate: Date;
      nextUpdate: Date | null;
    }
  | {
      status: 'revoked';
      url: string;
      producedAt: Date;
      thisUpdate: Date;
      nextUpdate: Date | null;
      revokedAt: Date;
      reason: RevocationReason | null;
      /** RFC 6960 §2.2: "revoked" at 1970-01-01 with certificateHold means the CA never issued it. */
      nonIssued: boolean;
    }
  | { status: 'unknown'; url: string | null; problem: OcspProblem; message: string };

/** Asks the responder about `cert` and checks the answer. Never throws for network or responder trouble. */
export async function checkOcsp(
  cert: CertInput | CertView,
  issuer: CertInput | CertView,
  options: OcspCheckOptions = {},
): Promise<OcspResult> {
  const leaf = certView(cert);
  const url = options.url ?? leaf.ocspUrls[0] ?? null;
  if (!url) return { status: 'unknown', url: null, problem: 'noUrl', message: 'no OCSP address' };
  const request = buildOcspRequest(leaf, issuer, options);
  const answer = await httpExchange(url, {
    method: 'POST',
    body: request.der,
    contentType: 'application/ocsp-request',
    accept: 'application/ocsp-response',
    timeoutMs: options.timeoutMs ?? 10_000,
    maxBytes: 1024 * 1024,
  });
  if (!answer.ok) return { status: 'unknown', url, problem: answer.problem, message: answer.message };
  const { nonce: _sent, url: _url, ...rest } = options;
  return evaluateOcspAnswer(answer.body, leaf, { ...rest, issuer, nonce: request.nonce, url });
}

/** The checks of checkOcsp on an answer already at hand (e.g. one stapled into a signature). */
export function evaluateOcspAnswer(
  der: Uint8Array,
  cert: CertInput | CertView,
  options: Omit<OcspCheckOptions, 'nonce' | 'url'> & {
    issuer: CertInput | CertView;
    /** The nonce sent, or null. */
    nonce: Uint8Array | null;
    url?: string;
  },
): OcspResult {
  const url = options.url ?? null;
  const now = options.now ?? new Date();
  let response: ParsedOcspResponse;
  try {
    response = parseOcspResponse(der);
  } catch {
    return { status: 'unknown', url, problem: 'malformed', message: 'the answer is not an OCSP response' };
  }
  const verified = verifyOcspResponse(response, {
    issuer: options.issuer,
    nonce: options.nonce,
    now,
    ...(options.trustedResponders ? { trustedResponders: options.trustedResponders } : {}),
  });
  if (!verified.ok) return { status: 'unknown', url, problem: verified.problem, message: verified.message };
  const leaf = certView(cert);
  const single = findResponse(response, { serial: leaf.serial, issuer: options.issuer });
  if (!single) {
    return { status: 'unknown', url, problem: 'noMatchingResponse', message: 'no answer about this certificate' };
  }
  const skew = options.clockSkewMs ?? 5 * 60_000;
  const nonceEchoed = options.nonce !== null && response.nonce !== null;
  const t = now.getTime();
  const fresh =
    single.thisUpdate.getTime() <= t + skew &&
    (single.nextUpdate
      ? t <= single.nextUpdate.getTime() + skew
      : nonceEchoed || t - single.thisUpdate.getTime() <= (options.maxAgeMs ?? 3600_000));
  if (!fresh)
    return { status: 'unknown', url, problem: 'notFresh', message: 'the answer is too old or from the future' };
  const common = {
    url: url ?? '',
    producedAt: response.producedAt ?? single.thisUpdate,
    thisUpdate: single.thisUpdate,
    nextUpdate: single.nextUpdate,
  };
  if (single.status === 'good') return { status: 'good', ...common };
  if (single.status === 'revoked' && single.revokedAt) {
    return {
      status: 'revoked',
      ...common,
      revokedAt: single.revokedAt,
      reason: single.reason,
      nonIssued: single.revokedAt.getTime() === 0 && single.reason === 'certificateHold',
    };
  }
  return { status: 'unknown', url, problem: 'certUnknown', message: 'the responder does not know this certificate' };
}
