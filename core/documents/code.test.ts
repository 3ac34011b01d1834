/** The document code: a signed XML cut into QR parts and put back together, and every way a reading goes wrong. */
import { createHash, randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CodeError, decodeDocumentCode, encodeDocumentCode, MAX_PARTS, PART_CHARS } from './code.js';

const xml = (n: number) =>
  `<?xml version="1.0" encoding="UTF-8"?><doc>${Array.from({ length: n }, (_, i) => `<line n="${i}">Жұмыссыз ретінде тіркеу ${(i * 7919) % 104729}</line>`).join('')}</doc>`;

const problem = (texts: string[]) => {
  try {
    decodeDocumentCode(texts);
  } catch (err) {
    if (err instanceof CodeError) return err.problem;
    throw err;
  }
  return null;
};

describe('document code', () => {
  it('puts a document cut into several codes back together, in any order, with repeats and other codes around', () => {
    const doc = xml(400);
    const parts = encodeDocumentCode(doc);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p) => p.length <= PART_CHARS + 20)).toBe(true);
    expect(decodeDocumentCode([...parts].reverse())).toBe(doc);
    expect(decodeDocumentCode(['https://example.kz', parts[0]!, ...parts, 'ЖСН 900101300017'])).toBe(doc);
    expect(encodeDocumentCode(xml(3))).toHaveLength(1);
  });

  it('says what is wrong: no code, a part missing, parts of two papers, a forged or misread part', () => {
    const parts = encodeDocumentCode(xml(400));
    const other = encodeDocumentCode(xml(401));
    expect(problem([])).toBe('noCode');
    expect(problem(['QR of a shop', 'QZ1.x'])).toBe('noCode');
    expect(problem(parts.slice(1))).toBe('partial');
    expect(problem([...parts.slice(1), other[0]!])).toBe('mixed');
    // One character of the data changed: the group tag no longer matches the bytes.
    const last = parts.at(-1)!;
    const changed = last.slice(0, -1) + (last.endsWith('A') ? 'B' : 'A');
    expect(problem([...parts.slice(0, -1), changed])).toBe('damaged');
    // A part claiming an index past its count is no part.
    expect(problem(['QZ1.2.3.00000000.AAAA'])).toBe('noCode');
  });

  it('refuses a code that inflates past the limit (no zip bomb) and a document too large to print', () => {
    // Random text does not compress: past MAX_PARTS codes.
    expect(() => encodeDocumentCode(randomBytes(PART_CHARS * MAX_PARTS).toString('hex'))).toThrow(/codes/);
    // 3 MiB of one letter packs into a few codes; put together, it stops at the limit.
    const packed = deflateRawSync(Buffer.alloc(3 * 1024 * 1024, 0x61), { level: 9 });
    const group = createHash('sha256').update(packed).digest('hex').slice(0, 8);
    const data = packed.toString('base64url');
    const count = Math.ceil(data.length / PART_CHARS);
    const parts = Array.from(
      { length: count },
      (_, i) => `QZ1.${count}.${i + 1}.${group}.${data.slice(i * PART_CHARS, (i + 1) * PART_CHARS)}`,
    );
    expect(problem(parts)).toBe('damaged');
  });
});
