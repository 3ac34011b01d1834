/**
 * XMLDSig enveloped signatures in the profile Kazakh systems use (the form
 * NCALayer's signXml gives):
 *
 *   <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">   last child of the document element
 *     SignedInfo: CanonicalizationMethod c14n 20010315, SignatureMethod rsa-sha256 (ecdsa-sha256 for EC),
 *                 one Reference URI="" with the enveloped-signature and c14n 20010315 transforms, SHA-256
 *     SignatureValue (for ECDSA the raw r||s, not DER), KeyInfo/X509Data/X509Certificate
 *
 * The signature is placed by inserting text just before the document
 * element's end tag: every byte of the original document is kept (XML
 * declaration, line ends, character references), which re-serialising a DOM
 * would not guarantee (xmldom writes a text node's CR as a raw CR, which the
 * next parse turns into LF and so changes the digest).
 *
 * Canonicalisation uses xml-crypto's C14N classes with three corrections
 * (see Canonical14n): namespace and attribute order by code point (xml-crypto
 * compares prefixes with localeCompare, which puts "ds" before "SOAP-ENV"),
 * processing instructions (xml-crypto prints only their data), and the
 * namespace and xml:* context of SignedInfo, which inclusive C14N takes from
 * its ancestors: the SignedInfo canonicalised here is a copy carrying that
 * context as its own attributes, so signer and verifier see the same bytes.
 */
import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import { C14nCanonicalization, ExclusiveCanonicalization } from 'xml-crypto';
import { Asn1Error, ecdsaDerToRaw, publicKeyOf, readCertificate } from './asn1.js';
import { SigningError } from './errors.js';
import type { SigningKey } from './types.js';

export const XMLDSIG = {
  ns: 'http://www.w3.org/2000/09/xmldsig#',
  c14n: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  c14nWithComments: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  excC14nWithComments: 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
  envelopedSignature: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  ecdsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
} as const;

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

const DIGEST_METHODS: Readonly<Record<string, string>> = {
  'http://www.w3.org/2000/09/xmldsig#sha1': 'sha1',
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
};

const SIGNATURE_METHODS: Readonly<Record<string, { key: 'rsa' | 'ec'; hash: string }>> = {
  'http://www.w3.org/2000/09/xmldsig#rsa-sha1': { key: 'rsa', hash: 'sha1' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': { key: 'rsa', hash: 'sha256' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha384': { key: 'rsa', hash: 'sha384' },
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512': { key: 'rsa', hash: 'sha512' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1': { key: 'ec', hash: 'sha1' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256': { key: 'ec', hash: 'sha256' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384': { key: 'ec', hash: 'sha384' },
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512': { key: 'ec', hash: 'sha512' },
};

/** Field sizes of the curves ECDSA signatures are written for (r and s each take this many bytes). */
const CURVE_BYTES: Readonly<Record<string, number>> = { prime256v1: 32, secp384r1: 48, secp521r1: 66 };

/** 'sha1': the signature or its reference uses SHA-1 (accepted for old documents, never for new ones). */
export type XmlWarning = 'sha1';

export interface XmlVerifyOptions {
  /** Accept SHA-1 (digest or signature method): true by default, with the warning 'sha1'; false refuses it. */
  allowSha1?: boolean;
  /**
   * The document the signature must be over: the signed XML without its
   * signature must canonicalise to the same text as this one does (so the
   * reference's digest is this document's). Else 'contentMismatch'.
   */
  document?: string;
}

export type XmlVerification =
  | { ok: true; certificate: Uint8Array; warnings: XmlWarning[] }
  | {
      ok: false;
      code: 'signatureInvalid' | 'contentMismatch' | 'malformedSignature' | 'unsupportedAlgorithm';
      /** What failed, in English, for the logs. */
      reason: string;
      /** The certificate in KeyInfo, when one was read. */
      certificate: Uint8Array | null;
    };

// ---------------------------------------------------------------------------
// Parsing and canonicalisation
// ---------------------------------------------------------------------------

const NODE = { element: 1, text: 3, cdata: 4, pi: 7, comment: 8 } as const;

class XmlSyntaxError extends Error {}

/**
 * Parses strictly: any error (not only fatal ones) stops, undeclared entities
 * included. Line ends are normalised as XML 1.0 says (CRLF and CR to LF) and no
 * further: xmldom's default also turns NEL and LINE SEPARATOR into LF (XML 1.1),
 * which libxml2-based verifiers do not, and the digests would then differ.
 */
function parseXml(xml: string): Document {
  const parser = new DOMParser({
    locator: false,
    normalizeLineEndings: (s) => s.replace(/\r\n?/g, '\n'),
    onError: (level, message) => {
      if (level !== 'warning') throw new XmlSyntaxError(message);
    },
  });
  try {
    const doc = parser.parseFromString(xml, 'application/xml');
    if (!doc.documentElement) throw new XmlSyntaxError('no document element');
    return doc;
  } catch (err) {
    throw new XmlSyntaxError(err instanceof Error ? err.message : String(err));
  }
}

function codePointCompare(a: string, b: string): -1 | 0 | 1 {
  return a === b ? 0 : a < b ? -1 : 1;
}

interface AttrLike {
  namespaceURI: string | null;
  localName: string;
  prefix: string | null;
}

function attrCompare(a: AttrLike, b: AttrLike): -1 | 0 | 1 {
  // C14N: by namespace URI (none sorts first), then local name, both compared as code points.
  return codePointCompare(a.namespaceURI ?? '', b.namespaceURI ?? '') || codePointCompare(a.localName, b.localName);
}

function renderPi(node: Node): string {
  const pi = node as unknown as { target: string; data: string };
  return `<?${pi.target}${pi.data ? ` ${pi.data}` : ''}?>`;
}

/** Node types xml-crypto's canonicalisers do not render (or render wrongly); null for the rest. */
function specialNode(node: Node): string | null {
  if (node.nodeType === NODE.pi) return renderPi(node);
  // An empty text node (xml-crypto would throw on it).
  if ((node.nodeType === NODE.text || node.nodeType === NODE.cdata) && !(node as unknown as { data: string }).data) {
    return '';
  }
  return null;
}

/** Inclusive Canonical XML 1.0 (with or without comments), xml-crypto's with the corrections above. */
class Canonical14n extends C14nCanonicalization {
  constructor(withComments: boolean) {
    super();
    this.includeComments = withComments;
  }

  override attrCompare(a: AttrLike, b: AttrLike): -1 | 0 | 1 {
    return attrCompare(a, b);
  }

  override nsCompare(a: { prefix: string }, b: { prefix: string }): -1 | 0 | 1 {
    return codePointCompare(a.prefix, b.prefix);
  }

  override processInner(
    node: Node,
    prefixesInScope: unknown,
    defaultNs: unknown,
    defaultNsForPrefix: unknown,
    ancestorNamespaces: unknown,
    namespacesInScope?: never,
  ): string {
    return (
      specialNode(node) ??
      super.processInner(node, prefixesInScope, defaultNs, defaultNsForPrefix, ancestorNamespaces, namespacesInScope)
    );
  }
}

/** Exclusive Canonical XML 1.0, for verifying signatures made with it. */
class ExclusiveCanonical14n extends ExclusiveCanonicalization {
  constructor(withComments: boolean) {
    super();
    this.includeComments = withComments;
  }

  override attrCompare(a: AttrLike, b: AttrLike): -1 | 0 | 1 {
    return attrCompare(a, b);
  }

  override nsCompare(a: { prefix: string }, b: { prefix: string }): -1 | 0 | 1 {
    return codePointCompare(a.prefix, b.prefix);
  }

  override processInner(
    node: Node,
    prefixesInScope: unknown,
    defaultNs: unknown,
    defaultNsForPrefix: unknown,
    inclusiveNamespacesPrefixList: string[],
  ): string {
    return (
      specialNode(node) ??
      super.processInner(node, prefixesInScope, defaultNs, defaultNsForPrefix, inclusiveNamespacesPrefixList)
    );
  }
}

interface Canonicalizer {
  readonly exclusive: boolean;
  /** Canonical form of an element and its subtree (no ancestor context: give a copy that carries it). */
  element(el: Element, inclusivePrefixes?: string[]): string;
}

function canonicalizer(algorithm: string): Canonicalizer | null {
  const make = (exclusive: boolean, withComments: boolean): Canonicalizer => {
    const c = exclusive ? new ExclusiveCanonical14n(withComments) : new Canonical14n(withComments);
    return {
      exclusive,
      element: (el, inclusivePrefixes) =>
        c.process(el as never, { inclusiveNamespacesPrefixList: inclusivePrefixes ?? [] }) as string,
    };
  };
  switch (algorithm) {
    case XMLDSIG.c14n:
      return make(false, false);
    case XMLDSIG.c14nWithComments:
      return make(false, true);
    case XMLDSIG.excC14n:
      return make(true, false);
    case XMLDSIG.excC14nWithComments:
      return make(true, true);
    default:
      return null;
  }
}

/**
 * The canonical form of the whole document as a same-document reference
 * (URI="") sees it: comments are never part of it (XMLDSig 4.3.3.3), processing
 * instructions outside the document element are, each on its own line.
 */
function canonicalDocument(doc: Document, c14n: Canonicalizer, inclusivePrefixes?: string[]): string {
  const out: string[] = [];
  let afterRoot = false;
  for (let n = doc.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === NODE.element) {
      out.push(c14n.element(n as Element, inclusivePrefixes));
      afterRoot = true;
    } else if (n.nodeType === NODE.pi && (n as unknown as { target: string }).target !== 'xml') {
      // (xmldom keeps the XML declaration as a PI named "xml"; it is not part of the data model)
      out.push(afterRoot ? `\n${renderPi(n)}` : `${renderPi(n)}\n`);
    }
  }
  return out.join('');
}

/** The element's ancestors, nearest first. */
function ancestorsOf(node: Node): Element[] {
  const out: Element[] = [];
  for (let p = node.parentNode; p && p.nodeType === NODE.element; p = p.parentNode) out.push(p as Element);
  return out;
}

/**
 * The canonical form of SignedInfo as it stands under `ancestors` (nearest first): a copy carrying, as its own
 * attributes, the namespace declarations in scope from its ancestors (inclusive
 * C14N renders them on the apex; exclusive C14N renders those it uses) and, for
 * inclusive C14N, the ancestors' xml:* attributes (C14N 1.0 inherits them).
 */
function canonicalSignedInfo(
  signedInfo: Element,
  c14n: Canonicalizer,
  ancestors: readonly Element[],
  inclusivePrefixes?: string[],
): string {
  const copy = signedInfo.cloneNode(true) as Element;
  const seen = new Set<string>();
  for (let i = 0; i < signedInfo.attributes.length; i++) seen.add(signedInfo.attributes[i]!.name);
  for (const el of ancestors) {
    for (let i = 0; i < el.attributes.length; i++) {
      const attr = el.attributes[i]!;
      const isDeclaration = attr.name === 'xmlns' || attr.prefix === 'xmlns';
      const isXmlAttr = attr.namespaceURI === XML_NS && !c14n.exclusive;
      if ((!isDeclaration && !isXmlAttr) || seen.has(attr.name)) continue;
      seen.add(attr.name);
      // xmlns="" in scope means no default namespace: nothing to carry.
      if (attr.name === 'xmlns' && attr.value === '') continue;
      copy.setAttributeNS(isDeclaration ? XMLNS_NS : XML_NS, attr.name, attr.value);
    }
  }
  return c14n.element(copy, inclusivePrefixes);
}

// ---------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function signedInfoXml(signatureMethod: string, digest: string): string {
  return (
    '<ds:SignedInfo>' +
    `<ds:CanonicalizationMethod Algorithm="${XMLDSIG.c14n}"/>` +
    `<ds:SignatureMethod Algorithm="${signatureMethod}"/>` +
    '<ds:Reference URI="">' +
    '<ds:Transforms>' +
    `<ds:Transform Algorithm="${XMLDSIG.envelopedSignature}"/>` +
    `<ds:Transform Algorithm="${XMLDSIG.c14n}"/>` +
    '</ds:Transforms>' +
    `<ds:DigestMethod Algorithm="${XMLDSIG.sha256}"/>` +
    `<ds:DigestValue>${escapeText(digest)}</ds:DigestValue>` +
    '</ds:Reference>' +
    '</ds:SignedInfo>'
  );
}

function signatureXml(signedInfo: string, signatureValue: string, certificate: string): string {
  return (
    `<ds:Signature xmlns:ds="${XMLDSIG.ns}">` +
    signedInfo +
    `<ds:SignatureValue>${signatureValue}</ds:SignatureValue>` +
    `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>` +
    '</ds:Signature>'
  );
}

const isXmlSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/**
 * `xml` with `fragment` inserted as the last content of the document element:
 * just before its end tag, or turning `<root/>` into `<root>fragment</root>`.
 * Only comments, processing instructions and white space may follow the
 * document element, so its end is found by stepping back over them.
 */
function insertAtRootEnd(xml: string, rootName: string, fragment: string): string {
  let end = xml.length;
  for (;;) {
    while (end > 0 && isXmlSpace(xml[end - 1])) end--;
    if (xml.endsWith('-->', end)) end = xml.lastIndexOf('<!--', end - 3);
    else if (xml.endsWith('?>', end)) end = xml.lastIndexOf('<?', end - 2);
    else break;
    if (end < 0) throw new XmlSyntaxError('unterminated markup after the document element');
  }
  if (xml[end - 1] !== '>') throw new XmlSyntaxError('document element end not found');
  if (xml[end - 2] === '/') {
    return `${xml.slice(0, end - 2)}>${fragment}</${rootName}>${xml.slice(end)}`;
  }
  const start = xml.lastIndexOf('</', end);
  if (start < 0 || xml.slice(start + 2, end - 1).trimEnd() !== rootName) {
    throw new XmlSyntaxError('document element end tag not found');
  }
  return xml.slice(0, start) + fragment + xml.slice(start);
}

/**
 * Signs `xml` with an enveloped XMLDSig signature appended as the last child
 * of the document element, and returns the signed document (the original text
 * with the signature inserted). The result is verified before it is returned.
 * Not well-formed XML, or a document element that already has a ds:Signature
 * child: SigningError 'malformedSignature' (reason 'document: …').
 */
export async function signXml(xml: string, key: SigningKey): Promise<string> {
  let publicKey: KeyObject;
  try {
    publicKey = publicKeyOf(readCertificate(key.certificate));
  } catch (err) {
    if (err instanceof Asn1Error) {
      throw new SigningError('malformedSignature', { reason: 'the signing key’s certificate' }, { cause: err });
    }
    throw new SigningError('unsupportedAlgorithm', { algorithm: 'certificate key' }, { cause: err });
  }
  const type = publicKey.asymmetricKeyType;
  if ((type !== 'rsa' && type !== 'ec') || type !== key.algorithm) {
    throw new SigningError('unsupportedAlgorithm', { algorithm: `${key.algorithm} key, ${String(type)} certificate` });
  }
  const curve = publicKey.asymmetricKeyDetails?.namedCurve ?? '';
  const curveBytes = CURVE_BYTES[curve];
  if (type === 'ec' && !curveBytes) throw new SigningError('unsupportedAlgorithm', { algorithm: `EC ${curve}` });

  let doc: Document;
  try {
    doc = parseXml(xml);
  } catch (err) {
    throw new SigningError('malformedSignature', { reason: `document: ${(err as Error).message}` }, { cause: err });
  }
  const root = doc.documentElement!;
  // A second enveloped signature over the whole document would break the first (its digest would then
  // include the newcomer), so a document that already has one is refused rather than silently spoilt.
  for (let n = root.firstChild; n; n = n.nextSibling) {
    const el = n as Element;
    if (n.nodeType === NODE.element && el.localName === 'Signature' && el.namespaceURI === XMLDSIG.ns) {
      throw new SigningError('malformedSignature', { reason: 'document: already carries an enveloped signature' });
    }
  }
  const rootName = root.tagName;
  const inclusive = canonicalizer(XMLDSIG.c14n)!;
  // What the reference covers: the document without the signature being added, i.e. the document as it is.
  const digest = createHash('sha256').update(canonicalDocument(doc, inclusive), 'utf8').digest('base64');
  const signedInfo = signedInfoXml(type === 'rsa' ? XMLDSIG.rsaSha256 : XMLDSIG.ecdsaSha256, digest);
  const certificate = Buffer.from(key.certificate).toString('base64');

  const place = (signatureValue: string) => {
    try {
      return insertAtRootEnd(xml, rootName, signatureXml(signedInfo, signatureValue, certificate));
    } catch (err) {
      throw new SigningError('malformedSignature', { reason: `document: ${(err as Error).message}` }, { cause: err });
    }
  };
  place(''); // fails early, before the key is asked, if the document element's end cannot be found
  // SignedInfo's canonical form depends on where it will stand (the namespaces and xml:* attributes in scope
  // there): canonicalise it under its Signature and the document element, as a verifier will.
  const signatureElement = parseXml(signatureXml(signedInfo, '', certificate)).documentElement!;
  const signedInfoElement = signatureElement.firstChild as Element;
  const canonical = canonicalSignedInfo(signedInfoElement, inclusive, [signatureElement, root, ...ancestorsOf(root)]);

  let signature = await key.sign(Buffer.from(canonical, 'utf8'));
  if (type === 'ec') {
    try {
      signature = ecdsaDerToRaw(signature, curveBytes!);
    } catch (err) {
      throw new SigningError('signatureInvalid', { reason: 'the key gave no DER ECDSA signature' }, { cause: err });
    }
  }
  const signed = place(Buffer.from(signature).toString('base64'));
  const check = verifyXml(signed);
  if (!check.ok) throw new SigningError('signatureInvalid', { reason: `self-check: ${check.reason}` });
  return signed;
}

// ---------------------------------------------------------------------------
// Verifying
// ---------------------------------------------------------------------------

class Rejection extends Error {
  constructor(
    readonly code: Extract<XmlVerification, { ok: false }>['code'],
    reason: string,
  ) {
    super(reason);
  }
}

/** The ds:* element children; other elements are an error, or skipped when `foreign` is 'skip' (KeyInfo may hold any). */
function dsChildren(el: Element, foreign: 'reject' | 'skip' = 'reject'): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === NODE.element) {
      const child = n as Element;
      if (child.namespaceURI !== XMLDSIG.ns) {
        if (foreign === 'skip') continue;
        throw new Rejection('malformedSignature', `${child.tagName} in ${el.localName}`);
      }
      out.push(child);
    } else if (n.nodeType === NODE.text && /\S/.test((n as unknown as { data: string }).data)) {
      throw new Rejection('malformedSignature', `text in ${el.localName}`);
    }
  }
  return out;
}

function expectDs(el: Element | undefined, localName: string): Element {
  if (!el || el.localName !== localName) throw new Rejection('malformedSignature', `${localName} expected`);
  return el;
}

function algorithmOf(el: Element): string {
  const a = el.getAttribute('Algorithm');
  if (!a) throw new Rejection('malformedSignature', `${el.localName} without Algorithm`);
  return a;
}

function base64Of(el: Element | undefined, what: string): Buffer {
  const text = el?.textContent ?? '';
  const compact = text.replace(/[\s]/g, '');
  if (!compact || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new Rejection('malformedSignature', `${what} is not base64`);
  }
  return Buffer.from(compact, 'base64');
}

/** The PrefixList of an exclusive C14N InclusiveNamespaces child, if any. */
function inclusivePrefixesOf(el: Element): string[] | undefined {
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === NODE.element && (n as Element).localName === 'InclusiveNamespaces') {
      return ((n as Element).getAttribute('PrefixList') ?? '').split(/\s+/).filter(Boolean);
    }
  }
  return undefined;
}

/**
 * Checks the enveloped signature of `xml` (exactly one ds:Signature among the
 * document element's children, one Reference with URI=""): the signature over
 * SignedInfo with the KeyInfo certificate, then the reference digest. Only
 * cryptography: trust in the certificate is another module's job.
 */
export function verifyXml(xml: string, options: XmlVerifyOptions = {}): XmlVerification {
  let certificate: Uint8Array | null = null;
  const warnings: XmlWarning[] = [];
  try {
    let doc: Document;
    try {
      doc = parseXml(xml);
    } catch (err) {
      throw new Rejection('malformedSignature', `document: ${(err as Error).message}`);
    }
    const root = doc.documentElement!;
    const signatures: Element[] = [];
    for (let n = root.firstChild; n; n = n.nextSibling) {
      const el = n as Element;
      if (n.nodeType === NODE.element && el.localName === 'Signature' && el.namespaceURI === XMLDSIG.ns) {
        signatures.push(el);
      }
    }
    if (signatures.length !== 1) {
      throw new Rejection('malformedSignature', signatures.length ? 'several signatures' : 'no signature');
    }
    const signatureElement = signatures[0]!;
    const parts = dsChildren(signatureElement);
    const signedInfo = expectDs(parts[0], 'SignedInfo');
    const signatureValue = base64Of(expectDs(parts[1], 'SignatureValue'), 'SignatureValue');
    const keyInfo = parts[2]?.localName === 'KeyInfo' ? parts[2] : undefined;

    // The certificates in KeyInfo/X509Data.
    const certificates: Buffer[] = [];
    for (const data of keyInfo ? dsChildren(keyInfo, 'skip') : []) {
      if (data.localName !== 'X509Data') continue;
      for (const c of dsChildren(data, 'skip')) {
        if (c.localName === 'X509Certificate') certificates.push(base64Of(c, 'X509Certificate'));
      }
    }
    if (certificates.length === 0) throw new Rejection('malformedSignature', 'no X509Certificate in KeyInfo');
    certificate = Uint8Array.from(certificates[0]!);

    const info = dsChildren(signedInfo);
    const c14nMethod = expectDs(info[0], 'CanonicalizationMethod');
    const c14nAlgorithm = algorithmOf(c14nMethod);
    const signedInfoC14n = canonicalizer(c14nAlgorithm);
    if (!signedInfoC14n) throw new Rejection('unsupportedAlgorithm', `CanonicalizationMethod ${c14nAlgorithm}`);
    const signatureMethod = algorithmOf(expectDs(info[1], 'SignatureMethod'));
    const method = SIGNATURE_METHODS[signatureMethod];
    if (!method) throw new Rejection('unsupportedAlgorithm', `SignatureMethod ${signatureMethod}`);
    const references = info.slice(2);
    if (references.length !== 1 || references[0]!.localName !== 'Reference') {
      throw new Rejection('malformedSignature', 'exactly one Reference expected');
    }
    const reference = references[0]!;
    if (reference.getAttribute('URI') !== '' || !reference.hasAttribute('URI')) {
      throw new Rejection('malformedSignature', 'the Reference must be URI="" (the whole document)');
    }
    const refParts = dsChildren(reference);
    let r = 0;
    const transforms = refParts[r]?.localName === 'Transforms' ? dsChildren(refParts[r++]!) : [];
    const digestMethod = algorithmOf(expectDs(refParts[r++], 'DigestMethod'));
    const digestValue = base64Of(expectDs(refParts[r++], 'DigestValue'), 'DigestValue');
    const hash = DIGEST_METHODS[digestMethod];
    if (!hash) throw new Rejection('unsupportedAlgorithm', `DigestMethod ${digestMethod}`);
    // enveloped-signature, then at most one canonicalisation (inclusive C14N when none is named).
    const algorithms = transforms.map((t) => algorithmOf(expectDs(t, 'Transform')));
    if (algorithms[0] !== XMLDSIG.envelopedSignature || algorithms.length > 2) {
      throw new Rejection('unsupportedAlgorithm', `Transforms ${algorithms.join(' ')}`);
    }
    const referenceC14n = canonicalizer(algorithms[1] ?? XMLDSIG.c14n);
    if (!referenceC14n) throw new Rejection('unsupportedAlgorithm', `Transform ${algorithms[1]}`);
    // SHA-1 collisions are practical: a new signature with it proves too little to be taken.
    if (method.hash === 'sha1' || hash === 'sha1') {
      if (options.allowSha1 === false) throw new Rejection('unsupportedAlgorithm', 'SHA-1 is not accepted');
      warnings.push('sha1');
    }

    // 1. The signature over SignedInfo, with the first KeyInfo certificate that is the signer's.
    const canonical = Buffer.from(
      canonicalSignedInfo(signedInfo, signedInfoC14n, ancestorsOf(signedInfo), inclusivePrefixesOf(c14nMethod)),
      'utf8',
    );
    let verified: Buffer | null = null;
    let keyTypeSeen = false;
    for (const der of certificates) {
      let key: KeyObject;
      try {
        key = publicKeyOf(readCertificate(der));
      } catch {
        continue;
      }
      if (key.asymmetricKeyType !== method.key) continue;
      keyTypeSeen = true;
      const ok =
        method.key === 'ec'
          ? safeVerify(method.hash, canonical, { key, dsaEncoding: 'ieee-p1363' }, signatureValue)
          : safeVerify(method.hash, canonical, key, signatureValue);
      if (ok) {
        verified = der;
        break;
      }
    }
    if (!verified) {
      throw new Rejection(
        'signatureInvalid',
        keyTypeSeen ? 'the signature does not verify' : `no ${method.key} certificate in KeyInfo`,
      );
    }
    certificate = Uint8Array.from(verified);

    // 2. The reference: the document without this signature.
    signatureElement.parentNode!.removeChild(signatureElement);
    const transformElement = transforms[1];
    const prefixes = transformElement ? inclusivePrefixesOf(transformElement) : undefined;
    const signedDocument = canonicalDocument(doc, referenceC14n, prefixes);
    const digest = createHash(hash).update(signedDocument, 'utf8').digest();
    if (!digest.equals(digestValue)) throw new Rejection('contentMismatch', 'the document differs from its digest');
    if (options.document !== undefined) {
      let expected: Document;
      try {
        expected = parseXml(options.document);
      } catch (err) {
        throw new Rejection('contentMismatch', `the expected document: ${(err as Error).message}`);
      }
      if (canonicalDocument(expected, referenceC14n, prefixes) !== signedDocument) {
        throw new Rejection('contentMismatch', 'the signed document is not the expected one');
      }
    }
    return { ok: true, certificate, warnings };
  } catch (err) {
    if (err instanceof Rejection) return { ok: false, code: err.code, reason: err.message, certificate };
    // xml-crypto refusing a node, a DOM error on odd input: not a signature this module can read.
    return { ok: false, code: 'malformedSignature', reason: String(err), certificate };
  }
}

function safeVerify(
  hash: string,
  data: Uint8Array,
  key: KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' },
  signature: Uint8Array,
): boolean {
  try {
    return cryptoVerify(hash, data, key, signature);
  } catch {
    return false;
  }
}
