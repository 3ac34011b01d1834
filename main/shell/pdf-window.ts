/**
 * The app's PdfPrinter (main/documents/pdf.ts): Electron's printToPDF over a
 * hidden window of its own in-memory session, JavaScript off, no network
 * (the page is self-contained: fonts and codes are inline). The HTML goes
 * through a temporary file, as a data: URL of that size is refused.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BrowserWindow, session } from 'electron';
import type { PdfPrinter } from '../documents/pdf.js';

export function electronPrinter(): PdfPrinter {
  return {
    async print(html) {
      const dir = await mkdtemp(join(tmpdir(), 'qyzmet-print-'));
      const file = join(dir, 'document.html');
      const printSession = session.fromPartition('qyzmet-print');
      const page = pathToFileURL(file).href;
      // Only the page itself loads: nothing is fetched from anywhere else.
      printSession.webRequest.onBeforeRequest((details, callback) => callback({ cancel: details.url !== page }));
      const win = new BrowserWindow({
        show: false,
        webPreferences: { session: printSession, javascript: false, sandbox: true, contextIsolation: true },
      });
      try {
        await writeFile(file, html, 'utf8');
        await win.loadURL(page);
        const pdf = await win.webContents.printToPDF({
          pageSize: 'A4',
          printBackground: true,
          preferCSSPageSize: true,
        });
        return new Uint8Array(pdf);
      } finally {
        win.destroy();
        await rm(dir, { recursive: true, force: true });
      }
    },
    close: () => Promise.resolve(),
  };
}
