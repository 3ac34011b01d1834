/**
 * The local database of one workstation: drizzle schema for SQLite.
 *
 * Times are integers, milliseconds since the Unix epoch (UTC): they sort and
 * index cheaply, and nothing is ever ordered by them across devices (the sync
 * protocol orders by `seq` and server versions instead).
 */
import { blob, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { CHANNELS, DECISIONS, ROLES, STATUSES } from '#core/vocabulary.js';

/**
 * pending: waits for the server; sent: the server applied it (or had it already);
 * rejected: the server refused it for a business reason, waiting for a person;
 * discarded: a person gave it up (a 'change.discard' row records that);
 * retried: a person queued it again as a new row (`retried_as`).
 */
export const OUTBOX_STATES = ['pending', 'sent', 'rejected', 'discarded', 'retried'] as const;
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
    /** applicant_name folded for search (case, Kazakh letters, ё): see core/identity/text.ts. */
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
    // (submitted_at) leads applications_journal_submitted_idx and (number) applications_journal_number_idx
    // (migration 0003; their own indexes dropped by 0006); (provider_id, submitted_at) leads
    // applications_scope_submitted_idx (migration 0005, the scoped journal).
    index('applications_status_submitted_idx').on(t.status, t.submittedAt),
    index('applications_iin_idx').on(t.applicantIin),
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
    /**
     * The seq the server sees: consecutive within one numbering epoch, given
     * when the row is first sent (main/sync/push.ts), null before.
     */
    deviceSeq: integer('device_seq'),
    /** The numbering epoch (sync_device.epoch) `device_seq` was given in. */
    epoch: integer('epoch'),
    /** The server's reason code and detail for a business rejection. */
    rejectReason: text('reject_reason'),
    rejectMessage: text('reject_message'),
    rejectedAt: integer('rejected_at'),
    /** When a person retried or discarded the rejected change; for a retry, the seq of the new row. */
    resolvedAt: integer('resolved_at'),
    retriedAs: integer('retried_as'),
  },
  (t) => [
    index('outbox_state_seq_idx').on(t.state, t.seq),
    uniqueIndex('outbox_device_seq_uq').on(t.epoch, t.deviceSeq),
    index('outbox_entity_idx').on(t.entity, t.entityId, t.state),
    index('outbox_state_version_idx').on(t.state, t.serverVersion),
  ],
);

/**
 * Pull cursors and health of sync, one row per partition the device pulls
 * (main/sync/pull.ts). `cursor` is null until the first snapshot finished.
 */
export const syncState = sqliteTable('sync_state', {
  partition: text('partition').primaryKey(),
  cursor: text('cursor'),
  /** The server version the cursor covers (compared with a sent change's server_version). */
  version: integer('version'),
  snapshotAt: integer('snapshot_at'),
  lastPullAt: integer('last_pull_at'),
  lastPushAt: integer('last_push_at'),
  lastError: text('last_error'),
  lastErrorAt: integer('last_error_at'),
  clockSkewMs: integer('clock_skew_ms'),
});

/**
 * This workstation's enrolment in an office (one row, id 1): the device
 * secret sealed by the shell's SecretBox (main/sync/credentials.ts), never in
 * clear.
 */
export const syncDevice = sqliteTable('sync_device', {
  id: integer('id').primaryKey(),
  deviceId: text('device_id').notNull(),
  name: text('name').notNull(),
  providerId: text('provider_id').notNull(),
  partitions: text('partitions', { mode: 'json' }).$type<string[]>().notNull(),
  secret: blob('secret', { mode: 'buffer' }),
  /**
   * The numbering of outbox.device_seq: a new epoch with each enrolment and
   * whenever the server's count forces a renumbering; the epoch's first row
   * gets seq_base + 1.
   */
  epoch: integer('epoch').notNull(),
  seqBase: integer('seq_base').notNull().default(0),
  enrolledAt: integer('enrolled_at').notNull(),
  /** Set when the server answered device_revoked: nothing syncs until enrolled again. */
  revokedAt: integer('revoked_at'),
});

/**
 * The server's log of each application as the pull brings it (its own hash
 * chain, with the device and seq each event came from). Kept apart from the
 * local, append-only application_events.
 */
export const serverEvents = sqliteTable(
  'server_events',
  {
    /** The feed row's id. */
    id: text('id').primaryKey(),
    applicationId: text('application_id').notNull(),
    seq: integer('seq').notNull(),
    at: integer('at').notNull(),
    actorUserId: text('actor_user_id'),
    action: text('action').notNull(),
    fromStatus: text('from_status', { enum: STATUSES }),
    toStatus: text('to_status', { enum: STATUSES }),
    decision: text('decision', { enum: DECISIONS }),
    comment: text('comment'),
    payload: text('payload', { mode: 'json' }),
    deviceId: text('device_id'),
    deviceSeq: integer('device_seq'),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
    serverVersion: integer('server_version').notNull(),
  },
  (t) => [index('server_events_application_idx').on(t.applicationId, t.seq)],
);

/** Working-day calendars as the server keeps them (a year per row, as resources/calendars/*.json). */
export const syncCalendars = sqliteTable('sync_calendars', {
  year: integer('year').primaryKey(),
  definition: text('definition', { mode: 'json' }).notNull(),
  serverVersion: integer('server_version').notNull(),
});

/** CRLs the server keeps current, for offline certificate checks; `der` once fetched. */
export const syncCrls = sqliteTable('sync_crls', {
  sha256: text('sha256').primaryKey(),
  issuer: text('issuer').notNull(),
  thisUpdate: integer('this_update').notNull(),
  nextUpdate: integer('next_update'),
  size: integer('size').notNull(),
  der: blob('der', { mode: 'buffer' }),
  serverVersion: integer('server_version').notNull(),
});

/**
 * Feed rows not applied yet: held while the local row has a change the
 * server has not acknowledged ('local'), or waiting for a row they refer to
 * ('parent'). Applied as soon as that passes; a newer row replaces them.
 */
export const syncDeferred = sqliteTable(
  'sync_deferred',
  {
    entity: text('entity').notNull(),
    id: text('id').notNull(),
    partition: text('partition').notNull(),
    version: integer('version').notNull(),
    op: text('op', { enum: ['upsert', 'delete'] }).notNull(),
    data: text('data', { mode: 'json' }),
    reason: text('reason', { enum: ['local', 'parent'] }).notNull(),
    at: integer('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.entity, t.id] })],
);

/**
 * The server's state of an application before the first local change not yet
 * acknowledged (a trigger in migration 0004 keeps it): put back when the
 * server rejects that change and nothing newer is coming from it, so the
 * local row does not keep an effect the server never had.
 */
export const syncBase = sqliteTable('sync_base', {
  applicationId: text('application_id').primaryKey(),
  data: text('data', { mode: 'json' }).notNull(),
  serverVersion: integer('server_version').notNull(),
});

/** Feed rows that did not fit (validation, constraints): skipped and kept here to be shown. */
export const syncErrors = sqliteTable(
  'sync_errors',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    partition: text('partition').notNull(),
    entity: text('entity').notNull(),
    entityId: text('entity_id').notNull(),
    version: integer('version').notNull(),
    error: text('error').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [index('sync_errors_entity_idx').on(t.entity, t.entityId)],
);

/**
 * User keys (core/auth/change-key.ts) the server gave at online logins here:
 * each user's changes are authenticated with one when pushed. The secret is
 * sealed by the same SecretBox as the device secret (main/sync/user-keys.ts),
 * never in clear.
 */
export const syncUserKeys = sqliteTable(
  'sync_user_keys',
  {
    keyId: text('key_id').primaryKey(),
    userId: text('user_id').notNull(),
    /** The device the key is bound to (the server refuses it from any other). */
    deviceId: text('device_id').notNull(),
    secret: blob('secret', { mode: 'buffer' }).notNull(),
    issuedAt: integer('issued_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    receivedAt: integer('received_at').notNull(),
  },
  (t) => [index('sync_user_keys_user_idx').on(t.userId, t.issuedAt)],
);

export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value', { mode: 'json' }).notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** The schema version the outbox rows carry (core/protocol.ts); bump it there with every migration that changes synced rows. */
