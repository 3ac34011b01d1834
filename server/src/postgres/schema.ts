/**
 * The central server's tables as drizzle pg-core definitions, mirroring
 * server/migrations/0001_core.sql (the SQL files are the source of truth;
 * keep these in step with them). Used for typed queries through db/orm.ts.
 */
import {
  bigint,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { CHANNELS, ROLES } from '#core/vocabulary.js';

/** bigint as a JS number: versions, seqs and ms times stay far below 2^53. */
const int8 = (name: string) => bigint(name, { mode: 'number' });

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v)),
});

export const serverKeys = pgTable('server_keys', {
  id: text('id').primaryKey(),
  secret: bytea('secret').notNull(),
  createdAt: int8('created_at').notNull(),
});

export const partitions = pgTable('partitions', {
  partition: text('partition').primaryKey(),
  version: int8('version').notNull().default(0),
});

export const feed = pgTable(
  'feed',
  {
    partition: text('partition')
      .notNull()
      .references(() => partitions.partition),
    entity: text('entity').notNull(),
    id: text('id').notNull(),
    version: int8('version').notNull(),
    op: text('op', { enum: ['upsert', 'delete'] }).notNull(),
    data: jsonb('data'),
  },
  (t) => [
    primaryKey({ columns: [t.partition, t.entity, t.id] }),
    uniqueIndex('feed_partition_version_uq').on(t.partition, t.version),
  ],
);

export const regions = pgTable('regions', {
  kato: text('kato').primaryKey(),
  nameKk: text('name_kk').notNull(),
  nameRu: text('name_ru').notNull(),
  nameEn: text('name_en').notNull(),
});

export const providers = pgTable('providers', {
  id: text('id').primaryKey(),
  bin: text('bin').notNull().unique(),
  nameKk: text('name_kk').notNull(),
  nameRu: text('name_ru').notNull(),
  nameEn: text('name_en').notNull(),
  regionKato: text('region_kato')
    .notNull()
    .references(() => regions.kato),
  localityKk: text('locality_kk').notNull(),
  localityRu: text('locality_ru').notNull(),
  localityEn: text('locality_en').notNull(),
});

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    login: text('login').notNull().unique(),
    fullName: text('full_name').notNull(),
    iin: text('iin').notNull(),
    email: text('email'),
    phone: text('phone'),
    positionKk: text('position_kk'),
    positionRu: text('position_ru'),
    /** scrypt hash with its parameters and salt (core/auth/passwords.ts); never the password. */
    passwordHash: text('password_hash'),
    mustChangePassword: boolean('must_change_password').notNull().default(false),
    blocked: boolean('blocked').notNull().default(false),
    updatedAt: int8('updated_at').notNull(),
  },
  (t) => [index('users_iin_idx').on(t.iin)],
);

export const userRoles = pgTable(
  'user_roles',
  {
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ROLES }).notNull(),
    /** '' for roles bound to no provider (centre operator, system administrator). */
    providerId: text('provider_id').notNull().default(''),
  },
  (t) => [primaryKey({ columns: [t.userId, t.role, t.providerId] })],
);

export const providerStaff = pgTable(
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
    active: boolean('active').notNull().default(true),
  },
  (t) => [primaryKey({ columns: [t.providerId, t.userId] })],
);

export const services = pgTable('services', {
  code: text('code').primaryKey(),
  version: integer('version').notNull(),
  definition: jsonb('definition').notNull(),
});

export const calendars = pgTable('calendars', {
  year: integer('year').primaryKey(),
  definition: jsonb('definition').notNull(),
});

export const crls = pgTable('crls', {
  sha256: text('sha256').primaryKey(),
  issuer: text('issuer').notNull(),
  thisUpdate: int8('this_update').notNull(),
  nextUpdate: int8('next_update'),
  der: bytea('der').notNull(),
});

export const devices = pgTable('devices', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  providerId: text('provider_id')
    .notNull()
    .references(() => providers.id),
  /** SHA-256 (hex) of the device secret; the secret itself is only ever with the device. */
  secretSha256: text('secret_sha256').notNull(),
  enrolledBy: text('enrolled_by')
    .notNull()
    .references(() => users.id),
  enrolledAt: int8('enrolled_at').notNull(),
  revokedAt: int8('revoked_at'),
  /** The last seq applied or rejected; the next push must start at last_seq + 1. */
  lastSeq: int8('last_seq').notNull().default(0),
  lastSeenAt: int8('last_seen_at'),
});

export const applications = pgTable(
  'applications',
  {
    id: text('id').primaryKey(),
    number: text('number').notNull(),
    portalNumber: text('portal_number'),
    providerId: text('provider_id')
      .notNull()
      .references(() => providers.id),
    serviceCode: text('service_code').notNull(),
    channel: text('channel', { enum: CHANNELS }).notNull(),
    applicantIin: text('applicant_iin').notNull(),
    applicantBin: text('applicant_bin'),
    applicantName: text('applicant_name').notNull(),
    regionKato: text('region_kato').notNull(),
    locality: text('locality').notNull(),
    status: text('status').notNull(),
    decision: text('decision').notNull().default('none'),
    responsibleUserId: text('responsible_user_id').references(() => users.id),
    currentStep: text('current_step'),
    submittedAt: int8('submitted_at').notNull(),
    statusChangedAt: int8('status_changed_at').notNull(),
    dueAt: int8('due_at'),
    formData: jsonb('form_data').$type<Record<string, unknown>>().notNull(),
    refusalReasonCode: text('refusal_reason_code'),
    refusalText: text('refusal_text'),
    reworkComment: text('rework_comment'),
    /** The feed version of the last write (what a push answers as its serverVersion). */
    serverVersion: int8('server_version').notNull(),
  },
  (t) => [unique().on(t.providerId, t.number)],
);

export const applicationEvents = pgTable(
  'application_events',
  {
    applicationId: text('application_id')
      .notNull()
      .references(() => applications.id),
    seq: integer('seq').notNull(),
    at: int8('at').notNull(),
    actorUserId: text('actor_user_id'),
    action: text('action').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status'),
    decision: text('decision'),
    comment: text('comment'),
    payload: jsonb('payload'),
    deviceId: uuid('device_id'),
    deviceSeq: int8('device_seq'),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.applicationId, t.seq] })],
);

export const signatures = pgTable(
  'signatures',
  {
    id: text('id').primaryKey(),
    applicationId: text('application_id')
      .notNull()
      .references(() => applications.id),
    format: text('format').notNull(),
    signed: bytea('signed').notNull(),
    documentSha256: text('document_sha256').notNull(),
    signerIin: text('signer_iin'),
    signerBin: text('signer_bin'),
    signerName: text('signer_name').notNull(),
    certificateSha256: text('certificate_sha256').notNull(),
    keySource: text('key_source').notNull(),
    userId: text('user_id'),
    signedAt: int8('signed_at').notNull(),
    timestampedAt: int8('timestamped_at'),
  },
  (t) => [index('signatures_application_idx').on(t.applicationId)],
);

export const deviceChanges = pgTable(
  'device_changes',
  {
    deviceId: uuid('device_id')
      .notNull()
      .references(() => devices.id),
    seq: int8('seq').notNull(),
    op: text('op').notNull(),
    entity: text('entity').notNull(),
    entityId: text('entity_id').notNull(),
    outcome: text('outcome', { enum: ['applied', 'rejected'] }).notNull(),
    reason: text('reason'),
    message: text('message'),
    serverVersion: int8('server_version'),
    protocolVersion: integer('protocol_version').notNull(),
    schemaVersion: integer('schema_version').notNull(),
    createdAt: int8('created_at').notNull(),
    receivedAt: int8('received_at').notNull(),
    payload: jsonb('payload').notNull(),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.seq] })],
);

export const schemaMigrations = pgTable('schema_migrations', {
  name: text('name').primaryKey(),
  appliedAt: int8('applied_at').notNull(),
});

// ---------------------------------------------------------------------------
// 0004_user_keys.sql: user keys (server/src/auth/user-keys.ts)

export const userKeys = pgTable(
  'user_keys',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    deviceId: uuid('device_id')
      .notNull()
      .references(() => devices.id, { onDelete: 'cascade' }),
    issuedAt: int8('issued_at').notNull(),
    expiresAt: int8('expires_at').notNull(),
    lastOnlineAt: int8('last_online_at').notNull(),
    revokedAt: int8('revoked_at'),
  },
  (t) => [index('user_keys_user_device_idx').on(t.userId, t.deviceId)],
);

// ---------------------------------------------------------------------------
// 0007_login_guard.sql: password tries per login and per source (server/src/auth/failures.ts)

export const loginGuard = pgTable(
  'login_guard',
  {
    key: text('key').primaryKey(),
    count: integer('count').notNull(),
    lastAt: int8('last_at').notNull(),
    nextAt: int8('next_at').notNull().default(0),
    busyUntil: int8('busy_until').notNull().default(0),
    lockedAt: int8('locked_at'),
  },
  (t) => [index('login_guard_last_at_idx').on(t.lastAt)],
);

// ---------------------------------------------------------------------------
// 0008_lookup_audit.sql: the audit of citizen look-ups, used request proofs (server/src/routes/lookups.ts)

export const lookupAudit = pgTable(
  'lookup_audit',
  {
    id: int8('id').primaryKey().generatedAlwaysAsIdentity(),
    at: int8('at').notNull(),
    deviceId: uuid('device_id').notNull(),
    userId: text('user_id'),
    kind: text('kind').notNull(),
    subjectHmac: text('subject_hmac'),
    purpose: text('purpose'),
    outcome: text('outcome').notNull(),
  },
  (t) => [index('lookup_audit_user_idx').on(t.userId, t.at), index('lookup_audit_subject_idx').on(t.subjectHmac)],
);

export const usedRequestMacs = pgTable(
  'used_request_macs',
  {
    mac: text('mac').primaryKey(),
    at: int8('at').notNull(),
  },
  (t) => [index('used_request_macs_at_idx').on(t.at)],
);
