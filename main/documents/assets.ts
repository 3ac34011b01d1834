/**
 * What the pure renderer is handed from disk: the templates and DejaVu Sans
 * (every Kazakh letter) as data: URLs, so the HTML is self-contained and the
 * PDF embeds the font whatever prints it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import QRCode from 'qrcode';
import { encodeDocumentCode } from '#core/documents/code.js';
import { loadDocumentTemplates, type LoadedTemplates } from '#core/node/document-loader.js';

export interface DocumentAssets {
  templates: LoadedTemplates;
  fonts: { regular: string; bold: string };
}

function fontUrl(path: string): string {
  return `data:font/ttf;base64,${readFileSync(path).toString('base64')}`;
}

/** Reads resources/documents and resources/fonts. */
export function loadDocumentAssets(resourcesDir: string): DocumentAssets {
  return {
    templates: loadDocumentTemplates(join(resourcesDir, 'documents')),
    fonts: {
      regular: fontUrl(join(resourcesDir, 'fonts', 'DejaVuSans.ttf')),
      bold: fontUrl(join(resourcesDir, 'fonts', 'DejaVuSans-Bold.ttf')),
    },
  };
}

/** The QR codes (SVG, error correction M, byte mode) that carry a signed XML document. */
export async function documentCodes(signedXml: string): Promise<string[]> {
  return Promise.all(
    encodeDocumentCode(signedXml).map((part) =>
      QRCode.toString([{ data: Buffer.from(part, 'latin1'), mode: 'byte' }], {
        type: 'svg',
        errorCorrectionLevel: 'M',
        margin: 4,
      }),
    ),
  );
}
