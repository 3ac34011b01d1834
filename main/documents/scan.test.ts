/**
 * Reading codes off papers: pictures (PNG, JPEG), several codes a page, a
 * photo at an angle, PDFs printed by Chromium, and hostile or broken files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDocumentCode, encodeDocumentCode } from '#core/documents/code.js';
import {
  chromiumPdf,
  chromiumSvgPdf,
  composePage,
  grayToJpeg,
  grayToPng,
  photo,
  pngToGray,
  qrPng,
  sampleDocumentXml,
} from './paper-testing.js';
import { readCodes, rotate, ScanError, type Gray } from './scan.js';

const whole = (texts: readonly string[]) => {
  try {
    decodeDocumentCode(texts);
    return true;
  } catch {
    return false;
  }
};

describe('reading the codes of a paper', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-scan-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let one: string[];
  let three: string[];
  let onePngs: Buffer[];
  let threePngs: Buffer[];
  let onePage: Gray;
  let threePage: Gray;

  beforeAll(async () => {
    one = encodeDocumentCode(sampleDocumentXml());
    three = encodeDocumentCode(sampleDocumentXml({ padding: 1200 }));
    expect(one).toHaveLength(1);
    expect(three).toHaveLength(3);
    onePngs = await Promise.all(one.map((t) => qrPng(t)));
    threePngs = await Promise.all(three.map((t) => qrPng(t)));
    onePage = composePage(onePngs.map(pngToGray));
    threePage = composePage(threePngs.map(pngToGray));
  });

  it('reads the one code of a page (PNG)', async () => {
    const r = await readCodes(grayToPng(onePage), { done: whole });
    expect(r.kind).toBe('png');
    expect(r.texts).toEqual(one);
  });

  it('reads three codes of one page, each once', async () => {
    const r = await readCodes(grayToPng(threePage), { done: whole });
    expect([...r.texts].sort()).toEqual([...three].sort());
    expect(decodeDocumentCode(r.texts)).toBe(sampleDocumentXml({ padding: 1200 }));
  });

  it('reads every code even with no caller saying when to stop', async () => {
    const r = await readCodes(grayToPng(threePage));
    expect([...r.texts].sort()).toEqual([...three].sort());
  });

  it('reads a JPEG scan', async () => {
    const r = await readCodes(grayToJpeg(threePage, 80), { done: whole });
    expect(r.kind).toBe('jpeg');
    expect([...r.texts].sort()).toEqual([...three].sort());
  });

  // A phone photo resolves a module into 6 pixels or more. jsqr reads most angles; some (4 pixels a module at 10°,
  // 6 pixels at 30°, nearest-neighbour turned with heavy noise) give only part of the codes: the user is told 'partial'.
  it('reads a photo taken at an angle (15°, 6 pixels a module, noise, JPEG)', async () => {
    const codes = await Promise.all(three.map(async (t) => pngToGray(await qrPng(t, 6))));
    const page = composePage(codes, 1800, 2546);
    const r = await readCodes(grayToJpeg(photo(page, 15, 24), 85), { done: whole });
    expect([...r.texts].sort()).toEqual([...three].sort());
  });

  it('reads a page turned upside down and sideways', async () => {
    for (const q of [1, 2, 3] as const) {
      const r = await readCodes(grayToPng(rotate(threePage, q)), { done: whole });
      expect([...r.texts].sort()).toEqual([...three].sort());
    }
  });

  it('reads a page with no code as no texts', async () => {
    const r = await readCodes(grayToPng(composePage([])), { done: whole });
    expect(r.texts).toEqual([]);
  });

  it('reads a PDF printed by Chromium with the codes as images', async (ctx) => {
    const pdf = await chromiumPdf(dir, threePngs);
    if (!pdf) {
      console.log('skipped: /usr/bin/chromium is absent');
      ctx.skip();
      return;
    }
    const r = await readCodes(pdf, { done: whole });
    expect(r.kind).toBe('pdf');
    expect([...r.texts].sort()).toEqual([...three].sort());
  });

  it('reads a PDF printed by Chromium with the codes as inline SVG (vector paths, drawn by the reader)', async (ctx) => {
    const pdf = await chromiumSvgPdf(dir, three);
    if (!pdf) {
      console.log('skipped: /usr/bin/chromium is absent');
      ctx.skip();
      return;
    }
    const r = await readCodes(pdf, { done: whole });
    expect(r).toMatchObject({ kind: 'pdf', images: 0 });
    expect([...r.texts].sort()).toEqual([...three].sort());
  });

  it('reads a scanned page inside a PDF (FlateDecode gray pixels with a PNG predictor, and DCTDecode)', async () => {
    const g = threePage;
    // PNG "up" predictor on every row.
    const rows: Buffer[] = [];
    for (let y = 0; y < g.height; y++) {
      const row = Buffer.alloc(g.width + 1);
      row[0] = 2;
      for (let x = 0; x < g.width; x++) {
        const up = y > 0 ? g.px[(y - 1) * g.width + x]! : 0;
        row[x + 1] = (g.px[y * g.width + x]! - up) & 0xff;
      }
      rows.push(row);
    }
    const flate = deflateSync(Buffer.concat(rows));
    const jpegBytes = grayToJpeg(onePage, 85);
    const pdf = minimalPdf([
      {
        dict: `/Type /XObject /Subtype /Image /Width ${g.width} /Height ${g.height} /BitsPerComponent 8 /ColorSpace /DeviceGray /Filter /FlateDecode /DecodeParms << /Predictor 12 /Colors 1 /Columns ${g.width} >>`,
        data: flate,
      },
    ]);
    const r = await readCodes(pdf, { done: whole });
    expect([...r.texts].sort()).toEqual([...three].sort());
    const pdf2 = minimalPdf([
      {
        dict: `/Type /XObject /Subtype /Image /Width ${onePage.width} /Height ${onePage.height} /BitsPerComponent 8 /ColorSpace /DeviceRGB /Filter /DCTDecode`,
        data: jpegBytes,
      },
    ]);
    expect((await readCodes(pdf2, { done: whole })).texts).toEqual(one);
  });

  it('attack: a page drawing a hundred thousand full-page fills is drawn within its painting budget', async () => {
    const content = Buffer.from('0 g\n' + '0 0 595 842 re f\n'.repeat(100_000));
    const pdf = minimalPdf([], content);
    const r = await readCodes(pdf, { done: whole });
    expect(r.texts).toEqual([]);
  });

  it('reads a PDF with no image as no texts', async () => {
    const pdf = minimalPdf([]);
    const r = await readCodes(pdf, { done: whole });
    expect(r).toMatchObject({ kind: 'pdf', texts: [], images: 0 });
  });

  it('attack: a truncated PNG is refused as an unreadable file, not a crash', async () => {
    const png = grayToPng(onePage);
    await expect(readCodes(png.subarray(0, png.length >> 1))).rejects.toMatchObject({ problem: 'unreadableFile' });
  });

  it('attack: a PNG declaring a huge image is refused before it is decoded', async () => {
    const png = Buffer.from(grayToPng(composePage([], 64, 64)));
    png.writeUInt32BE(100_000, 16);
    png.writeUInt32BE(100_000, 20);
    await expect(readCodes(png)).rejects.toBeInstanceOf(ScanError);
  });

  it('attack: a PDF image declaring more pixels than allowed is skipped, and a zip bomb is not inflated whole', async () => {
    const bomb = deflateSync(Buffer.alloc(50 * 1024 * 1024));
    const pdf = minimalPdf([
      {
        dict: '/Subtype /Image /Width 100000 /Height 100000 /BitsPerComponent 8 /ColorSpace /DeviceGray /Filter /FlateDecode',
        data: bomb,
      },
      {
        dict: '/Subtype /Image /Width 100 /Height 100 /BitsPerComponent 8 /ColorSpace /DeviceGray /Filter /FlateDecode',
        data: bomb,
      },
    ]);
    const r = await readCodes(pdf, { done: whole });
    expect(r).toMatchObject({ texts: [], images: 0 });
  });

  it('attack: a file that is no picture or PDF is refused as unreadable', async () => {
    await expect(readCodes(Buffer.from('MZ\x90\x00 not a paper'))).rejects.toMatchObject({
      problem: 'unreadableFile',
    });
  });

  it('stops at its deadline', async () => {
    let t = 0;
    const r = await readCodes(grayToPng(threePage), { now: () => (t += 1000), deadlineMs: 1500 });
    expect(r.timedOut).toBe(true);
    expect(r.texts.length).toBeLessThan(3);
  });
});

/** A PDF with one page and the given image XObjects (enough for the reader: objects and streams). */
function minimalPdf(images: { dict: string; data: Buffer }[], content?: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  const names = images.map((_, i) => `/Im${i} ${4 + i} 0 R`).join(' ');
  const objs: Buffer[] = [
    Buffer.from('1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n'),
    Buffer.from(
      `2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << ${names} >> >>${content ? ' /Contents 99 0 R' : ''} >>\nendobj\n`,
    ),
    ...images.map((im, i) =>
      Buffer.concat([
        Buffer.from(`${4 + i} 0 obj\n<< ${im.dict} /Length ${im.data.length} >>\nstream\n`, 'latin1'),
        im.data,
        Buffer.from('\nendstream\nendobj\n'),
      ]),
    ),
  ];
  if (content) {
    objs.push(
      Buffer.concat([
        Buffer.from(`99 0 obj\n<< /Length ${content.length} >>\nstream\n`),
        content,
        Buffer.from('\nendstream\nendobj\n'),
      ]),
    );
  }
  return Buffer.concat([...parts, ...objs, Buffer.from('trailer\n<< /Root 1 0 R >>\n%%EOF\n')]);
}
