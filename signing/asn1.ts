/**
 * A small BER reader and DER writer for the signature formats (CMS, X.509
 * certificates, timestamp tokens, ECDSA values).
 *
 * Why not only pkijs/asn1js: the reader works on offsets into the caller's
 * buffer, so an element can be copied out byte for byte (a co-signed CMS keeps
 * the first signer's SignerInfo exactly as it was) and a megabyte of content
 * is never copied to be looked at; the writer computes every length first and
 * writes the whole structure into one buffer, so the content is copied once.
 * pkijs copies the content byte by byte into 64 KB pieces and takes 3–20 ms
 * for 1 MB, which alone is over the signing budget.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';

/** The input is not the ASN.1 expected. Callers turn it into their own error (e.g. SigningError 'malformedSignature'). */
export class Asn1Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Asn1Error';
  }
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/** One element of an encoding: where its parts lie in the buffer it was read from. */
export interface Tlv {
  /** The first identifier octet (class, constructed bit, tag number below 31), e.g. 0x30 for SEQUENCE. */
  readonly tag: number;
  readonly tagNumber: number;
  readonly constructed: boolean;
  /** Offset of the identifier octet. */
  readonly start: number;
  readonly valueStart: number;
  /** End of the contents (before the end-of-contents octets of an indefinite length). */
  readonly valueEnd: number;
  /** Offset just after the element. */
  readonly end: number;
}

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

const MAX_DEPTH = 64;

/** Reads the element at `offset`, which must end by `limit`. BER is accepted (indefinite lengths included). */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length, depth = 0): Tlv {
  if (depth > MAX_DEPTH) throw new Asn1Error('nesting too deep');
  if (offset >= limit) throw new Asn1Error('truncated: element expected');
  const tag = buf[offset]!;
  const constructed = (tag & 0x20) !== 0;
  let p = offset + 1;
  let tagNumber = tag & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    for (let i = 0; ; i++) {
      if (p >= limit || i > 3) throw new Asn1Error('bad tag');
      const b = buf[p++]!;
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (p >= limit) throw new Asn1Error('truncated: length expected');
  const first = buf[p++]!;
  if (first === 0x80) {
    if (!constructed) throw new Asn1Error('indefinite length on a primitive element');
    let q = p;
    for (;;) {
      if (q + 1 < limit && buf[q] === 0 && buf[q + 1] === 0) {
        return { tag, tagNumber, constructed, start: offset, valueStart: p, valueEnd: q, end: q + 2 };
      }
      q = readTlv(buf, q, limit, depth + 1).end;
    }
  }
  let length = first;
  if (first > 0x80) {
    const n = first & 0x7f;
    if (n > 4) throw new Asn1Error('length too large');
    length = 0;
    for (let i = 0; i < n; i++) {
      if (p >= limit) throw new Asn1Error('truncated length');
      length = length * 256 + buf[p++]!;
    }
  }
  const valueEnd = p + length;
  if (valueEnd > limit) throw new Asn1Error('truncated: element longer than its container');
  return { tag, tagNumber, constructed, start: offset, valueStart: p, valueEnd, end: valueEnd };
}

/** Reads the single element that `buf` must consist of (no trailing bytes). */
export function readRoot(buf: Uint8Array): Tlv {
  const tlv = readTlv(buf, 0);
  if (tlv.end !== buf.length) throw new Asn1Error('trailing data after the element');
  return tlv;
}

/** The elements inside a constructed element. */
export function childrenOf(buf: Uint8Array, tlv: Tlv): Tlv[] {
  if (!tlv.constructed) throw new Asn1Error('constructed element expected');
  const out: Tlv[] = [];
  for (let p = tlv.valueStart; p < tlv.valueEnd;) {
    const child = readTlv(buf, p, tlv.valueEnd);
    out.push(child);
    p = child.end;
  }
  return out;
}

/** Throws unless `tlv` has the identifier octet `tag`; returns it for chaining. */
export function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv || tlv.tag !== tag) throw new Asn1Error(`${what} expected`);
  return tlv;
}

/** The whole encoding of an element (a view, not a copy). */
export function encodingOf(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.subarray(tlv.start, tlv.end);
}

/** The contents of a primitive element (a view, not a copy). */
export function contentsOf(buf: Uint8Array, tlv: Tlv): Uint8Array {
  if (tlv.constructed) throw new Asn1Error('primitive element expected');
  return buf.subarray(tlv.valueStart, tlv.valueEnd);
}

/** An OCTET STRING's bytes (the tag is the caller's to check): a view when primitive (DER), joined when constructed (BER). */
export function octetsOf(buf: Uint8Array, tlv: Tlv): Uint8Array {
  if (!tlv.constructed) return buf.subarray(tlv.valueStart, tlv.valueEnd);
  const parts: Uint8Array[] = [];
  const walk = (t: Tlv) => {
    for (const c of childrenOf(buf, t)) {
      if (c.tag === TAG.octetString) parts.push(buf.subarray(c.valueStart, c.valueEnd));
      else if (c.tag === (TAG.octetString | 0x20)) walk(c);
      else throw new Asn1Error('bad constructed OCTET STRING');
    }
  };
  walk(tlv);
  return Buffer.concat(parts);
}

/** Dotted form of an OBJECT IDENTIFIER element. */
export function readOid(buf: Uint8Array, tlv: Tlv | undefined): string {
  const t = expectTag(tlv, TAG.oid, 'OBJECT IDENTIFIER');
  const bytes = buf.subarray(t.valueStart, t.valueEnd);
  if (bytes.length === 0) throw new Asn1Error('empty OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let value = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (value === 0 && b === 0x80) throw new Asn1Error('bad OBJECT IDENTIFIER');
    value = value * 128 + (b & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) throw new Asn1Error('OBJECT IDENTIFIER arc too large');
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = value < 40 ? 0 : value < 80 ? 1 : 2;
        arcs.push(first, value - first * 40);
      } else {
        arcs.push(value);
      }
      value = 0;
    } else if (i === bytes.length - 1) {
      throw new Asn1Error('truncated OBJECT IDENTIFIER');
    }
  }
  return arcs.join('.');
}

/** UTCTime or GeneralizedTime as a Date; null when the text is not a time. */
export function readTime(buf: Uint8Array, tlv: Tlv): Date | null {
  if (tlv.tag !== TAG.utcTime && tlv.tag !== TAG.generalizedTime) return null;
  const text = Buffer.from(buf.buffer, buf.byteOffset + tlv.valueStart, tlv.valueEnd - tlv.valueStart).toString(
    'latin1',
  );
  const m =
    tlv.tag === TAG.utcTime
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/.exec(text)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{4})?$/.exec(text);
  if (!m) return null;
  let year = Number(m[1]);
  if (tlv.tag === TAG.utcTime) year += year < 50 ? 2000 : 1900;
  const fraction = tlv.tag === TAG.generalizedTime && m[7] ? Number(`0.${m[7]}`) * 1000 : 0;
  const zone = (tlv.tag === TAG.utcTime ? m[7] : m[8]) ?? 'Z';
  let ms = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
  }
  const date = new Date(ms + Math.floor(fraction));
  return Number.isNaN(date.getTime()) ? null : date;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/** Encoded bytes (taken as they are) or an element still to be encoded. */
export type Der = Uint8Array | DerNode;

export interface DerNode {
  readonly tag: number;
  readonly parts: readonly Der[];
  /** Length of the contents. */
  readonly length: number;
}

function sizeOf(x: Der): number {
  if (x instanceof Uint8Array) return x.length;
  return 1 + lengthOfLength(x.length) + x.length;
}

function lengthOfLength(n: number): number {
  if (n < 0x80) return 1;
  let bytes = 0;
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes++;
  return 1 + bytes;
}

/** An element with identifier octet `tag` whose contents are `parts` one after the other. */
export function node(tag: number, ...parts: Der[]): DerNode {
  let length = 0;
  for (const p of parts) length += sizeOf(p);
  return { tag, parts, length };
}

export const seq = (...parts: Der[]): DerNode => node(TAG.sequence, ...parts);
export const set = (...parts: Der[]): DerNode => node(TAG.set, ...parts);
/** [n] constructed, context-specific: an EXPLICIT tag, or an IMPLICIT one over a SEQUENCE/SET. */
export const ctx = (n: number, ...parts: Der[]): DerNode => node(0xa0 | n, ...parts);
export const octetString = (bytes: Uint8Array): DerNode => node(TAG.octetString, bytes);
export const NULL: Uint8Array = Uint8Array.of(0x05, 0x00);

/** A DER SET OF: the elements sorted by their encodings (X.690 11.6). */
export function setOf(elements: readonly Der[]): DerNode {
  const encoded = elements.map(toDer).sort(Buffer.compare);
  return set(...encoded);
}

/** A small non-negative INTEGER. */
export function int(value: number): DerNode {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw new RangeError('int: 0..2^31-1');
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return node(TAG.integer, Uint8Array.from(bytes));
}

/** An unsigned big-endian number as a DER INTEGER (leading zeros dropped, a zero added when the top bit is set). */
export function unsignedInt(bytes: Uint8Array): DerNode {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  if (trimmed.length === 0) return node(TAG.integer, Uint8Array.of(0));
  return trimmed[0]! & 0x80 ? node(TAG.integer, Uint8Array.of(0), trimmed) : node(TAG.integer, trimmed);
}

const oidCache = new Map<string, Uint8Array>();

/** An OBJECT IDENTIFIER element from its dotted form. */
export function oid(dotted: string): Uint8Array {
  const cached = oidCache.get(dotted);
  if (cached) return cached;
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`oid: bad arc in ${dotted}`);
    return Number(a);
  });
  if (arcs.length < 2 || arcs[0]! > 2 || (arcs[0]! < 2 && arcs[1]! >= 40)) throw new RangeError(`oid: ${dotted}`);
  const body: number[] = [];
  const values = [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)];
  for (const value of values) {
    const chunk: number[] = [];
    let v = value;
    do {
      chunk.unshift((v % 128) | (chunk.length ? 0x80 : 0));
      v = Math.floor(v / 128);
    } while (v > 0);
    body.push(...chunk);
  }
  const encoded = toDer(node(TAG.oid, Uint8Array.from(body)));
  oidCache.set(dotted, encoded);
  return encoded;
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5, RFC 5652 11.3); whole seconds, UTC. */
export function time(date: Date): DerNode {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const year = date.getUTCFullYear();
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z';
  if (year >= 1950 && year < 2050) return node(TAG.utcTime, Buffer.from(digits.slice(2), 'latin1'));
  if (year < 0 || year > 9999) throw new RangeError('time: year out of range');
  return node(TAG.generalizedTime, Buffer.from(digits, 'latin1'));
}

/** Writes an element (and everything under it) into one new buffer. */
export function toDer(x: Der): Buffer {
  if (x instanceof Uint8Array) return Buffer.isBuffer(x) ? x : Buffer.from(x.buffer, x.byteOffset, x.length);
  const out = Buffer.allocUnsafe(sizeOf(x));
  const end = write(out, 0, x);
  if (end !== out.length) throw new Error('toDer: size mismatch');
  return out;
}

function write(out: Buffer, offset: number, x: Der): number {
  if (x instanceof Uint8Array) {
    // Buffer#copy is a plain memmove; TypedArray#set is several times slower for large unaligned copies.
    if (x.length > 1024) toDer(x).copy(out, offset);
    else out.set(x, offset);
    return offset + x.length;
  }
  let p = offset;
  out[p++] = x.tag;
  const n = x.length;
  if (n < 0x80) {
    out[p++] = n;
  } else {
    const count = lengthOfLength(n) - 1;
    out[p++] = 0x80 | count;
    for (let i = count - 1; i >= 0; i--) out[p++] = Math.floor(n / 256 ** i) % 256;
  }
  for (const part of x.parts) p = write(out, p, part);
  return p;
}

// ---------------------------------------------------------------------------
// ECDSA values
// ---------------------------------------------------------------------------

/** DER Ecdsa-Sig-Value → r||s, each left-padded to `size` bytes (the XMLDSig and P1363 form). */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Buffer {
  const root = readRoot(der);
  expectTag(root, TAG.sequence, 'Ecdsa-Sig-Value');
  const [r, s, extra] = childrenOf(der, root);
  if (extra) throw new Asn1Error('Ecdsa-Sig-Value: extra element');
  const out = Buffer.alloc(size * 2);
  for (const [i, t] of [r, s].entries()) {
    let v = contentsOf(der, expectTag(t, TAG.integer, 'INTEGER'));
    while (v.length > 1 && v[0] === 0) v = v.subarray(1);
    if (v.length > size) throw new Asn1Error('Ecdsa-Sig-Value: integer larger than the curve');
    out.set(v, i * size + size - v.length);
  }
  return out;
}

/** r||s → DER Ecdsa-Sig-Value. */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new Asn1Error('r||s of even length expected');
  const half = raw.length / 2;
  return toDer(seq(unsignedInt(raw.subarray(0, half)), unsignedInt(raw.subarray(half))));
}

// ---------------------------------------------------------------------------
// X.509 certificates
// ---------------------------------------------------------------------------

/** What the signature formats need from a certificate; all byte fields are views of `der`. */
export interface CertificateInfo {
  readonly der: Uint8Array;
  /** The serial number INTEGER, whole encoding. */
  readonly serialNumber: Uint8Array;
  /** The issuer Name, whole encoding. */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  /** SubjectPublicKeyInfo, whole encoding. */
  readonly spki: Uint8Array;
  /** The subjectKeyIdentifier extension's key identifier, or null. */
  readonly subjectKeyIdentifier: Uint8Array | null;
}

const OID_SUBJECT_KEY_IDENTIFIER = '2.5.29.14';

/** Reads the fields of a DER certificate (no signature or validity check). Throws Asn1Error. */
export function readCertificate(der: Uint8Array): CertificateInfo {
  const root = expectTag(readRoot(der), TAG.sequence, 'Certificate');
  const tbs = expectTag(childrenOf(der, root)[0], TAG.sequence, 'TBSCertificate');
  const f = childrenOf(der, tbs);
  let i = f[0]?.tag === 0xa0 ? 1 : 0; // [0] EXPLICIT version
  const serial = expectTag(f[i++], TAG.integer, 'serialNumber');
  expectTag(f[i++], TAG.sequence, 'signature');
  const issuer = expectTag(f[i++], TAG.sequence, 'issuer');
  expectTag(f[i++], TAG.sequence, 'validity');
  const subject = expectTag(f[i++], TAG.sequence, 'subject');
  const spki = expectTag(f[i++], TAG.sequence, 'subjectPublicKeyInfo');
  let ski: Uint8Array | null = null;
  for (const t of f.slice(i)) {
    if (t.tag !== 0xa3) continue;
    const extensions = expectTag(childrenOf(der, t)[0], TAG.sequence, 'Extensions');
    for (const ext of childrenOf(der, extensions)) {
      const parts = childrenOf(der, ext);
      if (readOid(der, parts[0]) !== OID_SUBJECT_KEY_IDENTIFIER) continue;
      const value = parts[parts.length - 1]!;
      const inner = octetsOf(der, value);
      const keyId = readRoot(inner);
      ski = octetsOf(inner, expectTag(keyId, TAG.octetString, 'KeyIdentifier'));
    }
  }
  return {
    der,
    serialNumber: encodingOf(der, serial),
    issuer: encodingOf(der, issuer),
    subject: encodingOf(der, subject),
    spki: encodingOf(der, spki),
    subjectKeyIdentifier: ski,
  };
}

/** The certificate's public key as a node:crypto KeyObject. */
export function publicKeyOf(cert: CertificateInfo): KeyObject {
  return createPublicKey({ key: toDer(cert.spki), format: 'der', type: 'spki' });
}
