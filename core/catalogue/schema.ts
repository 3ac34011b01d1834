/**
 * The service catalogue: what one service definition in
 * `resources/services/*.json` must look like (docs/domain.md#service-catalogue).
 *
 * A definition carries the service's names, provider, channels, the form the
 * application is filled in (collapsible sections of fields, docs/domain.md#application-card), the
 * required documents, the ordered steps with their time limits (minutes or
 * working days, docs/domain.md#deadlines), the possible results, the refusal reasons and
 * the source document it was taken from.
 *
 * Objects are strict: an unknown key is an error, so a typo in a JSON file is
 * reported instead of silently ignored. Checks that span several fields
 * (unique codes, at least one positive and one negative result, references
 * between fields and documents, step channels) run in `superRefine`, and each
 * issue carries the path of the offending field.
 */
import { z } from 'zod';
import { CHANNELS, STEP_ROLES } from '../vocabulary.js';

/** Text in the three interface languages; none may be empty. */
export const localizedText = z.strictObject({
  kk: z.string().trim().min(1),
  ru: z.string().trim().min(1),
  en: z.string().trim().min(1),
});
export type LocalizedText = z.infer<typeof localizedText>;

/** Codes are stable identifiers other code depends on: lower-case, digits, '-' or '_' between parts. */
const CODE_PATTERN = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/;
/** Field codes are keys of the application's form data: camelCase. */
const FIELD_CODE_PATTERN = /^[a-z][a-zA-Z0-9]*$/;

const code = z
  .string()
  .max(64)
  .regex(CODE_PATTERN, 'Expected a code of lower-case letters and digits, parts joined by "-" or "_"');
const fieldCode = z
  .string()
  .max(64)
  .regex(FIELD_CODE_PATTERN, 'Expected a camelCase field code (letters and digits, starting lower-case)');

export const FIELD_TYPES = [
  'text',
  'textarea',
  'number',
  'date',
  'iin',
  'bin',
  'phone',
  'email',
  'select',
  'checkbox',
  'file',
] as const;
export const LIMIT_UNITS = ['minutes', 'working_days'] as const;
export const SECTION_STAGES = ['intake', 'processing', 'result'] as const;
export const DOCUMENT_FORMS = ['original', 'copy', 'original_and_copy', 'electronic'] as const;
export const RESULT_KINDS = ['positive', 'negative'] as const;

/** Field types that take free text, for which `maxLength` makes sense. */
const TEXT_TYPES: ReadonlySet<string> = new Set(['text', 'textarea', 'phone', 'email']);

export const selectOption = z.strictObject({
  value: code,
  label: localizedText,
  /**
   * What choosing it finds for the application's result: `negative` (the documents do not match, the
   * commission refused, the council found financing impossible) rules out a positive decision; `positive`
   * (the collegial body approved) rules out a negative one unless a negative finding is recorded too.
   */
  outcome: z.enum(RESULT_KINDS).optional(),
});

export const formField = z.strictObject({
  code: fieldCode,
  label: localizedText,
  type: z.enum(FIELD_TYPES),
  required: z.boolean(),
  /** Choices of a `select` field (and only of one). */
  options: z.array(selectOption).min(1).optional(),
  /** Maximum length of a text-like field. */
  maxLength: z.int().positive().max(100_000).optional(),
  /** For a `file` field: the code of the entry in `documents` the file attaches. */
  documentCode: code.optional(),
  /** A short explanation shown under the field. */
  hint: localizedText.optional(),
});
export type FormField = z.infer<typeof formField>;

export const formSection = z.strictObject({
  code,
  title: localizedText,
  /**
   * Who fills the section: `intake` when the application is taken (operator,
   * clerk or the applicant on the portal), `processing` by the executor while
   * deciding, `result` the data of the output document.
   */
  stage: z.enum(SECTION_STAGES),
  /** Collapsed when the application card opens. */
  collapsed: z.boolean().optional(),
  fields: z.array(formField).min(1),
});
export type FormSection = z.infer<typeof formSection>;

export const requiredDocument = z.strictObject({
  code,
  name: localizedText,
  required: z.boolean(),
  /** How it is presented: the original, a copy, the original with a copy, or an electronic document (portal). */
  form: z.enum(DOCUMENT_FORMS),
  /** When the document is needed, if not always (e.g. "when a representative applies"). */
  condition: localizedText.optional(),
  /** Where the provider can get it from a state information system instead of the applicant. */
  obtainedFrom: localizedText.optional(),
});
export type RequiredDocument = z.infer<typeof requiredDocument>;

export const stepLimit = z.strictObject({
  unit: z.enum(LIMIT_UNITS),
  value: z.int().positive(),
});
export type StepLimit = z.infer<typeof stepLimit>;

export const stepProtocol = z.strictObject({
  /** What the protocol is called (e.g. the minutes of the competition commission). */
  name: localizedText,
  fields: z.array(formField).min(1),
});

export const serviceStep = z.strictObject({
  code,
  role: z.enum(STEP_ROLES),
  name: localizedText,
  limit: stepLimit,
  /** The step happens only for applications that came by these channels; all channels when absent. */
  channels: z.array(z.enum(CHANNELS)).min(1).optional(),
  /** A collegial decision (commission, council) recorded in a protocol. */
  collegial: z.literal(true).optional(),
  protocol: stepProtocol.optional(),
});
export type ServiceStep = z.infer<typeof serviceStep>;

export const serviceResult = z.strictObject({
  code,
  kind: z.enum(RESULT_KINDS),
  name: localizedText,
  /** Whether the output document is printed in Kazakh and Russian side by side. */
  bilingual: z.boolean().optional(),
});
export type ServiceResult = z.infer<typeof serviceResult>;

export const refusalReason = z.strictObject({
  code,
  text: localizedText,
});
export type RefusalReason = z.infer<typeof refusalReason>;

export const sourceDocument = z.strictObject({
  /** The seed number, e.g. "001". */
  seed: z.string().regex(/^\d{3}$/, 'Expected a three-digit seed number such as "001"'),
  /** File name of the source document (the seed). */
  file: z.string().min(1),
  /** Title of the act or guide, in its original language. */
  title: z.string().trim().min(1),
  /** Which parts of it the definition follows (items, annexes, figures). */
  parts: z.string().trim().min(1),
});

export const serviceSource = z.strictObject({
  documents: z.array(sourceDocument).min(1),
  /** What the definition takes from elsewhere than the seeds, or interprets; English. */
  notes: z.array(z.string().trim().min(1)).optional(),
});

const providerKind = z.strictObject({
  code,
  name: localizedText,
});

const serviceDefinitionShape = z.strictObject({
  code,
  version: z.int().positive(),
  name: localizedText,
  /** Short name for narrow columns (journal "Type" column). */
  shortName: localizedText.optional(),
  providerKind,
  channels: z.array(z.enum(CHANNELS)).min(1),
  sections: z.array(formSection).min(1),
  documents: z.array(requiredDocument).min(1),
  steps: z.array(serviceStep).min(1),
  results: z.array(serviceResult).min(2),
  refusalReasons: z.array(refusalReason).min(1),
  source: serviceSource,
});

type Shape = z.infer<typeof serviceDefinitionShape>;
type Ctx = z.RefinementCtx<Shape>;

/** Reports the second and later occurrences of each key, pointing at the repeated field. */
function checkUnique(
  ctx: Ctx,
  entries: ReadonlyArray<{ value: string; path: (string | number)[] }>,
  what: string,
): void {
  const first = new Map<string, (string | number)[]>();
  for (const entry of entries) {
    const seen = first.get(entry.value);
    if (seen) {
      ctx.addIssue({
        code: 'custom',
        path: entry.path,
        message: `Duplicate ${what} "${entry.value}" (first used at ${seen.join('.')})`,
      });
    } else {
      first.set(entry.value, entry.path);
    }
  }
}

function checkField(ctx: Ctx, field: FormField, path: (string | number)[], documentCodes: Set<string>): void {
  if (field.type === 'select' && !field.options) {
    ctx.addIssue({ code: 'custom', path: [...path, 'options'], message: 'A select field needs options' });
  }
  if (field.type !== 'select' && field.options) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'options'],
      message: `Options are only allowed on a select field, not on "${field.type}"`,
    });
  }
  if (field.options) {
    checkUnique(
      ctx,
      field.options.map((o, i) => ({ value: o.value, path: [...path, 'options', i, 'value'] })),
      'option value',
    );
  }
  if (field.maxLength !== undefined && !TEXT_TYPES.has(field.type)) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'maxLength'],
      message: `maxLength is only allowed on text, textarea, phone and email fields, not on "${field.type}"`,
    });
  }
  if (field.documentCode !== undefined) {
    if (field.type !== 'file') {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'documentCode'],
        message: 'documentCode is only allowed on a file field',
      });
    } else if (!documentCodes.has(field.documentCode)) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'documentCode'],
        message: `Unknown document code "${field.documentCode}"`,
      });
    }
  }
}

/** A service definition with all its cross-field rules. */
export const serviceDefinition = serviceDefinitionShape.superRefine((def, ctx) => {
  const documentCodes = new Set(def.documents.map((d) => d.code));

  checkUnique(
    ctx,
    def.channels.map((c, i) => ({ value: c, path: ['channels', i] })),
    'channel',
  );
  checkUnique(
    ctx,
    def.sections.map((s, i) => ({ value: s.code, path: ['sections', i, 'code'] })),
    'section code',
  );
  checkUnique(
    ctx,
    def.documents.map((d, i) => ({ value: d.code, path: ['documents', i, 'code'] })),
    'document code',
  );
  checkUnique(
    ctx,
    def.steps.map((s, i) => ({ value: s.code, path: ['steps', i, 'code'] })),
    'step code',
  );
  checkUnique(
    ctx,
    def.results.map((r, i) => ({ value: r.code, path: ['results', i, 'code'] })),
    'result code',
  );
  checkUnique(
    ctx,
    def.refusalReasons.map((r, i) => ({ value: r.code, path: ['refusalReasons', i, 'code'] })),
    'refusal reason code',
  );

  // Field codes are keys of one flat form-data record, so they are unique
  // across all sections and the protocols of collegial steps.
  const fieldEntries: { value: string; path: (string | number)[] }[] = [];
  def.sections.forEach((section, si) => {
    section.fields.forEach((field, fi) => {
      const path = ['sections', si, 'fields', fi];
      fieldEntries.push({ value: field.code, path: [...path, 'code'] });
      checkField(ctx, field, path, documentCodes);
    });
  });

  const channels = new Set<string>(def.channels);
  def.steps.forEach((step, si) => {
    if (step.collegial && !step.protocol) {
      ctx.addIssue({
        code: 'custom',
        path: ['steps', si, 'protocol'],
        message: 'A collegial step needs a protocol',
      });
    }
    if (step.protocol && !step.collegial) {
      ctx.addIssue({
        code: 'custom',
        path: ['steps', si, 'collegial'],
        message: 'A step with a protocol must be marked collegial',
      });
    }
    if (step.collegial && step.role !== 'commission') {
      ctx.addIssue({
        code: 'custom',
        path: ['steps', si, 'role'],
        message: 'A collegial step is taken by the commission',
      });
    }
    step.channels?.forEach((channel, ci) => {
      if (!channels.has(channel)) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', si, 'channels', ci],
          message: `Channel "${channel}" is not one of the service's channels`,
        });
      }
    });
    step.protocol?.fields.forEach((field, fi) => {
      const path = ['steps', si, 'protocol', 'fields', fi];
      fieldEntries.push({ value: field.code, path: [...path, 'code'] });
      checkField(ctx, field, path, documentCodes);
    });
  });
  checkUnique(ctx, fieldEntries, 'field code');

  if (!def.results.some((r) => r.kind === 'positive')) {
    ctx.addIssue({ code: 'custom', path: ['results'], message: 'At least one positive result is required' });
  }
  if (!def.results.some((r) => r.kind === 'negative')) {
    ctx.addIssue({
      code: 'custom',
      path: ['results'],
      message: 'At least one negative result (reasoned refusal) is required',
    });
  }

  const seeds = def.source.documents.map((d, i) => ({
    value: `${d.seed}/${d.file}`,
    path: ['source', 'documents', i],
  }));
  checkUnique(ctx, seeds, 'source document');
});

export type ServiceDefinition = z.infer<typeof serviceDefinition>;
