/**
 * HTML → PDF. Main takes a `PdfPrinter`: in the app it is Electron's
 * webContents.printToPDF (main/shell/pdf-window.ts); in the harness, the
 * bench and the tests it is Debian's Chromium driven by playwright-core, the
 * browser e2e uses. Both print the same HTML with its CSS page size (A4) and
 * page-number margin boxes.
 */
import { createRequire } from 'node:module';
import type { Browser, BrowserType } from 'playwright-core';

export interface PdfPrinter {
  /** The PDF of a complete HTML page (fonts embedded as data: URLs, no network). */
  print(html: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Debian's Chromium unless QYZMET_CHROMIUM names another; flags for a closed network, as e2e uses. */
export const CHROMIUM_PATH = process.env.QYZMET_CHROMIUM ?? '/usr/bin/chromium';
const PLAYWRIGHT = 'playwright-core';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** A printer over one headless Chromium, started on first use and kept for the next documents. */
export function chromiumPrinter(executablePath = CHROMIUM_PATH): PdfPrinter {
  let browser: Promise<Browser> | null = null;
  const open = (): Promise<Browser> => {
    // Required at run time by a computed name: the app's bundle must not pull in playwright-core (the app prints
    // with Electron), and a dynamic import() has no loader inside that CommonJS bundle (the harness runs it).
    const load = createRequire(import.meta.url);
    browser ??= Promise.resolve()
      .then(() => (load(PLAYWRIGHT) as { chromium: BrowserType }).chromium)
      .then((chromium) => chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true }));
    return browser;
  };
  return {
    async print(html) {
      const context = await (await open()).newContext({ javaScriptEnabled: false, offline: true });
      try {
        const page = await context.newPage();
        await page.setContent(html, { waitUntil: 'load' });
        // The fonts are data: URLs; wait until they are laid out (a string: this file is not compiled for the DOM).
        await page.evaluate('document.fonts.ready.then(() => true)');
        const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true, format: 'A4' });
        return new Uint8Array(pdf);
      } finally {
        await context.close();
      }
    },
    async close() {
      if (browser) await (await browser).close();
      browser = null;
    },
  };
}
