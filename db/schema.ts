/**
 * The local database of one workstation: drizzle schema for SQLite.
 *
 * Times are integers, milliseconds since the Unix epoch (UTC): they sort and
 * index cheaply, and nothing is ever ordered by them across devices (the sync
 * protocol orders by `seq` and server versions instead).
 */
import { blob, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const ROLES = ['operator', 'clerk', 'executor', 'head', 'monitoring', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Application statuses of the provider's workflow (DOMAIN.md §4). */
export const STATUSES = [
  'received',
  'in_processing',
  'on_signing',
  'completed',
  'external_processing',
  'completed_with_error',
] as const;
export type Status = (typeof STATUSES)[number];

export const DECISIONS = ['none', 'positive', 'negative'] as const;
export type Decision = (typeof DECISIONS)[number];

export const CHANNELS = ['office', 'centre', 'portal'] as const;
export type Channel = (typeof CHANNELS)[number];

export const OUTBOX_STATES = ['pending', 'sent', 'rejected', 'discarded'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

/** Administrative regions, keyed by their KATO code (e.g. Akmola 110000000). */
export const regions = sqliteTable('regions', {
  kato: text('kato').primaryKey(),
  nameKk: text('name_kk').notNull(),
  nameRu: text('name_ru').notNull(),
  nameEn: text('name_en').notNull(),
});

export const providers = sqliteTable(
  'providers',
  {
    id: text('id').primaryKey(),
    bin: text('bin').notNull(),
    nameKk: text('name_kk').notNull(),
    nameRu: text('name_ru').notNull(),
    nameEn: text('name_en').notNull(),
    regionKato: text('region_kato')
      .notNull()
      .references(() => regions.kato),
    localityKk: text('locality_kk').notNull(),
    localityRu: text('locality_ru').notNull(),
    localityEn: text('locality_en').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [uniqueIndex('providers_bin_uq').on(t.bin)],
);

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    login: text('login').notNull(),
    fullName: text('full_name').notNull(),
    iin: text('iin').notNull(),
    email: text('email'),
    phone: text('phone'),
    positionKk: text('position_kk'),
    positionRu: text('position_ru'),
    /** scrypt hash with its parameters and salt; never the password. */
    passwordHash: text('password_hash'),
    mustChangePassword: integer('must_change_password', { mode: 'boolean' }).notNull().default(false),
    blocked: integer('blocked', { mode: 'boolean' }).notNull().default(false),
    lastOnlineLoginAt: integer('last_online_login_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [uniqueIndex('users_login_uq').on(t.login), index('users_iin_idx').on(t.iin)],
);

/** One user may hold several roles, each for a provider (or for none: centre staff). */
export const userRoles = sqliteTable(
  'user_roles',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ROLES }).notNull(),
    /** '' for roles not bound to one provider (centre operator, system admin). */
    providerId: text('provider_id').notNull().default(''),
  },
  (t) => [primaryKey({ columns: [t.userId, t.role, t.providerId] })],
);

/** The provider's staff list, from which the head picks the responsible executor. */
export const providerStaff = sqliteTable(
  'provider_staff',
  {
    providerId: text('provider_id')
      .notNull()
      .references(() => providers.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    positionKk: text('position_kk').notNull(),
    positionRu: text('position_ru').notNull(),
    active: integer('active', { mode: 'boolean' }).notNull().default(true),
  },
  (t) => [primaryKey({ columns: [t.providerId, t.userId] })],
);

/** Service definitions as loaded from `resources/services/*.json` (the whole definition kept as JSON). */
export const services = sqliteTable('services', {
  code: text('code').primaryKey(),
  version: integer('version').notNull(),
  nameKk: text('name_kk').notNull(),
  nameRu: text('name_ru').notNull(),
  nameEn: text('name_en').notNull(),
  definition: text('definition', { mode: 'json' }).notNull(),
  sourceFile: text('source_file').notNull(),
  loadedAt: integer('loaded_at').notNull(),
});

export const applications = sqliteTable(
  'applications',
  {
    id: text('id').primaryKey(),
    /** The provider's own number, e.g. 2065-15-11-18 (sequence-day-month-year). */
    number: text('number').notNull(),
    /** Number given by the e-government portal or the centre (ПЭП number), when it came from there. */
    portalNumber: text('portal_number'),
    providerId: text('provider_id')
      .notNull()
      .references(() => providers.id),
    serviceCode: text('service_code').notNull(),
    channel: text('channel', { enum: CHANNELS }).notNull(),
    applicantIin: text('applicant_iin').notNull(),
    /** For a legal-entity applicant. */
    applicantBin: text('applicant_bin'),
    applicantName: text('applicant_name').notNull(),
    /** applicant_name folded for search (case, Kazakh letters, ё): see main/common/text.ts. */
    applicantNameNorm: text('applicant_name_norm').notNull(),
    regionKato: text('region_kato').notNull(),
    locality: text('locality').notNull(),
    status: text('status', { enum: STATUSES }).notNull(),
    decision: text('decision', { enum: DECISIONS }).notNull().default('none'),
    responsibleUserId: text('responsible_user_id').references(() => users.id),
    /** Code of the current step in the service definition. */
    currentStep: text('current_step'),
    submittedAt: integer('submitted_at').notNull(),
    statusChangedAt: integer('status_changed_at').notNull(),
    /** Deadline of the current step (ms), from the step's limit in minutes or working days. */
    dueAt: integer('due_at'),
    formData: text('form_data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    refusalReasonCode: text('refusal_reason_code'),
    refusalText: text('refusal_text'),
    reworkComment: text('rework_comment'),
    /** Local row version, bumped on every change: the second concurrent save is refused. */
    version: integer('version').notNull().default(1),
    /** Server version that last held this row (sync), null until first synced. */
    serverVersion: integer('server_version'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('applications_number_uq').on(t.providerId, t.number),
    index('applications_submitted_idx').on(t.submittedAt),
    index('applications_provider_submitted_idx').on(t.providerId, t.submittedAt),
    index('applications_status_submitted_idx').on(t.status, t.submittedAt),
    index('applications_iin_idx').on(t.applicantIin),
    index('applications_number_idx').on(t.number),
    index('applications_portal_idx').on(t.portalNumber),
    index('applications_responsible_idx').on(t.responsibleUserId, t.status),
    index('applications_service_idx').on(t.serviceCode, t.submittedAt),
  ],
);

/**
 * The journal of an application: append-only and hash-chained per application
 * (hash = SHA-256 over prev_hash and the event's canonical JSON), so a changed
 * or deleted event is detected. Triggers in migration 0001 refuse UPDATE and DELETE.
 */
export const applicationEvents = sqliteTable(
  'application_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    applicationId: text('application_id')
      .notNull()
      .references(() => applications.id),
    seq: integer('seq').notNull(),
    at: integer('at').notNull(),
    actorUserId: text('actor_user_id'),
    action: text('action').notNull(),
    fromStatus: text('from_status', { enum: STATUSES }),
    toStatus: text('to_status', { enum: STATUSES }),
    decision: text('decision', { enum: DECISIONS }),
    comment: text('comment'),
    payload: text('payload', { mode: 'json' }),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [uniqueIndex('application_events_seq_uq').on(t.applicationId, t.seq)],
);

/** Files attached to an application, stored on disk and addressed by SHA-256. */
export const attachments = sqliteTable(
  'attachments',
  {
    id: text('id').primaryKey(),
    applicationId: text('application_id')
      .notNull()
      .references(() => applications.id),
    documentCode: text('document_code'),
    fileName: text('file_name').notNull(),
    mime: text('mime').notNull(),
    size: integer('size').notNull(),
    sha256: text('sha256').notNull(),
    createdAt: integer('created_at').notNull(),
    uploadedAt: integer('uploaded_at'),
  },
  (t) => [index('attachments_application_idx').on(t.applicationId)],
);

/**
 * Signatures made on this workstation over an application's document: the
 * signed XML (XMLDSig enveloped) or the CMS, who signed, and whether an
 * RFC 3161 timestamp was added. Written with an outbox row for the server.
 */
export const signatures = sqliteTable(
  'signatures',
  {
    id: text('id').primaryKey(),
    applicationId: text('application_id')
      .notNull()
      .references(() => applications.id),
    /** 'xmldsig' or 'cms'. */
    format: text('format').notNull(),
    /** The signed document (XML) or the CMS SignedData (DER). */
    signed: blob('signed', { mode: 'buffer' }).notNull(),
    /** SHA-256 of the document that was signed. */
    documentSha256: text('document_sha256').notNull(),
    signerIin: text('signer_iin'),
    signerBin: text('signer_bin'),
    signerName: text('signer_name').notNull(),
    certificateSha256: text('certificate_sha256').notNull(),
    keySource: text('key_source').notNull(),
    userId: text('user_id').references(() => users.id),
    signedAt: integer('signed_at').notNull(),
    timestampedAt: integer('timestamped_at'),
  },
  (t) => [index('signatures_application_idx').on(t.applicationId, t.signedAt)],
);

/**
 * Local changes waiting for the central server, in the order they were made
 * on this device (`seq`). Written in the same transaction as the domain rows.
 */
export const outbox = sqliteTable(
  'outbox',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    op: text('op').notNull(),
    entity: text('entity').notNull(),
    entityId: text('entity_id').notNull(),
    payload: text('payload', { mode: 'json' }).notNull(),
    protocolVersion: integer('protocol_version').notNull(),
    schemaVersion: integer('schema_version').notNull(),
    /** Detached CMS (base64) for signed acts. */
    signature: text('signature'),
    state: text('state', { enum: OUTBOX_STATES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    sentAt: integer('sent_at'),
    serverVersion: integer('server_version'),
  },
  (t) => [index('outbox_state_seq_idx').on(t.state, t.seq)],
);

/** Pull cursors and health of sync, one row per office partition. */
export const syncState = sqliteTable('sync_state', {
  partition: text('partition').primaryKey(),
  cursor: text('cursor'),
  lastPullAt: integer('last_pull_at'),
  lastPushAt: integer('last_push_at'),
  lastError: text('last_error'),
  lastErrorAt: integer('last_error_at'),
  clockSkewMs: integer('clock_skew_ms'),
});

export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value', { mode: 'json' }).notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** The schema version the outbox rows carry; bump with every migration that changes synced rows. */
export const SCHEMA_VERSION = 1;
