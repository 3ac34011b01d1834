/**
 * The shape of an application's output document: Kazakh and Russian side by
 * side, for the renderer to lay out and print. core/workflow/document.ts
 * builds it; the contract answers it (`application.preview`).
 */
import { z } from 'zod';
import { DECISIONS, STATUSES } from '../vocabulary.js';

const documentLine = z.strictObject({ label: z.string(), value: z.string() });
const documentSide = z.strictObject({
  language: z.enum(['kk', 'ru']),
  provider: z.string(),
  title: z.string(),
  serviceName: z.string(),
  lines: z.array(documentLine),
  decisionText: z.string().nullable(),
  decisionLines: z.array(documentLine),
  signature: z.string().nullable(),
  legalNote: z.string(),
});

/** The output document, Kazakh and Russian side by side. */
export const outputDocument = z.strictObject({
  applicationId: z.string(),
  number: z.string(),
  status: z.enum(STATUSES),
  decision: z.enum(DECISIONS),
  /** Not signed yet: the renderer marks it as a draft. */
  draft: z.boolean(),
  resultCode: z.string().nullable(),
  kk: documentSide,
  ru: documentSide,
});
export type OutputDocument = z.infer<typeof outputDocument>;
