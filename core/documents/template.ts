/**
 * Output document templates as data (resources/documents/*.json): one per
 * service and result, bilingual kk + ru. A template is a list of blocks; texts
 * may hold placeholders `{{name}}` filled from the application (see
 * render.ts for the names). What a template cannot do is drop the note that an
 * electronic document signed with EDS equals a paper one: render.ts adds it to
 * every document.
 */
import { z } from 'zod';

export const DOCUMENT_KINDS = [
  /** The positive result (a certificate, a notice, an extract). */
  'result',
  /** The reasoned refusal letter. */
  'refusal',
  /** The request as registered (seed 003 annex 4). */
  'request',
  /** The centre's receipt of the documents taken in. */
  'receipt',
  /** The centre's receipt refusing to take the documents in. */
  'refusalReceipt',
] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

const text = z.string().min(1).max(4000);
/** A text in both languages the documents are printed in. */
const bilingual = z.strictObject({ kk: text, ru: text });

const line = z.strictObject({
  label: bilingual,
  /** A placeholder text, the same in both languages (values are printed per language). */
  value: z.string().max(1000),
  /** Left out when its value comes out empty. */
  optional: z.boolean().optional(),
});

export const templateBlock = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('heading'), text: bilingual }),
  z.strictObject({ type: z.literal('paragraph'), text: bilingual }),
  z.strictObject({ type: z.literal('lines'), lines: z.array(line).min(1).max(100) }),
  /** The filled fields of the service's sections of one stage (files left out). */
  z.strictObject({ type: z.literal('fields'), stage: z.enum(['intake', 'processing', 'result']) }),
  /**
   * Signature lines. `head`: the signer's name once signed; `specialist`: the
   * responsible executor; `applicant`: the applicant; `blank`: a line to sign by hand.
   */
  z.strictObject({
    type: z.literal('signatures'),
    lines: z
      .array(z.strictObject({ label: bilingual, who: z.enum(['head', 'specialist', 'applicant', 'blank']) }))
      .min(1)
      .max(10),
  }),
]);
export type TemplateBlock = z.infer<typeof templateBlock>;

export const documentTemplate = z.strictObject({
  /** Unique, e.g. `unemployed-certificate.result`. */
  code: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[a-z0-9][a-z0-9.-]*$/),
  kind: z.enum(DOCUMENT_KINDS),
  /** Service codes it is for; `*` for any service that has no template of its own. */
  services: z.array(z.string().min(1).max(64)).min(1),
  title: bilingual,
  blocks: z.array(templateBlock).min(1).max(200),
});
export type DocumentTemplate = z.infer<typeof documentTemplate>;

/** The template for a service and kind: the service's own, else the generic one (`*`); null when neither exists. */
export function pickTemplate(
  templates: readonly DocumentTemplate[],
  serviceCode: string,
  kind: DocumentKind,
): DocumentTemplate | null {
  const ofKind = templates.filter((t) => t.kind === kind);
  return ofKind.find((t) => t.services.includes(serviceCode)) ?? ofKind.find((t) => t.services.includes('*')) ?? null;
}

/** The kind of output document an application's decision calls for. */
export function kindForDecision(decision: string): DocumentKind {
  return decision === 'negative' ? 'refusal' : decision === 'positive' ? 'result' : 'request';
}
