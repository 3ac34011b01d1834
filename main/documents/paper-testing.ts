/**
 * For the paper-check tests: signed documents from the test PKI, their codes
 * drawn as QR images, pages composed of them, photos taken at an angle, PDFs
 * printed by Chromium. Test code only: nothing here ships in the app.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { signXml, softwareKey } from '#signing/index.js';
import type { Person } from '#signing/testing/pki.js';
import type { Gray } from './scan.js';

/** A result document as the signed data form carries it (the shape is the test's own: check reads any XML). */
export function sampleDocumentXml(
  options: { number?: string; bin?: string; padding?: number; signedAt?: Date } = {},
): string {
  // Padding: random-looking text so the compressed document needs several codes.
  let pad = '';
  let seed = 12345;
  for (let i = 0; i < (options.padding ?? 0); i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    pad += 'абвгдеәғқңөұүһіABCDEFGH0123456789'[seed % 33];
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<ResultDocument xmlns="urn:qyzmet:document:1">',
    `  <Number>${options.number ?? 'KZ-2026-000123'}</Number>`,
    '  <Service code="E-SZN-01">Жұмыссыз ретінде тіркеу</Service>',
    `  <Provider bin="${options.bin ?? '050140000011'}">ГУ "Отдел занятости и социальных программ"</Provider>`,
    '  <Applicant iin="900101300017">ТЕСТОВ ТЕСТ ТЕСТОВИЧ</Applicant>',
    '  <Decision>positive</Decision>',
    `  <SignedAt>${(options.signedAt ?? new Date('2026-11-30T10:15:00.000Z')).toISOString()}</SignedAt>`,
    ...(pad ? [`  <Note>${pad}</Note>`] : []),
    '</ResultDocument>',
    '',
  ].join('\n');
}

export async function signAs(person: Person, xml: string): Promise<string> {
  return signXml(xml, softwareKey({ key: person.keyPem, certificate: person.certDer, label: person.name }));
}

/** One code as a PNG (4 pixels a module, the standard quiet zone). */
export function qrPng(text: string, scale = 4): Promise<Buffer> {
  return QRCode.toBuffer(text, { type: 'png', errorCorrectionLevel: 'M', scale, margin: 4 });
}

export function pngToGray(bytes: Buffer): Gray {
  const png = PNG.sync.read(bytes);
  const px = new Uint8Array(png.width * png.height);
  for (let i = 0; i < px.length; i++) px[i] = png.data[i * 4]!;
  return { width: png.width, height: png.height, px };
}

function toRgba(g: Gray): Buffer {
  const data = Buffer.alloc(g.width * g.height * 4);
  for (let i = 0; i < g.px.length; i++) {
    data[i * 4] = data[i * 4 + 1] = data[i * 4 + 2] = g.px[i]!;
    data[i * 4 + 3] = 255;
  }
  return data;
}

export function grayToPng(g: Gray): Buffer {
  const png = new PNG({ width: g.width, height: g.height });
  png.data = toRgba(g);
  return PNG.sync.write(png);
}

export function grayToJpeg(g: Gray, quality = 85): Buffer {
  return jpeg.encode({ width: g.width, height: g.height, data: toRgba(g) }, quality).data;
}

/** A white page (150 dpi A4 by default) with the codes placed left to right, top to bottom. */
export function composePage(codes: readonly Gray[], width = 1240, height = 1754): Gray {
  const px = new Uint8Array(width * height).fill(255);
  let x = 100;
  let y = 160;
  let rowHeight = 0;
  for (const code of codes) {
    if (x + code.width > width - 60) {
      x = 100;
      y += rowHeight + 60;
      rowHeight = 0;
    }
    for (let r = 0; r < code.height && y + r < height; r++) {
      px.set(code.px.subarray(r * code.width, (r + 1) * code.width), (y + r) * width + x);
    }
    x += code.width + 60;
    rowHeight = Math.max(rowHeight, code.height);
  }
  // Some printed text lines, so the page is not only codes.
  for (let line = 0; line < 12; line++) {
    const ly = height - 600 + line * 40;
    for (let lx = 100; lx < width - 100; lx++) if ((lx >> 3) % 3 !== 0) px[ly * width + lx] = 40;
  }
  return { width, height, px };
}

/** A photo at an angle: turned by `degrees` (nearest neighbour, paper-white outside) with some sensor noise. */
export function photo(g: Gray, degrees: number, noise = 24): Gray {
  const a = (degrees * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const width = Math.ceil(Math.abs(g.width * cos) + Math.abs(g.height * sin));
  const height = Math.ceil(Math.abs(g.width * sin) + Math.abs(g.height * cos));
  const px = new Uint8Array(width * height);
  let seed = 7;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x - width / 2;
      const dy = y - height / 2;
      const sx = Math.round(dx * cos + dy * sin + g.width / 2);
      const sy = Math.round(-dx * sin + dy * cos + g.height / 2);
      const v = sx >= 0 && sy >= 0 && sx < g.width && sy < g.height ? g.px[sy * g.width + sx]! : 230;
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const n = ((seed >> 8) % (2 * noise + 1)) - noise;
      px[y * width + x] = Math.max(0, Math.min(255, v + n));
    }
  }
  return { width, height, px };
}

export const CHROMIUM = '/usr/bin/chromium';

/** A PDF printed by Chromium from an HTML page holding the PNGs as images; null when Chromium is absent. */
export async function chromiumPdf(dir: string, pngs: readonly Buffer[]): Promise<Buffer | null> {
  return chromiumPrint(
    dir,
    pngs.map((p) => `<img style="width:45mm;margin:4mm" src="data:image/png;base64,${p.toString('base64')}">`),
  );
}

/** The same with the codes as inline SVG (vector paths in the PDF, as the app's documents print them). */
export async function chromiumSvgPdf(dir: string, texts: readonly string[]): Promise<Buffer | null> {
  const svgs = await Promise.all(
    texts.map((t) => QRCode.toString(t, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 })),
  );
  return chromiumPrint(
    dir,
    svgs.map((svg) => `<div style="display:inline-block;width:45mm;margin:4mm">${svg}</div>`),
  );
}

async function chromiumPrint(dir: string, items: readonly string[]): Promise<Buffer | null> {
  if (!existsSync(CHROMIUM)) return null;
  const html = join(dir, 'paper.html');
  const pdf = join(dir, 'paper.pdf');
  const imgs = items.join('\n');
  writeFileSync(
    html,
    `<!doctype html><meta charset="utf-8"><body><h1>Анықтама / Справка</h1><p>Тексеру үшін кодты оқыңыз.</p>${imgs}</body>`,
  );
  await promisify(execFile)(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-pdf-header-footer',
      `--user-data-dir=${join(dir, 'chromium-profile')}`,
      `--print-to-pdf=${pdf}`,
      `file://${html}`,
    ],
    { timeout: 60_000 },
  );
  return readFileSync(pdf);
}
