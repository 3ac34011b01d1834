/**
 * Output documents: merged into the contract in preload/api.ts.
 * `documents.pdf` answers the application's output document (its decision's
 * template, with the QR codes of the signed XML once signed) as a PDF, for
 * the card's "Save as PDF". Anyone who may read the application may have it.
 */
import { z } from 'zod';
import type { CallSpec } from './call.js';

export const documentPdf = z.strictObject({
  /** A file name made of the document's number. */
  fileName: z.string().max(200),
  /** The PDF's bytes, base64 (a result document is some tens of kilobytes). */
  pdf: z.base64().max(20_000_000),
});
export type DocumentPdf = z.infer<typeof documentPdf>;

export const documentsContract = {
  'documents.pdf': { kind: 'read', input: z.strictObject({ id: z.string().min(1).max(100) }), output: documentPdf },
} as const satisfies Record<string, CallSpec>;
