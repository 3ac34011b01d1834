/**
 * The provider's workflow calls (application card, transitions, staff):
 * merged into the contract in preload/api.ts.
 *
 * Every transition carries the `version` of the application the user saw;
 * a stale one is refused (`staleVersion`) and nothing is overwritten. Each
 * answers the new version and the key of the system message to show.
 */
import { z } from 'zod';
import type { CallSpec } from './call.js';
import { CARD_ACTIONS, CHANNELS, DECISIONS, ROLES, STATUSES } from '#core/vocabulary.js';
import { outputDocument, type OutputDocument } from '#core/workflow/output-document.js';

const localized = z.strictObject({ kk: z.string(), ru: z.string(), en: z.string() });
const id = z.string().min(1).max(100);
const version = z.int().min(1).max(2_147_483_647);
const fieldCode = z
  .string()
  .max(64)
  .regex(/^[a-z][a-zA-Z0-9]*$/);
export const fieldValue = z.union([z.string().max(100_000), z.number(), z.boolean(), z.null()]);
/** Field values by field code; at most 200 fields per call. */
const fieldValues = z
  .record(fieldCode, fieldValue)
  .refine((r) => Object.keys(r).length <= 200, { message: 'Too many fields' });

const byApplication = z.strictObject({ id });
const transitionInput = z.strictObject({ id, version });

/** What every transition answers. */
export const transitionResult = z.strictObject({
  id: z.string(),
  version: z.int(),
  status: z.enum(STATUSES),
  decision: z.enum(DECISIONS),
  responsibleUserId: z.string().nullable(),
  currentStep: z.string().nullable(),
  dueAt: z.number().nullable(),
  /** i18n key of the system message (docs/domain.md#system-messages), e.g. 'messages.applicationSent'. */
  messageKey: z.string(),
});
export type TransitionResult = z.infer<typeof transitionResult>;

const person = z.strictObject({ userId: z.string(), fullName: z.string() });

export const cardField = z.strictObject({
  code: z.string(),
  label: localized,
  type: z.string(),
  required: z.boolean(),
  /** The user may change it now (the executor's own sections while processing). */
  editable: z.boolean(),
  /** Required and empty: marked red, and blocks Send when editable. */
  missing: z.boolean(),
  value: fieldValue,
  options: z.array(z.strictObject({ value: z.string(), label: localized })).optional(),
  maxLength: z.int().optional(),
  hint: localized.optional(),
});
export type CardField = z.infer<typeof cardField>;

export const cardSection = z.strictObject({
  code: z.string(),
  title: localized,
  stage: z.enum(['intake', 'processing', 'result']),
  collapsed: z.boolean(),
  editable: z.boolean(),
  fields: z.array(cardField),
});

export const cardStep = z.strictObject({
  code: z.string(),
  name: localized,
  role: z.string(),
  limit: z.strictObject({ unit: z.enum(['minutes', 'working_days']), value: z.int() }),
  collegial: z.boolean(),
  state: z.enum(['done', 'current', 'pending']),
  enteredAt: z.number().nullable(),
  completedAt: z.number().nullable(),
  /** The deadline: recorded for done and current steps, projected (from the current deadline) for pending ones. */
  dueAt: z.number().nullable(),
  projected: z.boolean(),
  overdue: z.boolean(),
  /** Who holds (or held) the step; null for the commission, the centre or when nobody is known. */
  holder: person.nullable(),
});
export type CardStep = z.infer<typeof cardStep>;

export const cardEvent = z.strictObject({
  seq: z.int(),
  at: z.number(),
  actor: person.nullable(),
  action: z.string(),
  fromStatus: z.enum(STATUSES).nullable(),
  toStatus: z.enum(STATUSES).nullable(),
  decision: z.enum(DECISIONS).nullable(),
  comment: z.string().nullable(),
  /** What else the event records, flattened (e.g. fields, refusalReasonCode, responsible, protocolNumber). */
  details: z.record(z.string(), z.string()),
});

export const cardSignature = z.strictObject({
  id: z.string(),
  format: z.string(),
  signerName: z.string(),
  signerIin: z.string().nullable(),
  userId: z.string().nullable(),
  signedAt: z.number(),
  timestampedAt: z.number().nullable(),
});

export const chainCheck = z.union([
  z.strictObject({ ok: z.literal(true) }),
  z.strictObject({ ok: z.literal(false), brokenAtSeq: z.int(), reason: z.enum(['changed', 'missing']) }),
]);

export const applicationCard = z.strictObject({
  header: z.strictObject({
    id: z.string(),
    number: z.string(),
    portalNumber: z.string().nullable(),
    serviceCode: z.string(),
    serviceName: localized,
    channel: z.enum(CHANNELS),
    status: z.enum(STATUSES),
    decision: z.enum(DECISIONS),
    submittedAt: z.number(),
    statusChangedAt: z.number(),
    dueAt: z.number().nullable(),
    applicantIin: z.string(),
    applicantBin: z.string().nullable(),
    applicantName: z.string(),
    /** The provider's number (its id in the registry), BIN and name. */
    provider: z.strictObject({ number: z.string(), bin: z.string(), name: localized }),
    responsible: person.nullable(),
    currentStep: z.string().nullable(),
  }),
  sections: z.array(cardSection),
  /** The protocol of the collegial step (commission, council), for services that have one. */
  commission: z
    .strictObject({
      stepCode: z.string(),
      name: localized,
      fields: z.array(cardField),
      recorded: z.boolean(),
    })
    .nullable(),
  refusal: z.strictObject({ code: z.string().nullable(), text: z.string().nullable() }).nullable(),
  refusalReasons: z.array(z.strictObject({ code: z.string(), text: localized })),
  steps: z.array(cardStep),
  events: z.array(cardEvent),
  reworkComment: z.string().nullable(),
  signatures: z.array(cardSignature),
  version: z.int(),
  /** The buttons this user may press now. */
  actions: z.array(z.enum(CARD_ACTIONS)),
  /** Codes of required fields the user must fill before Send. */
  missingRequired: z.array(z.string()),
  chain: chainCheck,
});
export type ApplicationCard = z.infer<typeof applicationCard>;

/** The output document, Kazakh and Russian side by side, for the renderer to lay out and print (built in core). */
export { outputDocument, type OutputDocument };

export const staffMember = z.strictObject({
  userId: z.string(),
  fullName: z.string(),
  position: z.strictObject({ kk: z.string(), ru: z.string() }),
  roles: z.array(z.enum(ROLES)),
  /** Applications in received / in processing this executor is responsible for. */
  openApplications: z.int().min(0),
});

export const assignResult = z.strictObject({
  id: z.string(),
  number: z.string().nullable(),
  ok: z.boolean(),
  code: z.string().nullable(),
  messageKey: z.string(),
  version: z.int().nullable(),
});

export const workflowContract = {
  /** Everything the application card shows, and the buttons this user may press. */
  'application.card': { kind: 'read', input: byApplication, output: applicationCard },
  /** Saves the executor's fields (processing and result sections). */
  'application.save': {
    kind: 'write',
    input: z.strictObject({ id, version, data: fieldValues }),
    output: transitionResult,
  },
  /**
   * Assigns the responsible executor to one application (with the version the
   * card showed) or to several selected in the journal; each row succeeds or
   * fails on its own.
   */
  'application.assign': {
    kind: 'write',
    input: z.strictObject({
      applications: z
        .array(z.strictObject({ id, version: version.optional() }))
        .min(1)
        .max(1000),
      responsibleUserId: id,
    }),
    output: z.strictObject({ results: z.array(assignResult), messageKey: z.string() }),
  },
  'application.accept': { kind: 'write', input: transitionInput, output: transitionResult },
  /** Process positively, or negatively with a refusal reason from the service's dictionary and a text. */
  'application.decide': {
    kind: 'write',
    input: z.strictObject({
      id,
      version,
      decision: z.enum(['positive', 'negative']),
      refusalReasonCode: z.string().max(64).optional(),
      refusalText: z.string().max(4000).optional(),
    }),
    output: transitionResult,
  },
  /** Hands the application to the collegial body (competition commission, coordination council). */
  'application.refer': { kind: 'write', input: transitionInput, output: transitionResult },
  /** Records the collegial body's protocol (number, date, decision, reasons: the fields the service defines). */
  'application.commission': {
    kind: 'write',
    input: z.strictObject({ id, version, protocol: fieldValues }),
    output: transitionResult,
  },
  /** Sends the processed application to the head for signing. */
  'application.send': { kind: 'write', input: transitionInput, output: transitionResult },
  /** The head returns it to the executor; the comment is mandatory. */
  'application.return': {
    kind: 'write',
    input: z.strictObject({ id, version, comment: z.string().max(2000) }),
    output: transitionResult,
  },
  /** Completes it after the head signed its document (signing.start); the latest such signature unless one is named. */
  'application.sign': {
    kind: 'write',
    input: z.strictObject({ id, version, signatureId: id.optional() }),
    output: transitionResult,
  },
  'application.preview': { kind: 'read', input: byApplication, output: outputDocument },
  'application.verifyChain': { kind: 'read', input: byApplication, output: chainCheck },
  /** The provider's executors, for "Assign responsible". */
  'staff.list': {
    kind: 'read',
    input: z.strictObject({ providerId: id }),
    output: z.strictObject({ staff: z.array(staffMember) }),
  },
} as const satisfies Record<string, CallSpec>;
