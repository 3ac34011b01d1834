/**
 * Checking a paper: merged into the contract in preload/api.ts. `documents.check` takes the bytes of a PDF or a
 * picture of a printed document and answers what its codes hold and whether the signature and the signer stand
 * (main/documents/check.ts). Any logged-in user may check a paper.
 */
import { z } from 'zod';
import type { CallSpec } from './call.js';

// Checking a paper (main/documents/check.ts): what the codes of a PDF or picture hold, and whether its
// signature and signer stand. `problem` and `warnings` are codes worded by `paperCheck.*` in the catalogues.
export const paperCheck = z.strictObject({
  ok: z.boolean(),
  problem: z
    .enum([
      'unreadableFile',
      'noCode',
      'partial',
      'mixed',
      'damaged',
      'signatureInvalid',
      'signerUntrusted',
      'signerExpired',
      'signerRevoked',
      'revocationUnknown',
      'signerNotAllowed',
    ])
    .optional(),
  codes: z.strictObject({ read: z.int().min(0), count: z.int().min(1).nullable() }),
  data: z
    .strictObject({
      type: z.string(),
      namespace: z.string().nullable(),
      number: z.string().nullable(),
      fields: z.array(z.strictObject({ name: z.string(), value: z.string() })),
    })
    .nullable(),
  signer: z
    .strictObject({
      commonName: z.string(),
      iin: z.string().nullable(),
      bin: z.string().nullable(),
      organisation: z.string().nullable(),
      roles: z.array(z.string()),
      notBefore: z.string(),
      notAfter: z.string(),
      issuerCommonName: z.string(),
      serialNumber: z.string(),
    })
    .nullable(),
  signedAt: z.string().nullable(),
  warnings: z.array(z.string()),
});
export type PaperCheckDto = z.infer<typeof paperCheck>;

export const paperCheckContract = {
  /** Checks a paper from the bytes of its PDF or picture (base64: at most 48 MB of file). */
  'documents.check': {
    kind: 'read',
    input: z.strictObject({ file: z.base64().max(64_000_000) }),
    output: paperCheck,
  },
} as const satisfies Record<string, CallSpec>;
