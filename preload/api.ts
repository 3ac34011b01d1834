/**
 * The contract: every call the renderer can make, with zod schemas for its
 * input and output. The preload exposes exactly these calls, main/shell
 * registers one IPC handler per call, and the loopback bridge serves the same
 * handlers over HTTP. Nothing else crosses from the renderer to main.
 */
import { z } from 'zod';
import { DECISIONS, ROLES, SIGNATURE_FORMATS, STATUSES } from '#core/vocabulary.js';
import { MONITORING_COLUMNS } from '#core/monitoring/report.js';
import type { CallKind, CallSpec } from './contract/call.js';
import { authContract } from './contract/auth.js';
import { certificateFacts, signingSource, tokenInfo } from './contract/common.js';
import { syncContract } from './contract/sync.js';
import { monitoringContract } from './contract/monitoring.js';
import { exportContract } from './contract/export.js';
import { documentsContract } from './contract/documents.js';
import { paperCheckContract } from './contract/paper-check.js';
import { workflowContract } from './contract/workflow.js';

export const LANGUAGES = ['kk', 'ru', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export const THEMES = ['light', 'dark'] as const;

// The domain's lists (core/vocabulary.ts), under the names the renderer knows them by.
export const STATUS_VALUES = STATUSES;
export const DECISION_VALUES = DECISIONS;
export const ROLE_VALUES = ROLES;

const noInput = z.strictObject({});
const localized = z.strictObject({ kk: z.string(), ru: z.string(), en: z.string() });

export const JOURNAL_SORT_COLUMNS = [
  'submittedAt',
  'number',
  'applicantName',
  'status',
  'decision',
  'serviceCode',
] as const;

export const journalQuery = z.strictObject({
  page: z.int().min(0).max(1_000_000),
  pageSize: z.int().min(1).max(500),
  /** Application number, portal number, IIN or a fragment of the applicant's name. */
  search: z.string().trim().max(100).optional(),
  serviceCode: z.string().max(64).optional(),
  status: z.enum(STATUS_VALUES).optional(),
  decision: z.enum(DECISION_VALUES).optional(),
  /** Inclusive range of submission dates, YYYY-MM-DD (local calendar days). */
  dateFrom: z.iso.date().optional(),
  dateTo: z.iso.date().optional(),
  /** Open applications past their step's deadline. */
  overdue: z.boolean().optional(),
  /** A figure of the monitoring report: the applicants' region (KATO) and the report's column (its statuses). */
  regionKato: z
    .string()
    .regex(/^\d{9}$/)
    .optional(),
  reportColumn: z.enum(MONITORING_COLUMNS).optional(),
  sort: z.enum(JOURNAL_SORT_COLUMNS).default('submittedAt'),
  direction: z.enum(['asc', 'desc']).default('desc'),
});
export type JournalQuery = z.input<typeof journalQuery>;

export const journalRow = z.strictObject({
  id: z.string(),
  number: z.string(),
  portalNumber: z.string().nullable(),
  serviceCode: z.string(),
  serviceName: localized,
  applicantIin: z.string(),
  applicantName: z.string(),
  submittedAt: z.number(),
  status: z.enum(STATUS_VALUES),
  decision: z.enum(DECISION_VALUES),
  responsibleName: z.string().nullable(),
  providerBin: z.string(),
  locality: z.string(),
  dueAt: z.number().nullable(),
  /** Working days an open application has waited since it was submitted; null once it is finished. */
  daysWaiting: z.int().min(0).nullable(),
});
export type JournalRow = z.infer<typeof journalRow>;

export const sessionUser = z.strictObject({
  id: z.string(),
  login: z.string(),
  fullName: z.string(),
  roles: z.array(z.strictObject({ role: z.enum(ROLE_VALUES), providerId: z.string() })),
});

export const syncStatus = z.strictObject({
  /** Whether the central server answered its last health check. */
  online: z.boolean(),
  serverUrl: z.string().nullable(),
  queueDepth: z.int().min(0),
  oldestPendingAt: z.number().nullable(),
  lastSyncAt: z.number().nullable(),
  lastError: z.string().nullable(),
  /** Enrolled in an office: without it nothing syncs (the sync panel enrols). */
  enrolled: z.boolean(),
  /** What the engine is doing: the top bar shows a spinner while not idle. */
  phase: z.enum(['idle', 'pushing', 'pulling', 'snapshot', 'waiting']),
  /** Changes the server rejected that wait for a person (retry or discard). */
  rejectedCount: z.int().min(0),
  /** This workstation's clock is more than 5 minutes off the server's. */
  clockOff: z.boolean(),
});
export type SyncStatus = z.infer<typeof syncStatus>;

export const preferences = z.strictObject({
  language: z.enum(LANGUAGES),
  theme: z.enum(THEMES),
});
export type Preferences = z.infer<typeof preferences>;

export const catalogueProblem = z.strictObject({
  file: z.string(),
  field: z.string(),
  message: z.string(),
});

export const revocationState = z.strictObject({
  status: z.enum(['good', 'revoked', 'unknown']),
  source: z.enum(['ocsp', 'crl', 'none']),
  /** The cached CRL is past its next update. */
  stale: z.boolean(),
  checkedAt: z.number().nullable(),
});

export { SIGNATURE_FORMATS };

export const batchResult = z.strictObject({
  applicationId: z.string(),
  number: z.string().nullable(),
  ok: z.boolean(),
  code: z.string().nullable(),
  messageKey: z.string().nullable(),
  /** An RFC 3161 timestamp was added (false offline: the signature goes without one). */
  timestamped: z.boolean(),
});

export const batchProgress = z.strictObject({
  batchId: z.string(),
  state: z.enum(['running', 'finished', 'cancelled']),
  total: z.int().min(0),
  done: z.int().min(0),
  failed: z.int().min(0),
  results: z.array(batchResult),
  /** Why no timestamps were added, when none were (no TSA configured, TSA unreachable). */
  timestampNote: z.enum(['none', 'notConfigured', 'unreachable']),
});
export type BatchProgress = z.infer<typeof batchProgress>;

/** A phone number as Kazakh offices write it: +7 and ten digits, spaces, dashes and brackets allowed. */
export const KZ_PHONE = /^\+?[78][\s-]?\(?\d{3}\)?[\s-]?\d{3}[\s-]?\d{2}[\s-]?\d{2}$/;

export const profile = z.strictObject({
  login: z.string(),
  fullName: z.string(),
  iin: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  positionKk: z.string().nullable(),
  positionRu: z.string().nullable(),
});

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .transform((v) => (v === '' ? null : v))
    .nullable();

export const profileChange = z.strictObject({
  fullName: z.string().trim().min(3).max(200),
  email: z
    .union([z.literal(''), z.email().max(200)])
    .transform((v) => (v === '' ? null : v))
    .nullable(),
  phone: z
    .union([z.literal(''), z.string().trim().regex(KZ_PHONE)])
    .transform((v) => (v === '' ? null : v))
    .nullable(),
  positionKk: optionalText(200),
  positionRu: optionalText(200),
});

export {
  certificateFacts,
  signingSource,
  tokenInfo,
  type CertificateFactsDto,
  type SigningSource,
  type TokenInfo,
} from './contract/common.js';

export const contract = {
  'app.info': {
    kind: 'poll',
    input: noInput,
    output: z.strictObject({
      version: z.string(),
      transport: z.enum(['ipc', 'bridge']),
      databasePath: z.string(),
      /** The local database's integrity check, which runs after the start (a failed one refuses every write). */
      database: z.strictObject({
        check: z.enum(['running', 'ok', 'failed']),
        /** The latest backup to restore from, when the check failed. */
        backupPath: z.string().nullable(),
      }),
    }),
  },
  'session.current': {
    kind: 'poll',
    input: noInput,
    output: z.strictObject({ user: sessionUser.nullable() }),
  },
  'preferences.get': { kind: 'poll', input: noInput, output: preferences },
  'preferences.set': { kind: 'write', input: preferences.partial(), output: preferences },
  'catalogue.list': {
    kind: 'read',
    input: noInput,
    output: z.strictObject({
      services: z.array(z.strictObject({ code: z.string(), name: localized })),
      problems: z.array(catalogueProblem),
    }),
  },
  'journal.list': {
    kind: 'read',
    input: journalQuery,
    /** `totalCapped`: there are at least `total` (counting stops at a cap). */
    output: z.strictObject({ total: z.int().min(0), totalCapped: z.boolean(), rows: z.array(journalRow) }),
  },
  'sync.status': { kind: 'poll', input: noInput, output: syncStatus },
  'signing.tokens': {
    kind: 'poll',
    input: noInput,
    output: z.strictObject({
      tokens: z.array(tokenInfo),
      modules: z.array(z.strictObject({ path: z.string(), loaded: z.boolean(), code: z.string().nullable() })),
    }),
  },
  /** Opens a key (key file + password, or token + PIN) and checks its certificate: who will sign. */
  'signing.open': {
    kind: 'write',
    input: z.strictObject({ source: signingSource }),
    output: z.strictObject({
      handle: z.string(),
      certificate: certificateFacts,
      revocation: revocationState,
      warnings: z.array(z.string()),
    }),
  },
  /** Signs the documents of these applications with an opened key, in the background. */
  'signing.start': {
    kind: 'write',
    input: z.strictObject({
      handle: z.string().max(100),
      applicationIds: z.array(z.string().max(100)).min(1).max(1000),
      format: z.enum(SIGNATURE_FORMATS).default('xmldsig'),
    }),
    output: batchProgress,
  },
  'signing.progress': { kind: 'poll', input: z.strictObject({ batchId: z.string().max(100) }), output: batchProgress },
  'signing.cancel': { kind: 'read', input: z.strictObject({ batchId: z.string().max(100) }), output: batchProgress },
  /** Forgets an opened key (logs out of the token, drops the key file's key). */
  'signing.close': { kind: 'read', input: z.strictObject({ handle: z.string().max(100) }), output: z.strictObject({}) },
  'profile.get': { kind: 'read', input: noInput, output: profile },
  'profile.update': { kind: 'write', input: profileChange, output: profile },
  ...workflowContract,
  ...authContract,
  ...syncContract,
  ...monitoringContract,
  ...exportContract,
  ...documentsContract,
  ...paperCheckContract,
} as const satisfies Record<string, CallSpec>;

export type Contract = typeof contract;
export type Channel = keyof Contract;
export type CallInput<C extends Channel> = z.input<Contract[C]['input']>;
export type CallOutput<C extends Channel> = z.output<Contract[C]['output']>;

/** The names of all calls, in one list (the preload and the bridge expose exactly these). */
export const CHANNELS = Object.keys(contract) as Channel[];

export { isReadOnly, type CallKind, type CallSpec } from './contract/call.js';

/** Whether `channel` reads, polls or writes local data (its contract entry says). */
export function callKind(channel: Channel): CallKind {
  return contract[channel].kind;
}

/** The API as the renderer sees it: one async function per call. */
export type QyzmetApi = { [C in Channel]: (input: CallInput<C>) => Promise<CallOutput<C>> };

/** Errors that cross the boundary: a stable code and a message key of the i18n catalogues. */
export const callError = z.strictObject({
  code: z.string(),
  /** i18n key, e.g. 'errors.invalidInput'. */
  messageKey: z.string(),
  details: z.record(z.string(), z.string()).optional(),
});
export type CallError = z.infer<typeof callError>;

/** What a call answers over any transport: its value, or an error the UI can word. */
export type CallResult<C extends Channel> = { ok: true; value: CallOutput<C> } | { ok: false; error: CallError };

/** What the preload exposes on `window.qyzmet`: one function per call, each bound to its channel. */
export type RawApi = { [C in Channel]: (input: CallInput<C>) => Promise<CallResult<C>> };

/** The name of the global the preload exposes. */
export const API_GLOBAL = 'qyzmet';
