/**
 * The machine-readable code printed on an output document: the signed XML
 * itself, so that a paper can be checked with no server at all (as Kazakh
 * e-government certificates carry "a code containing the data, signed with
 * EDS").
 *
 * The signed XML is compressed (raw DEFLATE) and cut into parts of at most
 * PART_CHARS characters, each printed as its own QR code (byte mode). A part
 * reads `QZ1.<count>.<index>.<group>.<data>`: format 1, the number of parts,
 * this part's index from 1, a group tag (the first 8 hex digits of the
 * SHA-256 of the compressed bytes, so parts of two papers scanned together
 * are told apart) and the part's share of the compressed bytes in base64url.
 */
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export const CODE_PREFIX = 'QZ1';
/** Characters of data per code: a QR code of version 25 or so at level M, readable from a 300-dpi scan or a phone. */
export const PART_CHARS = 900;
/** Most parts a document may be cut into, and most bytes its XML may inflate to (a hostile code is no zip bomb). */
export const MAX_PARTS = 24;
export const MAX_XML_BYTES = 2 * 1024 * 1024;

export type CodeProblem =
  /** Nothing read is one of our codes. */
  | 'noCode'
  /** Some parts are missing (the count says how many there should be). */
  | 'partial'
  /** Parts of different documents, or a part that contradicts another. */
  | 'mixed'
  /** The parts are all there but do not make the document (a misread, a forged part). */
  | 'damaged';

export class CodeError extends Error {
  constructor(
    readonly problem: CodeProblem,
    message: string,
    /** For 'partial': the indexes found and the count expected. */
    readonly found?: { indexes: number[]; count: number },
  ) {
    super(message);
    this.name = 'CodeError';
  }
}

/** The parts to print for a signed XML document, in order. */
export function encodeDocumentCode(xml: string): string[] {
  const bytes = Buffer.from(xml, 'utf8');
  if (bytes.length > MAX_XML_BYTES) throw new Error(`the document is over ${MAX_XML_BYTES} bytes`);
  const packed = deflateRawSync(bytes, { level: 9 });
  const group = createHash('sha256').update(packed).digest('hex').slice(0, 8);
  const data = packed.toString('base64url');
  const count = Math.max(1, Math.ceil(data.length / PART_CHARS));
  if (count > MAX_PARTS) throw new Error(`the document needs ${count} codes; at most ${MAX_PARTS} are printed`);
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    parts.push(`${CODE_PREFIX}.${count}.${i + 1}.${group}.${data.slice(i * PART_CHARS, (i + 1) * PART_CHARS)}`);
  }
  return parts;
}

interface Part {
  count: number;
  index: number;
  group: string;
  data: string;
}

const PART = /^QZ1\.(\d{1,2})\.(\d{1,2})\.([0-9a-f]{8})\.([A-Za-z0-9_-]+)$/;

function parsePart(text: string): Part | null {
  const m = PART.exec(text.trim());
  if (!m) return null;
  const count = Number(m[1]);
  const index = Number(m[2]);
  if (count < 1 || count > MAX_PARTS || index < 1 || index > count) return null;
  return { count, index, group: m[3]!, data: m[4]! };
}

/**
 * The signed XML from the texts of the codes read off a paper (in any
 * order, repeats allowed, other codes ignored). Throws CodeError saying what
 * is wrong. The XML still has to be verified: this only puts it together.
 */
export function decodeDocumentCode(texts: readonly string[]): string {
  const parts = texts.map(parsePart).filter((p): p is Part => p !== null);
  if (parts.length === 0) throw new CodeError('noCode', 'no document code among what was read');
  const groups = new Set(parts.map((p) => p.group));
  if (groups.size > 1) throw new CodeError('mixed', 'codes of more than one document');
  const count = parts[0]!.count;
  if (parts.some((p) => p.count !== count)) throw new CodeError('mixed', 'the codes disagree on how many there are');
  const byIndex = new Map<number, string>();
  for (const p of parts) {
    const held = byIndex.get(p.index);
    if (held !== undefined && held !== p.data) throw new CodeError('mixed', `two different codes number ${p.index}`);
    byIndex.set(p.index, p.data);
  }
  if (byIndex.size < count) {
    throw new CodeError('partial', `${byIndex.size} of ${count} codes read`, {
      indexes: [...byIndex.keys()].sort((a, b) => a - b),
      count,
    });
  }
  const packed = Buffer.from(Array.from({ length: count }, (_, i) => byIndex.get(i + 1)!).join(''), 'base64url');
  if (createHash('sha256').update(packed).digest('hex').slice(0, 8) !== parts[0]!.group) {
    throw new CodeError('damaged', 'the codes do not make the document they name');
  }
  let xml: Buffer;
  try {
    xml = inflateRawSync(packed, { maxOutputLength: MAX_XML_BYTES });
  } catch {
    throw new CodeError('damaged', 'the codes do not hold a readable document');
  }
  return xml.toString('utf8');
}
