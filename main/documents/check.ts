/**
 * Checking a paper: the codes read off a PDF or a picture → the signed XML
 * (core/documents/code.ts) → its XMLDSig → the signer's certificate (chain,
 * validity, revocation from OCSP or the cached CRLs) → the signer's right to
 * sign results (an organisation's head or a person with the right of
 * signature, with the organisation's BIN) → the document's data to show
 * beside the paper. Works offline: nothing here needs the server.
 *
 * The answer always says what was found, even when something is wrong: the
 * data of a document whose signature fails is returned for comparison with
 * the paper, never with ok: true.
 */
import { DOMParser, type Element } from '@xmldom/xmldom';
import { CodeError, decodeDocumentCode } from '#core/documents/code.js';
import {
  isSigningError,
  parseCertificate,
  verifyXml,
  type CertificateFacts,
  type CheckResult,
  type NcaRole,
} from '#signing/index.js';
import { readCodes, ScanError, type ScanOptions } from './scan.js';

export const CHECK_PROBLEMS = [
  'unreadableFile',
  'noCode',
  'partial',
  'mixed',
  'damaged',
  'signatureInvalid',
  'signerUntrusted',
  'signerExpired',
  'signerRevoked',
  'revocationUnknown',
  'signerNotAllowed',
] as const;
export type CheckProblem = (typeof CHECK_PROBLEMS)[number];

/** The roles that may sign a result for an organisation (NCA roles in the certificate). */
export const SIGNING_ROLES: readonly NcaRole[] = ['head', 'maySign'];

export interface DocumentField {
  /** The element path from the document element ("Provider", "Provider@bin", "Form/Field[city]", "Content[kk]/Title"). */
  name: string;
  value: string;
}

export interface DocumentData {
  /** The document element's local name and namespace: what kind of document it is. */
  type: string;
  namespace: string | null;
  /** The document's number, when it has a Number element. */
  number: string | null;
  fields: DocumentField[];
}

export interface SignerSummary {
  commonName: string;
  iin: string | null;
  bin: string | null;
  organisation: string | null;
  roles: NcaRole[];
  notBefore: string;
  notAfter: string;
  issuerCommonName: string;
  serialNumber: string;
}

export interface PaperCheck {
  ok: boolean;
  problem?: CheckProblem;
  /** Codes read, and how many the document has (null until one of ours is read). */
  codes: { read: number; count: number | null };
  data: DocumentData | null;
  /** The certificate of the signature (only once the signature itself verified). */
  signer: SignerSummary | null;
  /** The signing date the document states (signed with it; no trusted timestamp), ISO 8601. */
  signedAt: string | null;
  /** Codes: 'crlStale', 'revokedAfterSigning', 'ocsp:…', 'xml:sha1', 'certificateExpiredSince', 'scanTimedOut'. */
  warnings: string[];
}

/** What the check needs of the signer: the certificate checks (Signer has them). */
export interface CertificateVerifier {
  checkFull(
    certificate: Uint8Array,
    options: { act: 'sign' | 'auth'; at: Date; now?: Date; intermediates?: readonly Uint8Array[] },
  ): Promise<CheckResult>;
}

export interface CheckOptions {
  verifier: CertificateVerifier;
  now?: Date;
  scan?: Pick<ScanOptions, 'deadlineMs' | 'now'>;
}

function wholeDocument(texts: readonly string[]): boolean {
  try {
    decodeDocumentCode(texts);
    return true;
  } catch {
    return false;
  }
}

/** Checks a file: a PDF, a PNG or a JPEG of the paper. */
export async function checkPaper(bytes: Uint8Array, options: CheckOptions): Promise<PaperCheck> {
  let texts: string[];
  const warnings: string[] = [];
  try {
    const scan = await readCodes(bytes, { ...options.scan, done: wholeDocument });
    texts = scan.texts;
    if (scan.timedOut) warnings.push('scanTimedOut');
  } catch (err) {
    if (err instanceof ScanError) return failed('unreadableFile', { warnings });
    throw err;
  }
  const result = await checkCodes(texts, options);
  result.warnings.unshift(...warnings);
  return result;
}

function failed(problem: CheckProblem, partial: Partial<PaperCheck> = {}): PaperCheck {
  return {
    ok: false,
    problem,
    codes: { read: 0, count: null },
    data: null,
    signer: null,
    signedAt: null,
    warnings: [],
    ...partial,
  };
}

const PART = /^QZ1\.(\d{1,2})\.\d{1,2}\./;

/** Checks the texts of the codes read off a paper. */
export async function checkCodes(texts: readonly string[], options: CheckOptions): Promise<PaperCheck> {
  const ours = texts.filter((t) => PART.test(t.trim()));
  const count = ours.length ? Number(PART.exec(ours[0]!.trim())![1]) : null;
  let codes = { read: ours.length, count };
  let xml: string;
  try {
    xml = decodeDocumentCode(texts);
  } catch (err) {
    if (!(err instanceof CodeError)) throw err;
    if (err.problem === 'partial' && err.found) codes = { read: err.found.indexes.length, count: err.found.count };
    return failed(err.problem, { codes });
  }
  codes = { read: count ?? 0, count };

  const data = documentData(xml);
  if (!data) return failed('damaged', { codes });
  const signedAt = data.signedAt;
  const base = { codes, data: data.data, signedAt: signedAt?.toISOString() ?? null };

  const verified = verifyXml(xml);
  if (!verified.ok) return failed('signatureInvalid', base);
  const warnings: string[] = verified.warnings.map((w) => `xml:${w}`);
  const facts = parseCertificate(verified.certificate);
  const signer = summary(facts);

  // Without a trusted timestamp, the certificate is checked at the date the signed document states (a paper
  // outlives its signer's one-year certificate), never at a date still to come.
  const now = options.now ?? new Date();
  const at = signedAt && signedAt.getTime() <= now.getTime() ? signedAt : now;
  let result: CheckResult;
  try {
    result = await options.verifier.checkFull(verified.certificate, { act: 'sign', at, now });
  } catch (err) {
    if (!isSigningError(err)) throw err;
    const problem: CheckProblem =
      err.code === 'certRevoked'
        ? 'signerRevoked'
        : err.code === 'certExpired' || err.code === 'certNotYetValid'
          ? 'signerExpired'
          : err.code === 'revocationUnknown'
            ? 'revocationUnknown'
            : 'signerUntrusted';
    return failed(problem, { ...base, signer, warnings });
  }
  warnings.push(...result.warnings);
  // A revoked key cannot vouch for the date it states: revoked at any time is refused.
  if (result.revocation.status === 'revoked') return failed('signerRevoked', { ...base, signer, warnings });
  if (result.revocation.status === 'unknown') return failed('revocationUnknown', { ...base, signer, warnings });
  if (new Date(facts.notAfter).getTime() < now.getTime()) warnings.push('certificateExpiredSince');

  // The right to sign results: an organisation's key (its BIN) with the head's or the signing right's role,
  // of the organisation the document names as its issuer when it names one.
  const allowed = facts.bin !== null && facts.roles.some((r) => SIGNING_ROLES.includes(r));
  const issuerBin = data.issuerBin;
  if (!allowed || (issuerBin !== null && issuerBin !== facts.bin)) {
    return failed('signerNotAllowed', { ...base, signer, warnings });
  }
  return { ok: true, ...base, signer, warnings };
}

function summary(f: CertificateFacts): SignerSummary {
  return {
    commonName: f.commonName,
    iin: f.iin,
    bin: f.bin,
    organisation: f.organisation,
    roles: f.roles,
    notBefore: f.notBefore,
    notAfter: f.notAfter,
    issuerCommonName: f.issuerCommonName,
    serialNumber: f.serialNumber,
  };
}

const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const ELEMENT = 1;
const TEXT = 3;
const CDATA = 4;
/** Elements whose text is the signing date the document states. */
const DATE_ELEMENTS = new Set(['SignedAt', 'IssuedAt', 'IssueDate', 'DocumentDate', 'DecisionDate']);
/** Elements naming the issuing organisation (its BIN in a `bin` attribute or a child). */
const ISSUER_ELEMENTS = new Set(['Provider', 'Issuer', 'Organisation', 'Organization']);
const MAX_FIELDS = 500;

/** The fields of a signed XML document to show, its stated signing date and its issuer's BIN; null if not XML. */
export function documentData(
  xml: string,
): { data: DocumentData; signedAt: Date | null; issuerBin: string | null } | null {
  let root: Element | null;
  try {
    const doc = new DOMParser({
      locator: false,
      onError: (level, message) => {
        if (level !== 'warning') throw new Error(message);
      },
    }).parseFromString(xml, 'application/xml');
    root = doc.documentElement;
  } catch {
    return null;
  }
  if (!root) return null;
  const fields: DocumentField[] = [];
  let signedAt: Date | null = null;
  let issuerBin: string | null = null;
  let number: string | null = null;
  const walk = (el: Element, path: string, depth: number) => {
    if (depth > 16 || fields.length >= MAX_FIELDS) return;
    const attrs = Array.from({ length: el.attributes.length }, (_, i) => el.attributes.item(i)!).filter(
      (a) => a.name !== 'xmlns' && !a.name.startsWith('xmlns:'),
    );
    // The attribute that tells repeated elements apart names them: Field[city], Content[kk], Line[Number].
    const nameAttr = ['name', 'lang', 'label'].map((n) => attrs.find((a) => a.localName === n)).find(Boolean);
    const here = path && nameAttr ? `${path}[${nameAttr.value}]` : path;
    for (const a of attrs) {
      if (a === nameAttr && path) continue;
      fields.push({ name: `${here}@${a.localName ?? a.name}`, value: a.value });
    }
    if (ISSUER_ELEMENTS.has(el.localName ?? '') && issuerBin === null) {
      const bin = attrs.find((a) => a.localName === 'bin')?.value;
      if (bin && /^\d{12}$/.test(bin)) issuerBin = bin;
    }
    const children: Element[] = [];
    let text = '';
    for (let n = el.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === ELEMENT) {
        const c = n as Element;
        // The document's own enveloped signature is not its data.
        if (depth === 0 && c.localName === 'Signature' && c.namespaceURI === DSIG_NS) continue;
        children.push(c);
      } else if (n.nodeType === TEXT || n.nodeType === CDATA) text += n.nodeValue ?? '';
    }
    const value = text.trim();
    if (path && (value || (children.length === 0 && attrs.length === 0))) {
      fields.push({ name: here, value });
      const local = el.localName ?? '';
      if (DATE_ELEMENTS.has(local) && signedAt === null) {
        const d = new Date(value);
        if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(d.getTime())) signedAt = d;
      }
      if ((local === 'Number' || local === 'DocumentNumber') && number === null && depth === 1) number = value;
      if ((local === 'Bin' || local === 'ProviderBin') && issuerBin === null && /^\d{12}$/.test(value)) {
        issuerBin = value;
      }
    }
    for (const c of children)
      walk(c, here ? `${here}/${c.localName ?? c.nodeName}` : (c.localName ?? c.nodeName), depth + 1);
  };
  walk(root, '', 0);
  return {
    data: { type: root.localName ?? root.nodeName, namespace: root.namespaceURI ?? null, number, fields },
    signedAt,
    issuerBin,
  };
}

/** The catalogue key of a problem's message (its placeholders: {read} and {count} from `codes`). */
export function problemKey(problem: CheckProblem): string {
  return `paperCheck.problem.${problem}`;
}

/** The catalogue key of a warning's message. */
export function warningKey(warning: string): string {
  if (warning.startsWith('ocsp:')) return 'paperCheck.warning.ocsp';
  if (warning === 'xml:sha1') return 'paperCheck.warning.xmlSha1';
  return `paperCheck.warning.${warning}`;
}
