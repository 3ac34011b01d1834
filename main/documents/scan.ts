/**
 * Reads the QR codes off a paper: a scan or a photo (PNG, JPEG) or a PDF
 * (its raster images). Pure JavaScript (jsqr, pngjs, jpeg-js and a small PDF
 * reader here), no network, no native code.
 *
 * A page may hold several codes: after a code is read its area is blanked
 * and the image searched again. When the page as it is gives nothing more,
 * variants are tried: half size, a global (Otsu) threshold, and the page
 * turned 90/180/270 degrees. The caller's `done` says when what was read is
 * enough, so a good scan costs one pass per code.
 *
 * The work is bounded so that a hostile file cannot hang the app: file size,
 * pixels per image (checked before decoding), images per PDF, inflated bytes,
 * and a deadline checked between decoder passes.
 */
import { inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';

export const SCAN_LIMITS = {
  fileBytes: 64 * 1024 * 1024,
  /** Pixels of one image: a 600-dpi A4 scan is 35 MP. */
  imagePixels: 40_000_000,
  /** Pixels the decoder sees: larger images are scanned at a reduced size first. */
  scanPixels: 12_000_000,
  /** Pixels of a whole-page pass of the decoder (codes found as blobs are decoded at full size). */
  wholePixels: 4_000_000,
  pdfImages: 200,
  /** Passes of the decoder per image variant: at most one code is read per pass. */
  passes: 32,
  deadlineMs: 15_000,
} as const;

export type ScanProblem = 'unreadableFile';

export class ScanError extends Error {
  constructor(
    readonly problem: ScanProblem,
    message: string,
  ) {
    super(message);
    this.name = 'ScanError';
  }
}

export interface ScanOptions {
  /** True when the texts read so far are enough (the document is whole): scanning stops. */
  done?: (texts: readonly string[]) => boolean;
  deadlineMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

export interface ScanResult {
  kind: 'png' | 'jpeg' | 'pdf';
  /** The distinct texts of the codes read, in the order found. */
  texts: string[];
  /** Images looked at (1 for a picture; a PDF's raster images). */
  images: number;
  /** The deadline passed before every variant was tried. */
  timedOut: boolean;
}

/** A grayscale image: one byte per pixel, 0 black, 255 white. */
export interface Gray {
  width: number;
  height: number;
  px: Uint8Array;
}

export function fileKind(bytes: Uint8Array): 'png' | 'jpeg' | 'pdf' | null {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  // A PDF's header may follow some junk within the first 1024 bytes.
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  if (head.includes('%PDF-')) return 'pdf';
  return null;
}

/** Reads the codes of a PNG, JPEG or PDF file. Throws ScanError('unreadableFile') for anything else or a broken file. */
export async function readCodes(bytes: Uint8Array, options: ScanOptions = {}): Promise<ScanResult> {
  if (bytes.length > SCAN_LIMITS.fileBytes) throw new ScanError('unreadableFile', 'the file is too large');
  const kind = fileKind(bytes);
  if (!kind) throw new ScanError('unreadableFile', 'not a PNG, JPEG or PDF file');
  const clock = options.now ?? Date.now;
  const scan = new Scanner(clock() + (options.deadlineMs ?? SCAN_LIMITS.deadlineMs), clock, options.done);
  if (kind === 'pdf') {
    const images = pdfImages(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    let count = 0;
    for (const image of images) {
      if (scan.finished()) break;
      let gray: Gray | null;
      try {
        gray = image();
      } catch {
        gray = null; // one broken image does not hide the others
      }
      if (!gray) continue;
      count++;
      await scan.image(gray);
    }
    // Codes drawn as vector paths (SVG in the printed HTML): the pages drawn and searched.
    for (const page of scan.finished() ? [] : pdfPages(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) {
      if (scan.finished()) break;
      let gray: Gray | null;
      try {
        gray = page();
      } catch {
        gray = null;
      }
      if (gray) await scan.image(gray);
    }
    return { kind, texts: scan.texts, images: count, timedOut: scan.timedOut };
  }
  const gray = kind === 'png' ? decodePng(bytes) : decodeJpeg(bytes);
  await scan.image(gray);
  return { kind, texts: scan.texts, images: 1, timedOut: scan.timedOut };
}

// ---------------------------------------------------------------------------------------------------------------
// Pictures

function checkSize(width: number, height: number): void {
  if (!(width > 0 && height > 0) || width * height > SCAN_LIMITS.imagePixels) {
    throw new ScanError('unreadableFile', `an image of ${width}×${height} pixels is not scanned`);
  }
}

export function decodePng(bytes: Uint8Array): Gray {
  // The size from the header, before pngjs allocates for it.
  if (bytes.length < 33) throw new ScanError('unreadableFile', 'a truncated PNG');
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkSize(view.readUInt32BE(16), view.readUInt32BE(20));
  let png: { width: number; height: number; data: Buffer };
  try {
    png = PNG.sync.read(view);
  } catch {
    throw new ScanError('unreadableFile', 'a damaged PNG');
  }
  return rgbaToGray(png.data, png.width, png.height);
}

export function decodeJpeg(bytes: Uint8Array): Gray {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: SCAN_LIMITS.imagePixels / 1_000_000,
      maxMemoryUsageInMB: 1024,
    });
  } catch {
    throw new ScanError('unreadableFile', 'a damaged JPEG');
  }
  checkSize(img.width, img.height);
  return rgbaToGray(img.data, img.width, img.height);
}

/** Luminance; a transparent pixel counts as white paper. */
function rgbaToGray(data: Uint8Array, width: number, height: number): Gray {
  const px = new Uint8Array(width * height);
  for (let i = 0, j = 0; i < px.length; i++, j += 4) {
    const a = data[j + 3]!;
    const y = (data[j]! * 77 + data[j + 1]! * 150 + data[j + 2]! * 29) >> 8;
    px[i] = a === 255 ? y : (y * a + 255 * (255 - a)) / 255;
  }
  return { width, height, px };
}

// ---------------------------------------------------------------------------------------------------------------
// The search

class Scanner {
  readonly texts: string[] = [];
  timedOut = false;
  private enough = false;

  constructor(
    private readonly deadline: number,
    private readonly clock: () => number,
    private readonly done: ((texts: readonly string[]) => boolean) | undefined,
  ) {}

  finished(): boolean {
    if (this.enough) return true;
    if (this.clock() > this.deadline) this.timedOut = true;
    return this.timedOut;
  }

  private add(text: string): void {
    if (this.texts.includes(text)) return;
    this.texts.push(text);
    if (this.done?.(this.texts)) this.enough = true;
  }

  async image(source: Gray): Promise<void> {
    if (source.width < 21 || source.height < 21) return;
    let base = source;
    while (base.width * base.height > SCAN_LIMITS.scanPixels) base = downscale(base);
    // Whole-image passes cost the most (the decoder's time grows with pixels and with speckle): kept smaller.
    let whole = base;
    while (whole.width * whole.height > SCAN_LIMITS.wholePixels) whole = downscale(whole);
    const variants: { make: () => Gray; regions: boolean; whole: boolean }[] = [
      { make: () => base, regions: true, whole: false },
      { make: () => whole, regions: false, whole: true },
      { make: () => binarise(whole), regions: false, whole: true },
      { make: () => downscale(base), regions: true, whole: false },
      { make: () => rotate(whole, 1), regions: false, whole: true },
      { make: () => rotate(whole, 2), regions: false, whole: true },
      { make: () => rotate(whole, 3), regions: false, whole: true },
    ];
    for (const [i, variant] of variants.entries()) {
      if (this.finished()) return;
      // A small image is not made smaller still.
      if (i === 3 && Math.min(base.width, base.height) < 400) continue;
      const before = this.texts.length;
      await this.search(variant.make(), variant.regions, variant.whole);
      // With nobody saying what is enough, the first variant that reads anything is taken as the answer.
      if (this.done === undefined && this.texts.length > before) return;
    }
  }

  /**
   * The dark blobs of the page one by one (each code on its own: with
   * several codes in view the decoder may pair finder patterns of different
   * codes and read none), then the whole image.
   */
  private async search(image: Gray, regions: boolean, whole: boolean): Promise<void> {
    if (regions) {
      for (const r of darkRegions(image)) {
        if (this.finished()) return;
        const part = crop(image, r);
        const before = this.texts.length;
        // Black and white at the blob's own threshold first: speckle and uneven light gone.
        await this.sweep(binarise(blur(part)));
        if (this.texts.length === before && !this.finished()) await this.sweep(part);
      }
    }
    if (whole && !this.finished()) await this.sweep(image);
  }

  /** Reads a code, blanks it, reads again, until nothing more is found. */
  private async sweep(image: Gray): Promise<void> {
    const work: Gray = { width: image.width, height: image.height, px: new Uint8Array(image.px) };
    const rgba = new Uint8ClampedArray(work.width * work.height * 4);
    for (let pass = 0; pass < SCAN_LIMITS.passes; pass++) {
      if (this.finished()) return;
      // Let the event loop breathe between passes (the app stays responsive).
      await new Promise<void>((resolve) => setImmediate(resolve));
      grayToRgba(work, rgba);
      // Printed codes are dark on light: the inverted search would double the time for nothing.
      const found = jsQR(rgba, work.width, work.height, { inversionAttempts: 'dontInvert' });
      // An empty read is a misread (no code of ours is empty): its area is left for the other variants.
      if (!found || found.data === '') return;
      this.add(found.data);
      const l = found.location;
      blankQuad(work, [l.topLeftCorner, l.topRightCorner, l.bottomRightCorner, l.bottomLeftCorner]);
    }
  }
}

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
  /** The blobs' labels by cell, and this blob's: other blobs inside the rectangle are painted out. */
  blob?: { labels: Int32Array; cell: number; cw: number; id: number };
}

/** Otsu's threshold of an image's histogram. */
function otsu(g: Gray): number {
  const hist = new Array<number>(256).fill(0);
  for (const v of g.px) hist[v]!++;
  const total = g.px.length;
  let sum = 0;
  for (let i = 0; i < 256; i++) sum += i * hist[i]!;
  let sumB = 0;
  let wB = 0;
  let best = 0;
  let threshold = 128;
  for (let t = 0; t < 256; t++) {
    wB += hist[t]!;
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += t * hist[t]!;
    const mB = sumB / wB;
    const mF = (sum - sumB) / wF;
    const between = wB * wF * (mB - mF) * (mB - mF);
    if (between > best) {
      best = between;
      threshold = t;
    }
  }
  return threshold;
}

/**
 * Where codes may be: the page cut into cells, a cell dark when any pixel is,
 * dark cells joined across small gaps (a code's light modules) but not across
 * a code's quiet zone; each joined blob of a code's shape (squarish, dense
 * enough) is a region, grown by a margin. Two joining radii, the largest
 * blobs first, at most 48 regions.
 */
export function darkRegions(g: Gray): Rect[] {
  const threshold = otsu(g);
  const minSide = Math.min(g.width, g.height);
  const cell = Math.max(1, Math.round(minSide / 600));
  const cw = Math.ceil(g.width / cell);
  const ch = Math.ceil(g.height / cell);
  const dark = new Uint8Array(cw * ch);
  for (let y = 0; y < g.height; y++) {
    const row = ((y / cell) | 0) * cw;
    for (let x = 0; x < g.width; x++) if (g.px[y * g.width + x]! < threshold) dark[row + ((x / cell) | 0)] = 1;
  }
  const out: Rect[] = [];
  const seen = new Set<string>();
  for (const share of [0.01, 0.005]) {
    const radius = Math.max(1, Math.round((minSide * share) / cell));
    const joined = dilate(dilateRows(dark, cw, ch, radius), cw, ch, radius);
    const label = new Int32Array(cw * ch);
    const stack: number[] = [];
    let next = 0;
    for (let start = 0; start < joined.length; start++) {
      if (!joined[start] || label[start]) continue;
      next++;
      let minX = cw;
      let minY = ch;
      let maxX = -1;
      let maxY = -1;
      let darkCells = 0;
      stack.push(start);
      label[start] = next;
      while (stack.length) {
        const i = stack.pop()!;
        const x = i % cw;
        const y = (i / cw) | 0;
        if (dark[i]) {
          darkCells++;
          if (x < minX) minX = x;
          if (x > maxX) maxX = x;
          if (y < minY) minY = y;
          if (y > maxY) maxY = y;
        }
        for (const j of [i - 1, i + 1, i - cw, i + cw]) {
          if (j < 0 || j >= joined.length || label[j] || !joined[j]) continue;
          if ((j === i - 1 && x === 0) || (j === i + 1 && x === cw - 1)) continue;
          label[j] = next;
          stack.push(j);
        }
      }
      if (maxX < 0) continue;
      const w = (maxX - minX + 1) * cell;
      const h = (maxY - minY + 1) * cell;
      if (w < 21 || h < 21 || w > 3 * h || h > 3 * w) continue;
      if (darkCells < 0.15 * (maxX - minX + 1) * (maxY - minY + 1)) continue;
      const margin = Math.round(Math.max(w, h) * 0.12) + 2 * cell;
      const x0 = Math.max(0, minX * cell - margin);
      const y0 = Math.max(0, minY * cell - margin);
      const rect = {
        x: x0,
        y: y0,
        width: Math.min(g.width, (maxX + 1) * cell + margin) - x0,
        height: Math.min(g.height, (maxY + 1) * cell + margin) - y0,
      };
      const key = `${rect.x},${rect.y},${rect.width},${rect.height}`;
      const blob = { labels: label, cell, cw, id: next };
      // The whole page as one blob is the whole-image search's work.
      if (seen.has(key) || rect.width * rect.height > 0.8 * g.width * g.height) continue;
      seen.add(key);
      out.push({ ...rect, blob });
    }
  }
  return out.sort((a, b) => b.width * b.height - a.width * a.height).slice(0, 48);
}

/** Max over a horizontal window of ±radius cells. */
function dilateRows(src: Uint8Array, w: number, h: number, radius: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let y = 0; y < h; y++) {
    let last = -Infinity;
    // Left to right: distance to the last dark cell; then right to left.
    for (let x = 0; x < w; x++) {
      if (src[y * w + x]) last = x;
      if (x - last <= radius) out[y * w + x] = 1;
    }
    last = Infinity;
    for (let x = w - 1; x >= 0; x--) {
      if (src[y * w + x]) last = x;
      if (last - x <= radius) out[y * w + x] = 1;
    }
  }
  return out;
}

/** Max over a vertical window of ±radius cells. */
function dilate(src: Uint8Array, w: number, h: number, radius: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let x = 0; x < w; x++) {
    let last = -Infinity;
    for (let y = 0; y < h; y++) {
      if (src[y * w + x]) last = y;
      if (y - last <= radius) out[y * w + x] = 1;
    }
    last = Infinity;
    for (let y = h - 1; y >= 0; y--) {
      if (src[y * w + x]) last = y;
      if (last - y <= radius) out[y * w + x] = 1;
    }
  }
  return out;
}

/** A 3×3 box blur: smooths a photo's speckle and the jagged edges of a turned code before thresholding. */
export function blur(g: Gray): Gray {
  const { width: w, height: h } = g;
  const px = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const y0 = y > 0 ? y - 1 : y;
    const y1 = y < h - 1 ? y + 1 : y;
    for (let x = 0; x < w; x++) {
      const x0 = x > 0 ? x - 1 : x;
      const x1 = x < w - 1 ? x + 1 : x;
      let sum = 0;
      for (const yy of [y0, y, y1]) sum += g.px[yy * w + x0]! + g.px[yy * w + x]! + g.px[yy * w + x1]!;
      px[y * w + x] = (sum / 9) | 0;
    }
  }
  return { width: w, height: h, px };
}

/** The rectangle's pixels, a neighbouring code's corner (another blob) painted white so it cannot confuse the decoder. */
function crop(g: Gray, r: Rect): Gray {
  const px = new Uint8Array(r.width * r.height);
  for (let y = 0; y < r.height; y++) {
    const from = (r.y + y) * g.width + r.x;
    px.set(g.px.subarray(from, from + r.width), y * r.width);
    if (!r.blob) continue;
    const { labels, cell, cw, id } = r.blob;
    const row = (((r.y + y) / cell) | 0) * cw;
    for (let x = 0; x < r.width; x++) {
      const l = labels[row + (((r.x + x) / cell) | 0)]!;
      if (l !== 0 && l !== id) px[y * r.width + x] = 255;
    }
  }
  return { width: r.width, height: r.height, px };
}

function grayToRgba(g: Gray, out: Uint8ClampedArray): void {
  for (let i = 0, j = 0; i < g.px.length; i++, j += 4) {
    const v = g.px[i]!;
    out[j] = v;
    out[j + 1] = v;
    out[j + 2] = v;
    out[j + 3] = 255;
  }
}

interface Point {
  x: number;
  y: number;
}

/** Paints the code's quadrangle white, grown by a fifth to take its quiet zone and finder patterns' edges. */
function blankQuad(g: Gray, corners: Point[]): void {
  const cx = corners.reduce((s, p) => s + p.x, 0) / corners.length;
  const cy = corners.reduce((s, p) => s + p.y, 0) / corners.length;
  const quad = corners.map((p) => ({ x: cx + (p.x - cx) * 1.2, y: cy + (p.y - cy) * 1.2 }));
  const minX = Math.max(0, Math.floor(Math.min(...quad.map((p) => p.x))));
  const maxX = Math.min(g.width - 1, Math.ceil(Math.max(...quad.map((p) => p.x))));
  const minY = Math.max(0, Math.floor(Math.min(...quad.map((p) => p.y))));
  const maxY = Math.min(g.height - 1, Math.ceil(Math.max(...quad.map((p) => p.y))));
  for (let y = minY; y <= maxY; y++) {
    for (let x = minX; x <= maxX; x++) {
      if (insideConvex(quad, x, y)) g.px[y * g.width + x] = 255;
    }
  }
}

function insideConvex(quad: Point[], x: number, y: number): boolean {
  let sign = 0;
  for (let i = 0; i < quad.length; i++) {
    const a = quad[i]!;
    const b = quad[(i + 1) % quad.length]!;
    const cross = (b.x - a.x) * (y - a.y) - (b.y - a.y) * (x - a.x);
    if (cross === 0) continue;
    const s = cross > 0 ? 1 : -1;
    if (sign === 0) sign = s;
    else if (s !== sign) return false;
  }
  return true;
}

/** Half size, each pixel the mean of four. */
export function downscale(g: Gray): Gray {
  const width = Math.max(1, g.width >> 1);
  const height = Math.max(1, g.height >> 1);
  const px = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const r0 = 2 * y * g.width;
    const r1 = Math.min(2 * y + 1, g.height - 1) * g.width;
    for (let x = 0; x < width; x++) {
      const x1 = Math.min(2 * x + 1, g.width - 1);
      px[y * width + x] = (g.px[r0 + 2 * x]! + g.px[r0 + x1]! + g.px[r1 + 2 * x]! + g.px[r1 + x1]! + 2) >> 2;
    }
  }
  return { width, height, px };
}

/** Black and white at Otsu's threshold: helps an evenly lit photo whose local contrast fools the decoder. */
export function binarise(g: Gray): Gray {
  const threshold = otsu(g);
  const total = g.px.length;
  const px = new Uint8Array(total);
  for (let i = 0; i < total; i++) px[i] = g.px[i]! > threshold ? 255 : 0;
  return { width: g.width, height: g.height, px };
}

/** Turned clockwise by quarter turns. */
export function rotate(g: Gray, quarters: 1 | 2 | 3): Gray {
  const { width: w, height: h } = g;
  const out = new Uint8Array(w * h);
  const width = quarters === 2 ? w : h;
  const height = quarters === 2 ? h : w;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = g.px[y * w + x]!;
      if (quarters === 1) out[x * width + (h - 1 - y)] = v;
      else if (quarters === 2) out[(h - 1 - y) * width + (w - 1 - x)] = v;
      else out[(w - 1 - x) * width + y] = v;
    }
  }
  return { width, height, px: out };
}

// ---------------------------------------------------------------------------------------------------------------
// A small PDF reader: enough to find the raster images (image XObjects) and their pixels.

type PdfValue = number | string | boolean | null | PdfName | PdfRef | PdfValue[] | PdfDict;
class PdfName {
  constructor(readonly name: string) {}
}
class PdfRef {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}
}
type PdfDict = Map<string, PdfValue>;
/** A content stream's operator (a bare word that is no number, boolean or null). */
class Operator {
  constructor(readonly name: string) {}
}

interface PdfObject {
  value: PdfValue;
  stream: Buffer | null;
}

const WS = new Set([0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]);
const DELIM = new Set([0x28, 0x29, 0x3c, 0x3e, 0x5b, 0x5d, 0x7b, 0x7d, 0x2f, 0x25]);

class Lexer {
  constructor(
    readonly buf: Buffer,
    public pos: number,
  ) {}

  private skip(): void {
    const b = this.buf;
    while (this.pos < b.length) {
      const c = b[this.pos]!;
      if (WS.has(c)) this.pos++;
      else if (c === 0x25) {
        while (this.pos < b.length && b[this.pos] !== 0x0a && b[this.pos] !== 0x0d) this.pos++;
      } else break;
    }
  }

  private word(): string {
    const start = this.pos;
    while (this.pos < this.buf.length && !WS.has(this.buf[this.pos]!) && !DELIM.has(this.buf[this.pos]!)) this.pos++;
    return this.buf.toString('latin1', start, this.pos);
  }

  peekWord(): string {
    this.skip();
    const at = this.pos;
    const w = this.word();
    this.pos = at;
    return w;
  }

  /** The next operand or operator of a content stream; undefined at its end. */
  token(): PdfValue | Operator | undefined {
    this.skip();
    const c = this.buf[this.pos];
    if (c === undefined) return undefined;
    if (DELIM.has(c)) {
      if (c === 0x29 || c === 0x5d || c === 0x7d || c === 0x7b || (c === 0x3e && this.buf[this.pos + 1] !== 0x3e)) {
        this.pos++; // a stray delimiter
        return null;
      }
      if (c === 0x3e) {
        this.pos += 2;
        return null;
      }
      return this.value();
    }
    const at = this.pos;
    const w = this.word();
    if (w === '') {
      this.pos++;
      return null;
    }
    if (w === 'true' || w === 'false' || w === 'null' || !Number.isNaN(Number(w))) {
      this.pos = at;
      return this.value();
    }
    return new Operator(w);
  }

  /** Past an inline image's data (BI … ID data EI). */
  skipInlineImage(): void {
    const text = this.buf.toString('latin1', this.pos, Math.min(this.buf.length, this.pos + 8_000_000));
    const id = text.search(/\sID\s/);
    if (id < 0) {
      this.pos = this.buf.length;
      return;
    }
    const ei = text.slice(id + 4).search(/\sEI(\s|$)/);
    this.pos = ei < 0 ? this.buf.length : this.pos + id + 4 + ei + 3;
  }

  value(depth = 0): PdfValue {
    if (depth > 32) throw new Error('pdf: nesting too deep');
    this.skip();
    const b = this.buf;
    const c = b[this.pos];
    if (c === undefined) throw new Error('pdf: unexpected end');
    if (c === 0x2f) {
      this.pos++;
      return new PdfName(
        this.word().replace(/#([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
      );
    }
    if (c === 0x3c && b[this.pos + 1] === 0x3c) {
      this.pos += 2;
      const dict: PdfDict = new Map();
      for (;;) {
        this.skip();
        if (b[this.pos] === 0x3e && b[this.pos + 1] === 0x3e) {
          this.pos += 2;
          return dict;
        }
        const key = this.value(depth + 1);
        if (!(key instanceof PdfName)) throw new Error('pdf: a dictionary key is not a name');
        dict.set(key.name, this.value(depth + 1));
      }
    }
    if (c === 0x3c) {
      const end = b.indexOf(0x3e, this.pos);
      if (end < 0) throw new Error('pdf: unterminated hex string');
      const hex = b.toString('latin1', this.pos + 1, end).replace(/[^0-9a-fA-F]/g, '');
      this.pos = end + 1;
      return Buffer.from(hex.length % 2 ? hex + '0' : hex, 'hex').toString('latin1');
    }
    if (c === 0x28) return this.literal();
    if (c === 0x5b) {
      this.pos++;
      const out: PdfValue[] = [];
      for (;;) {
        this.skip();
        if (b[this.pos] === 0x5d) {
          this.pos++;
          return out;
        }
        if (this.pos >= b.length) throw new Error('pdf: unterminated array');
        out.push(this.value(depth + 1));
      }
    }
    const w = this.word();
    if (w === '') {
      this.pos++;
      return null;
    }
    if (w === 'true' || w === 'false') return w === 'true';
    if (w === 'null') return null;
    const n = Number(w);
    if (Number.isNaN(n)) return null;
    if (Number.isInteger(n)) {
      // "n g R" is a reference.
      const save = this.pos;
      this.skip();
      const g = this.word();
      this.skip();
      if (/^\d+$/.test(g) && this.buf[this.pos] === 0x52 /* R */) {
        this.pos++;
        return new PdfRef(n, Number(g));
      }
      this.pos = save;
    }
    return n;
  }

  private literal(): string {
    const b = this.buf;
    let depth = 0;
    let out = '';
    this.pos++;
    while (this.pos < b.length) {
      const c = b[this.pos++]!;
      if (c === 0x5c) {
        const e = b[this.pos++]!;
        const map: Record<number, string> = { 0x6e: '\n', 0x72: '\r', 0x74: '\t', 0x62: '\b', 0x66: '\f' };
        if (map[e] !== undefined) out += map[e];
        else if (e >= 0x30 && e <= 0x37) {
          let oct = String.fromCharCode(e);
          while (oct.length < 3 && b[this.pos]! >= 0x30 && b[this.pos]! <= 0x37)
            oct += String.fromCharCode(b[this.pos++]!);
          out += String.fromCharCode(parseInt(oct, 8) & 0xff);
        } else if (e === 0x0d || e === 0x0a) {
          if (e === 0x0d && b[this.pos] === 0x0a) this.pos++;
        } else out += String.fromCharCode(e);
      } else if (c === 0x28) {
        depth++;
        out += '(';
      } else if (c === 0x29) {
        if (depth === 0) return out;
        depth--;
        out += ')';
      } else out += String.fromCharCode(c);
    }
    throw new Error('pdf: unterminated string');
  }
}

/** Every "n g obj" of the file, later definitions winning (incremental updates). Object streams are not read. */
function pdfObjects(buf: Buffer): Map<number, PdfObject> {
  const text = buf.toString('latin1');
  const objects = new Map<number, PdfObject>();
  const header = /(\d+)\s+(\d+)\s+obj\b/g;
  let m: RegExpExecArray | null;
  while ((m = header.exec(text))) {
    const num = Number(m[1]);
    const lexer = new Lexer(buf, m.index + m[0].length);
    let value: PdfValue;
    try {
      value = lexer.value();
    } catch {
      continue;
    }
    let stream: Buffer | null = null;
    if (value instanceof Map && lexer.peekWord() === 'stream') {
      let start = text.indexOf('stream', lexer.pos) + 'stream'.length;
      if (buf[start] === 0x0d) start++;
      if (buf[start] === 0x0a) start++;
      const length = value.get('Length');
      let end = typeof length === 'number' && length >= 0 ? start + length : -1;
      if (end < 0 || end > buf.length || !/^\s*endstream/.test(text.slice(end, end + 32))) {
        end = text.indexOf('endstream', start);
        if (end < 0) end = buf.length;
        // The EOL before "endstream" is not data.
        if (buf[end - 1] === 0x0a) end--;
        if (buf[end - 1] === 0x0d) end--;
      }
      stream = buf.subarray(start, end);
      header.lastIndex = Math.max(header.lastIndex, end);
    }
    objects.set(num, { value, stream });
  }
  return objects;
}

function isName(v: PdfValue | undefined, name: string): boolean {
  return v instanceof PdfName && v.name === name;
}

/**
 * The raster images of a PDF, each a function that decodes it (so one at a
 * time is held in memory). Throws ScanError for a file that is no PDF at all.
 */
export function pdfImages(buf: Buffer): (() => Gray | null)[] {
  let objects: Map<number, PdfObject>;
  try {
    objects = pdfObjects(buf);
  } catch {
    throw new ScanError('unreadableFile', 'a damaged PDF');
  }
  if (objects.size === 0) throw new ScanError('unreadableFile', 'a PDF with no objects');
  const resolve = (v: PdfValue | undefined, depth = 0): PdfValue | undefined =>
    v instanceof PdfRef && depth < 8 ? resolve(objects.get(v.num)?.value, depth + 1) : v;
  const out: (() => Gray | null)[] = [];
  for (const obj of objects.values()) {
    const dict = obj.value;
    if (!(dict instanceof Map) || !obj.stream || !isName(dict.get('Subtype'), 'Image')) continue;
    if (out.length >= SCAN_LIMITS.pdfImages) break;
    const stream = obj.stream;
    out.push(() => {
      const image = pdfImage(dict, stream, resolve);
      if (!image) return null;
      const smask = resolve(dict.get('SMask'));
      const maskRef = dict.get('SMask');
      const maskObj = maskRef instanceof PdfRef ? objects.get(maskRef.num) : undefined;
      if (smask instanceof Map && maskObj?.stream) {
        const alpha = pdfImage(smask, maskObj.stream, resolve);
        if (alpha && alpha.width === image.width && alpha.height === image.height) {
          // Composited over white paper: a transparent background is no black one.
          for (let i = 0; i < image.px.length; i++) {
            const a = alpha.px[i]!;
            image.px[i] = (image.px[i]! * a + 255 * (255 - a)) / 255;
          }
        }
      }
      return image;
    });
  }
  return out;
}

function pdfImage(
  dict: PdfDict,
  stream: Buffer,
  resolve: (v: PdfValue | undefined) => PdfValue | undefined,
): Gray | null {
  const width = resolve(dict.get('Width'));
  const height = resolve(dict.get('Height'));
  if (
    typeof width !== 'number' ||
    typeof height !== 'number' ||
    !Number.isInteger(width) ||
    !Number.isInteger(height)
  ) {
    return null;
  }
  checkSize(width, height);
  const rawFilter = resolve(dict.get('Filter'));
  const filters = (
    Array.isArray(rawFilter) ? rawFilter : rawFilter === undefined || rawFilter === null ? [] : [rawFilter]
  )
    .map((f) => resolve(f))
    .map((f) => (f instanceof PdfName ? f.name : ''));
  const rawParms = resolve(dict.get('DecodeParms'));
  const parmsList = Array.isArray(rawParms) ? rawParms.map((p) => resolve(p)) : [rawParms];
  let data: Buffer = stream;
  for (const [i, filter] of filters.entries()) {
    if (filter === 'DCTDecode' || filter === 'DCT') {
      if (i !== filters.length - 1) return null;
      const g = decodeJpeg(data);
      return g;
    }
    if (filter !== 'FlateDecode' && filter !== 'Fl') return null; // JBIG2, CCITT, JPX: not read
    const parms = parmsList[i];
    data = inflateSync(data, { maxOutputLength: width * height * 4 * 2 + height + 1024 });
    if (parms instanceof Map) data = unpredict(data, parms, resolve);
  }
  const imageMask = resolve(dict.get('ImageMask')) === true;
  const bpcValue = resolve(dict.get('BitsPerComponent'));
  const bpc = imageMask ? 1 : typeof bpcValue === 'number' ? bpcValue : 8;
  if (![1, 2, 4, 8, 16].includes(bpc)) return null;
  const space = imageMask ? { components: 1, toGray: null } : colourSpace(resolve(dict.get('ColorSpace')), resolve);
  // A colour space this reader cannot follow: its components from the data's size.
  let components = space?.components;
  if (components === undefined) {
    components = [1, 3, 4].find((n) => data.length === height * Math.ceil((width * n * bpc) / 8)) ?? 0;
    if (components === 0) return null;
  }
  const rowBytes = Math.ceil((width * components * bpc) / 8);
  if (data.length < rowBytes * height) return null;
  const px = new Uint8Array(width * height);
  const max = (1 << Math.min(bpc, 8)) - 1;
  const sample = (row: number, index: number): number => {
    const base = row * rowBytes;
    if (bpc === 8) return data[base + index]!;
    if (bpc === 16) return data[base + index * 2]!;
    const bit = index * bpc;
    const byte = data[base + (bit >> 3)]!;
    return (byte >> (8 - bpc - (bit & 7))) & max;
  };
  let decodeInverted = false;
  const decode = resolve(dict.get('Decode'));
  if (Array.isArray(decode) && decode[0] === 1 && decode[1] === 0) decodeInverted = true;
  const channel = new Array<number>(components);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < components; c++) channel[c] = sample(y, x * components + c);
      let v: number;
      if (space?.toGray) v = space.toGray(channel);
      else if (components === 1) v = bpc === 8 || bpc === 16 ? channel[0]! : Math.round((channel[0]! * 255) / max);
      else if (components === 3) v = (channel[0]! * 77 + channel[1]! * 150 + channel[2]! * 29) >> 8;
      else v = cmykToGray(channel);
      if (decodeInverted) v = 255 - v;
      // An image mask paints where the sample is 0 (black), leaving 1 as paper.
      px[y * width + x] = v;
    }
  }
  return { width, height, px };
}

function cmykToGray(ch: number[]): number {
  const [c = 0, m = 0, y = 0, k = 0] = ch;
  return Math.max(0, 255 - Math.min(255, (c * 77 + m * 150 + y * 29) / 256 + k));
}

function colourSpace(
  cs: PdfValue | undefined,
  resolve: (v: PdfValue | undefined) => PdfValue | undefined,
): { components: number; toGray: ((ch: number[]) => number) | null } | null {
  const name = cs instanceof PdfName ? cs.name : Array.isArray(cs) && cs[0] instanceof PdfName ? cs[0].name : null;
  if (name === 'DeviceGray' || name === 'CalGray' || name === 'G') return { components: 1, toGray: null };
  if (name === 'DeviceRGB' || name === 'CalRGB' || name === 'RGB') return { components: 3, toGray: null };
  if (name === 'DeviceCMYK' || name === 'CMYK') return { components: 4, toGray: null };
  if (name === 'ICCBased' && Array.isArray(cs)) {
    const profile = resolve(cs[1]);
    const n = profile instanceof Map ? resolve(profile.get('N')) : undefined;
    return typeof n === 'number' && [1, 3, 4].includes(n) ? { components: n, toGray: null } : null;
  }
  if ((name === 'Indexed' || name === 'I') && Array.isArray(cs)) {
    const base = colourSpace(resolve(cs[1]), resolve);
    const lookup = resolve(cs[3]);
    if (!base || typeof lookup !== 'string') return null; // a lookup held in a stream: not followed
    const table = Buffer.from(lookup, 'latin1');
    const n = base.components;
    return {
      components: 1,
      toGray: ([i = 0]) => {
        const entry = Array.from(table.subarray(i * n, i * n + n));
        if (entry.length < n) return 255;
        if (n === 1) return entry[0]!;
        if (n === 3) return (entry[0]! * 77 + entry[1]! * 150 + entry[2]! * 29) >> 8;
        return cmykToGray(entry);
      },
    };
  }
  return null;
}

/** Undoes a PNG predictor (Predictor ≥ 10) of FlateDecode; TIFF's predictor 2 is undone for 8-bit samples. */
function unpredict(data: Buffer, parms: PdfDict, resolve: (v: PdfValue | undefined) => PdfValue | undefined): Buffer {
  const num = (key: string, fallback: number) => {
    const v = resolve(parms.get(key));
    return typeof v === 'number' ? v : fallback;
  };
  const predictor = num('Predictor', 1);
  if (predictor < 2) return data;
  const colors = num('Colors', 1);
  const bpc = num('BitsPerComponent', 8);
  const columns = num('Columns', 1);
  const bpp = Math.max(1, Math.ceil((colors * bpc) / 8));
  const rowBytes = Math.ceil((colors * bpc * columns) / 8);
  if (predictor === 2) {
    if (bpc !== 8) return data;
    const out = Buffer.from(data);
    for (let r = 0; r + rowBytes <= out.length; r += rowBytes) {
      for (let i = bpp; i < rowBytes; i++) out[r + i] = (out[r + i]! + out[r + i - bpp]!) & 0xff;
    }
    return out;
  }
  const rows = Math.floor(data.length / (rowBytes + 1));
  const out = Buffer.alloc(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (rowBytes + 1)]!;
    const src = r * (rowBytes + 1) + 1;
    const dst = r * rowBytes;
    const prev = dst - rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      const raw = data[src + i]!;
      const left = i >= bpp ? out[dst + i - bpp]! : 0;
      const up = r > 0 ? out[prev + i]! : 0;
      const upLeft = r > 0 && i >= bpp ? out[prev + i - bpp]! : 0;
      let v: number;
      if (type === 0) v = raw;
      else if (type === 1) v = raw + left;
      else if (type === 2) v = raw + up;
      else if (type === 3) v = raw + ((left + up) >> 1);
      else {
        const p = left + up - upLeft;
        const pa = Math.abs(p - left);
        const pb = Math.abs(p - up);
        const pc = Math.abs(p - upLeft);
        v = raw + (pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft);
      }
      out[dst + i] = v & 0xff;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Vector codes: a PDF printed from HTML with SVG codes draws each code as paths (filled rectangles, stroked
// lines), not as an image. The pages are drawn here, paths only (no text, no images), in black and white enough
// for the decoder.

/** Dots per inch of a drawn page: a code's module of a third of a millimetre gets four pixels. */
const RENDER_DPI = 300;
const RENDER_LIMITS = { pages: 20, contentBytes: 32 * 1024 * 1024, operators: 2_000_000, paintedPixels: 200_000_000 };

type Matrix = [number, number, number, number, number, number];
const mul = (m: Matrix, n: Matrix): Matrix => [
  m[0] * n[0] + m[1] * n[2],
  m[0] * n[1] + m[1] * n[3],
  m[2] * n[0] + m[3] * n[2],
  m[2] * n[1] + m[3] * n[3],
  m[4] * n[0] + m[5] * n[2] + n[4],
  m[4] * n[1] + m[5] * n[3] + n[5],
];

function numbers(v: PdfValue | undefined, count: number): number[] | null {
  return Array.isArray(v) && v.length === count && v.every((x) => typeof x === 'number') ? (v as number[]) : null;
}

/** The pages of a PDF, each a function that draws it. */
export function pdfPages(buf: Buffer): (() => Gray | null)[] {
  let objects: Map<number, PdfObject>;
  try {
    objects = pdfObjects(buf);
  } catch {
    return [];
  }
  const resolve = (v: PdfValue | undefined, depth = 0): PdfValue | undefined =>
    v instanceof PdfRef && depth < 8 ? resolve(objects.get(v.num)?.value, depth + 1) : v;
  const inherited = (page: PdfDict, key: string): PdfValue | undefined => {
    let node: PdfValue | undefined = page;
    for (let i = 0; i < 16 && node instanceof Map; i++) {
      if (node.has(key)) return resolve(node.get(key));
      node = resolve(node.get('Parent'));
    }
    return undefined;
  };
  const streamOf = (ref: PdfValue | undefined): Buffer | null => {
    if (!(ref instanceof PdfRef)) return null;
    const obj = objects.get(ref.num);
    if (!obj?.stream || !(obj.value instanceof Map)) return null;
    const filter = resolve(obj.value.get('Filter'));
    const names = (Array.isArray(filter) ? filter : filter ? [filter] : []).map((f) =>
      f instanceof PdfName ? f.name : '',
    );
    if (names.length === 0) return obj.stream;
    if (names.length === 1 && (names[0] === 'FlateDecode' || names[0] === 'Fl')) {
      return inflateSync(obj.stream, { maxOutputLength: RENDER_LIMITS.contentBytes });
    }
    return null;
  };
  const pages: (() => Gray | null)[] = [];
  for (const obj of objects.values()) {
    const page = obj.value;
    if (!(page instanceof Map) || !isName(page.get('Type'), 'Page')) continue;
    if (pages.length >= RENDER_LIMITS.pages) break;
    pages.push(() => {
      const box = numbers(inherited(page, 'MediaBox'), 4) ?? [0, 0, 595, 842];
      const [x0, y0, x1, y1] = box as [number, number, number, number];
      let scale = RENDER_DPI / 72;
      const area = Math.abs((x1 - x0) * (y1 - y0)) * scale * scale;
      if (!(area > 0)) return null;
      if (area > SCAN_LIMITS.imagePixels) scale *= Math.sqrt(SCAN_LIMITS.imagePixels / area);
      const width = Math.ceil(Math.abs(x1 - x0) * scale);
      const height = Math.ceil(Math.abs(y1 - y0) * scale);
      const canvas = new Canvas(width, height);
      const contents = resolve(page.get('Contents'));
      const parts = Array.isArray(contents) ? contents : [page.get('Contents')];
      const chunks = parts.map((p) => streamOf(p)).filter((b): b is Buffer => b !== null);
      const device: Matrix = [scale, 0, 0, -scale, -x0 * scale, y1 * scale];
      const resources = inherited(page, 'Resources');
      const draw = (content: Buffer, ctm: Matrix, res: PdfValue | undefined, depth: number) => {
        const forms = (name: string): { content: Buffer; matrix: Matrix; resources: PdfValue | undefined } | null => {
          const xobjects = res instanceof Map ? resolve(res.get('XObject')) : undefined;
          const ref = xobjects instanceof Map ? xobjects.get(name) : undefined;
          const form = resolve(ref);
          if (!(form instanceof Map) || !isName(form.get('Subtype'), 'Form')) return null;
          const content = streamOf(ref);
          if (!content) return null;
          const matrix = (numbers(resolve(form.get('Matrix')), 6) ?? [1, 0, 0, 1, 0, 0]) as Matrix;
          return { content, matrix, resources: resolve(form.get('Resources')) ?? res };
        };
        canvas.run(content, ctm, (name, at) => {
          if (depth >= 4) return;
          const f = forms(name);
          if (f) draw(f.content, mul(f.matrix, at), f.resources, depth + 1);
        });
      };
      draw(Buffer.concat(chunks), device, resources, 0);
      return canvas.painted ? { width, height, px: canvas.px } : null;
    });
  }
  return pages;
}

interface Point2 {
  x: number;
  y: number;
}

/** Draws a content stream's paths: fills and strokes in their gray, clipping and text ignored. */
class Canvas {
  readonly px: Uint8Array;
  painted = false;
  private budget = RENDER_LIMITS.paintedPixels;
  private operators = RENDER_LIMITS.operators;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.px = new Uint8Array(width * height).fill(255);
  }

  run(content: Buffer, start: Matrix, form: (name: string, ctm: Matrix) => void): void {
    type State = { ctm: Matrix; lineWidth: number; fill: number; stroke: number };
    let state: State = { ctm: start, lineWidth: 1, fill: 0, stroke: 0 };
    const stack: State[] = [];
    let path: Point2[][] = [];
    let current: Point2[] | null = null;
    const operands: PdfValue[] = [];
    const lexer = new Lexer(content, 0);
    const at = (x: number, y: number): Point2 => {
      const m = state.ctm;
      return { x: m[0] * x + m[2] * y + m[4], y: m[1] * x + m[3] * y + m[5] };
    };
    const num = (i: number) => {
      const v = operands[operands.length - i];
      return typeof v === 'number' ? v : 0;
    };
    const gray = (values: number[]) =>
      values.length === 1
        ? values[0]! * 255
        : values.length === 3
          ? ((values[0]! * 77 + values[1]! * 150 + values[2]! * 29) / 256) * 255
          : values.length === 4
            ? cmykToGray(values.map((v) => v * 255))
            : 0;
    const numericOperands = () => operands.filter((v): v is number => typeof v === 'number');
    while (this.operators-- > 0) {
      const token = lexer.token();
      if (token === undefined) break;
      if (!(token instanceof Operator)) {
        operands.push(token);
        if (operands.length > 64) operands.shift();
        continue;
      }
      const op = token.name;
      switch (op) {
        case 'q':
          if (stack.length < 64) stack.push({ ...state });
          break;
        case 'Q':
          state = stack.pop() ?? state;
          break;
        case 'cm':
          state.ctm = mul([num(6), num(5), num(4), num(3), num(2), num(1)], state.ctm);
          break;
        case 'w':
          state.lineWidth = num(1);
          break;
        case 'g':
        case 'rg':
        case 'k':
        case 'sc':
        case 'scn':
          state.fill = gray(numericOperands());
          break;
        case 'G':
        case 'RG':
        case 'K':
        case 'SC':
        case 'SCN':
          state.stroke = gray(numericOperands());
          break;
        case 'm':
          current = [at(num(2), num(1))];
          path.push(current);
          break;
        case 'l':
        case 'c':
        case 'v':
        case 'y':
          // Curves as straight lines to their end: codes have none.
          current?.push(at(num(2), num(1)));
          break;
        case 'h':
          if (current && current.length > 1) current.push(current[0]!);
          break;
        case 're': {
          const [x, y, w, h] = [num(4), num(3), num(2), num(1)];
          current = [at(x, y), at(x + w, y), at(x + w, y + h), at(x, y + h), at(x, y)];
          path.push(current);
          break;
        }
        case 'f':
        case 'F':
        case 'f*':
        case 'B':
        case 'B*':
        case 'b':
        case 'b*':
        case 'S':
        case 's':
        case 'n': {
          if (op !== 'S' && op !== 's' && op !== 'n') this.fill(path, state.fill, op.endsWith('*'));
          if (op === 'S' || op === 's' || op.startsWith('B') || op.startsWith('b')) {
            const m = state.ctm;
            const width = Math.max(1, state.lineWidth * Math.sqrt(Math.abs(m[0] * m[3] - m[1] * m[2])));
            for (const sub of path) {
              for (let i = 1; i < sub.length; i++) this.segment(sub[i - 1]!, sub[i]!, width, state.stroke);
            }
          }
          path = [];
          current = null;
          break;
        }
        case 'Do': {
          const name = operands[operands.length - 1];
          if (name instanceof PdfName) form(name.name, state.ctm);
          break;
        }
        case 'BI':
          lexer.skipInlineImage();
          break;
        default:
          break;
      }
      operands.length = 0;
    }
  }

  private segment(a: Point2, b: Point2, width: number, value: number): void {
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const length = Math.hypot(dx, dy);
    if (length === 0) return;
    const nx = (-dy / length) * (width / 2);
    const ny = (dx / length) * (width / 2);
    this.fill(
      [
        [
          { x: a.x + nx, y: a.y + ny },
          { x: b.x + nx, y: b.y + ny },
          { x: b.x - nx, y: b.y - ny },
          { x: a.x - nx, y: a.y - ny },
          { x: a.x + nx, y: a.y + ny },
        ],
      ],
      value,
      false,
    );
  }

  /** Scanline fill at pixel centres, nonzero winding or even-odd. */
  private fill(path: Point2[][], value: number, evenOdd: boolean): void {
    const edges: [Point2, Point2][] = [];
    let minY = Infinity;
    let maxY = -Infinity;
    for (const sub of path) {
      for (let i = 0; i < sub.length; i++) {
        const a = sub[i]!;
        const b = sub[(i + 1) % sub.length]!;
        if (a.y === b.y) continue;
        edges.push([a, b]);
        minY = Math.min(minY, a.y, b.y);
        maxY = Math.max(maxY, a.y, b.y);
      }
    }
    if (edges.length === 0) return;
    const v = Math.max(0, Math.min(255, Math.round(value)));
    const y0 = Math.max(0, Math.ceil(minY - 0.5));
    const y1 = Math.min(this.height - 1, Math.floor(maxY - 0.5));
    const hits: { x: number; dir: number }[] = [];
    for (let y = y0; y <= y1 && this.budget > 0; y++) {
      const yc = y + 0.5;
      hits.length = 0;
      for (const [a, b] of edges) {
        if ((a.y <= yc && b.y > yc) || (b.y <= yc && a.y > yc)) {
          hits.push({ x: a.x + ((yc - a.y) * (b.x - a.x)) / (b.y - a.y), dir: b.y > a.y ? 1 : -1 });
        }
      }
      hits.sort((p, q) => p.x - q.x);
      let winding = 0;
      for (let i = 0; i + 1 < hits.length; i++) {
        winding += evenOdd ? 1 : hits[i]!.dir;
        const inside = evenOdd ? winding % 2 === 1 : winding !== 0;
        if (!inside) continue;
        const xa = Math.max(0, Math.ceil(hits[i]!.x - 0.5));
        const xb = Math.min(this.width - 1, Math.floor(hits[i + 1]!.x - 0.5));
        if (xb < xa) continue;
        this.px.fill(v, y * this.width + xa, y * this.width + xb + 1);
        this.budget -= xb - xa + 1;
        if (v < 128) this.painted = true;
      }
    }
  }
}
