/**
 * The sync protocol between a workstation and the central server, as zod
 * schemas both sides validate with: every request the server reads and
 * every answer the workstation reads goes through one of these, and a body
 * that does not fit is an error (400 on the server, `SyncError('malformed')`
 * on the workstation), never a crash.
 *
 * Conventions
 * - JSON over HTTP; times are integers, ms since the Unix epoch (UTC); binary
 *   values are base64 (standard alphabet) strings.
 * - Every answer carries `serverTime`: the workstation estimates its clock
 *   offset from it (and shows a clock more than 5 minutes off). Nothing is
 *   ordered by a workstation's clock: changes by the device's `seq`, the
 *   pull feed by server versions.
 * - Device calls carry `Authorization: Bearer <accessToken>`; a 401 means
 *   "get a new access token with the device secret" (`/v1/devices/token`),
 *   never "drop the queue". A 401 from `/v1/devices/token` itself means the
 *   device was revoked: it must be enrolled again.
 * - Errors: a non-2xx status with `errorBody` (a stable `error` code).
 */
import { z } from 'zod';
import {
  CHANGE_OPS,
  CHANNELS,
  DECISIONS,
  GLOBAL_PARTITION,
  providerPartition,
  REJECTION_REASONS,
  ROLES,
  SIGNATURE_FORMATS,
  STATUSES,
  type ChangeOp,
} from './vocabulary.js';

// The words of the protocol are the domain's; re-exported for the protocol's users.
export { CHANGE_OPS, GLOBAL_PARTITION, providerPartition, REJECTION_REASONS, type ChangeOp };

/**
 * The protocol this build speaks. 2: changes carry their author's proof
 * (core/auth/change-key.ts), a login answers with a user key, a push may
 * defer a change.
 */
export const PROTOCOL_VERSION = 2;
/** The oldest protocol of a change's payload this build's server still reads. */
export const MIN_PROTOCOL_VERSION = 1;
/**
 * The oldest protocol a push request may speak: before 2 changes carried no
 * author's proof, so such a workstation is answered 426 and keeps its queue
 * until it is updated.
 */
export const MIN_PUSH_PROTOCOL_VERSION = 2;

/** Most changes in one push request; most rows in one pull page. */
export const MAX_PUSH_BATCH = 500;
export const MAX_PULL_LIMIT = 5_000;
/** Attachment upload chunk, at most. */
export const MAX_CHUNK_BYTES = 1024 * 1024;
/** The version of the workstation's synced rows a change's payload follows; bump with every migration that changes them. */
export const SCHEMA_VERSION = 1;

const id = z.string().min(1).max(200);
const time = z.number().int().nonnegative();
const base64 = z
  .string()
  .max(64 * 1024 * 1024)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/);
const json: z.ZodType<unknown> = z.unknown();
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const errorBody = z.looseObject({
  /**
   * Stable codes: bad_request, unauthorized, forbidden, not_found, gap,
   * protocol_unsupported, device_revoked, conflict, too_large, digest_mismatch,
   * wrong_credentials, internal; too_many_attempts (429) and busy (503) with
   * `retryAfterMs`; locked (403: an enrolment by a locked login).
   */
  error: z.string(),
  message: z.string().optional(),
  /** With `gap`: the seq the server expects next. */
  expectedSeq: z.number().int().optional(),
  /** With `protocol_unsupported`. */
  minProtocolVersion: z.number().int().optional(),
  protocolVersion: z.number().int().optional(),
  serverTime: time.optional(),
});
export type ErrorBody = z.infer<typeof errorBody>;

// ---------------------------------------------------------------------------
// GET /health

export const healthAnswer = z.looseObject({
  status: z.literal('ok'),
  protocolVersion: z.number().int(),
  minProtocolVersion: z.number().int(),
  serverTime: time,
});

// ---------------------------------------------------------------------------
// Devices

/**
 * POST /v1/devices/enrol: a workstation joins an office. An administrator's
 * credentials (a system administrator for any office, a provider's
 * administrator for their own) authorise it; the answer's `deviceSecret` is
 * shown once and kept by the workstation (encrypted at rest where the OS can).
 */
export const enrolRequest = z.strictObject({
  deviceId: z.uuid(),
  name: z.string().min(1).max(200),
  /** The provider whose office this workstation serves. */
  providerId: id,
  login: z.string().min(1).max(100),
  password: z.string().min(1).max(256),
  protocolVersion: z.number().int(),
});
export const enrolAnswer = z.strictObject({
  deviceId: z.uuid(),
  deviceSecret: z.string().min(32).max(200),
  /** What this device pulls: always [GLOBAL_PARTITION, providerPartition(providerId)]. */
  partitions: z.array(z.string()).min(1),
  providerId: id,
  serverTime: time,
});

/** POST /v1/devices/token: a short-lived access token for the device's calls. */
export const tokenRequest = z.strictObject({ deviceId: z.uuid(), deviceSecret: z.string().min(32).max(200) });
export const tokenAnswer = z.strictObject({
  accessToken: z.string().min(16).max(2000),
  expiresAt: time,
  serverTime: time,
});

// ---------------------------------------------------------------------------
// Login (main/auth/online.ts is the workstation's side)

/** POST /v1/auth/challenge (device call): a nonce for an EDS login, bound to this device, single use. */
export const challengeAnswer = z.strictObject({
  nonce: z.string().min(16).max(200),
  issuedAt: time,
  expiresAt: time,
  serverTime: time,
});

/** POST /v1/auth/check (device call). */
export const checkRequest = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('password'), login: z.string().min(1).max(100), password: z.string().max(256) }),
  z.strictObject({
    kind: z.literal('eds'),
    /** The challenge the server issued (nonce, issuedAt, expiresAt). */
    nonce: z.string().min(16).max(200),
    issuedAt: time,
    expiresAt: time,
    /** The exact bytes signed (core/auth/challenge.ts challengeDocument). */
    signed: base64,
    signature: base64,
    /** The signer's certificate, DER. */
    certificate: base64,
  }),
  z.strictObject({ kind: z.literal('recheck'), userId: id }),
]);
export type CheckRequest = z.infer<typeof checkRequest>;

export const directoryUser = z.strictObject({
  id,
  login: z.string(),
  fullName: z.string(),
  iin: z.string(),
  blocked: z.boolean(),
  mustChangePassword: z.boolean(),
  roles: z.array(
    z.strictObject({
      role: z.enum(ROLES),
      providerId: z.string(),
    }),
  ),
});
/** A user as the central server's directory knows them. */
export type DirectoryUser = z.infer<typeof directoryUser>;

/**
 * A user key (core/auth/change-key.ts): issued at an online login for this
 * user at this device; the workstation authenticates the user's changes with it.
 */
export const userKey = z.strictObject({
  id: z.string().min(16).max(100),
  /** USER_KEY_BYTES random bytes, base64: kept encrypted at rest, never logged. */
  secret: base64,
  issuedAt: time,
  expiresAt: time,
});
export type UserKey = z.infer<typeof userKey>;

export const checkAnswer = z.discriminatedUnion('ok', [
  z.strictObject({
    ok: z.literal(true),
    user: directoryUser,
    /** A fresh key for the user at this device (password and EDS logins; a recheck renews the proof of presence). */
    key: userKey.optional(),
    serverTime: time,
  }),
  z.strictObject({
    ok: z.literal(false),
    reason: z.enum([
      'wrongLoginOrPassword',
      'userNotFound',
      'userBlocked',
      'challengeExpired',
      'signatureInvalid',
      'certificateRejected',
      /** Too many failed password tries of this login: until an administrator unblocks the user. */
      'locked',
    ]),
    /** For certificateRejected: the signer's error code (expired, revoked, notAuthKey, untrusted…). */
    detail: z.string().optional(),
    serverTime: time,
  }),
]);
export type CheckAnswer = z.infer<typeof checkAnswer>;

// ---------------------------------------------------------------------------
// Push

/** One local change, as the outbox holds it. */
export const change = z.strictObject({
  /** Per device, from 1, no gaps. */
  seq: z.number().int().positive(),
  /** See CHANGE_OPS. */
  op: z.string().min(1).max(64),
  entity: z.string().min(1).max(64),
  entityId: id,
  payload: json,
  protocolVersion: z.number().int().positive(),
  schemaVersion: z.number().int().positive(),
  /** The workstation's clock when the change was made: shown, never used for ordering. */
  createdAt: time,
  /** Detached CMS (base64) for signed acts. */
  signature: base64.nullable(),
  /** Who made it: the MAC under its author's user key (core/auth/change-key.ts). Required from protocol 2 on. */
  auth: z
    .strictObject({ keyId: z.string().min(16).max(100), mac: base64.max(100) })
    .nullable()
    .optional(),
});
export type Change = z.infer<typeof change>;

/** POST /v1/push (device call). Changes in ascending `seq`, no gaps inside the batch. */
export const pushRequest = z.strictObject({
  deviceId: z.uuid(),
  protocolVersion: z.number().int().positive(),
  changes: z.array(change).min(1).max(MAX_PUSH_BATCH),
});
export type PushRequest = z.infer<typeof pushRequest>;

export const pushResult = z.strictObject({
  seq: z.number().int().positive(),
  /**
   * applied: done now, in the same transaction that moved the device's last seq;
   * duplicate: at or below the device's last seq (applied or rejected before), skipped;
   * rejected: a business rejection, recorded with its reason; the queue goes on.
   */
  /**
   * deferred: not applied yet for a reason that may pass (the signer's
   * revocation cannot be checked now): last seq stays before it, nothing
   * after it in the batch is looked at, and the workstation sends it again later.
   * The changes after it in the request are answered `deferred` too, with
   * reason 'behind' (not looked at; sent again with it).
   */
  outcome: z.enum(['applied', 'duplicate', 'rejected', 'deferred']),
  /**
   * The server version that holds the change's effect (applied), null
   * otherwise. A duplicate carries what the server recorded the first time
   * (its serverVersion, or its rejection's reason and message), so a client
   * whose answer was lost learns the outcome it missed.
   */
  serverVersion: z.number().int().nullable(),
  /** With `rejected`: one of REJECTION_REASONS (a string: a newer server may have more). */
  reason: z.string().nullable(),
  /** Human detail (English; the workstation shows its own words for `reason`). */
  message: z.string().nullable(),
});
export type PushResult = z.infer<typeof pushResult>;

export const pushAnswer = z.strictObject({
  results: z.array(pushResult),
  /** The device's last seq after this request. */
  lastSeq: z.number().int().nonnegative(),
  serverTime: time,
});
export type PushAnswer = z.infer<typeof pushAnswer>;

// ---------------------------------------------------------------------------
// Pull

export const PULL_ENTITIES = [
  'region',
  'provider',
  'staff',
  'user',
  'service',
  'calendar',
  'crl',
  'application',
  'event',
  'signature',
  'attachment',
] as const;
export type PullEntity = (typeof PULL_ENTITIES)[number];

/**
 * One row of the feed: the latest state of (entity, id) at `version`, or its
 * tombstone (`op: 'delete'`, `data: null`). Versions only grow within a
 * partition; a row appears once per pull even when it changed many times.
 */
export const feedRow = z.strictObject({
  version: z.number().int().positive(),
  entity: z.enum(PULL_ENTITIES),
  id,
  op: z.enum(['upsert', 'delete']),
  data: json,
});
export type FeedRow = z.infer<typeof feedRow>;

/** GET /v1/pull?partition=P&cursor=C&limit=N (device call; cursor absent on the first pull). */
export const pullAnswer = z.strictObject({
  partition: z.string(),
  rows: z.array(feedRow).max(MAX_PULL_LIMIT),
  /** Opaque: the workstation stores it and sends it back, never reads it. */
  cursor: z.string().min(1).max(500),
  /** The highest version in this partition the cursor covers (to compare with a change's serverVersion). */
  version: z.number().int().nonnegative(),
  hasMore: z.boolean(),
  serverTime: time,
});
export type PullAnswer = z.infer<typeof pullAnswer>;

/**
 * GET /v1/snapshot?partition=P (device call): the first sync, as NDJSON, one
 * line per object: a header, the rows (as feed rows, upserts only), a trailer
 * with the cursor to pull from afterwards. A stream cut before the trailer is
 * an incomplete snapshot: the workstation starts it again.
 */
export const snapshotLine = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('header'),
    partition: z.string(),
    rows: z.number().int().nonnegative(),
    serverTime: time,
  }),
  z.strictObject({ kind: z.literal('row'), row: feedRow }),
  z.strictObject({
    kind: z.literal('end'),
    cursor: z.string().min(1).max(500),
    version: z.number().int().nonnegative(),
    count: z.number().int().nonnegative(),
  }),
]);
export type SnapshotLine = z.infer<typeof snapshotLine>;

// ---------------------------------------------------------------------------
// Row shapes of the feed's `data` (the workstation validates each before it writes)

const status = z.enum(STATUSES);
const decision = z.enum(DECISIONS);

export const applicationData = z.strictObject({
  id,
  number: z.string(),
  portalNumber: z.string().nullable(),
  providerId: id,
  serviceCode: z.string(),
  channel: z.enum(CHANNELS),
  applicantIin: z.string(),
  applicantBin: z.string().nullable(),
  applicantName: z.string(),
  regionKato: z.string(),
  locality: z.string(),
  status,
  decision,
  responsibleUserId: z.string().nullable(),
  currentStep: z.string().nullable(),
  submittedAt: time,
  statusChangedAt: time,
  dueAt: time.nullable(),
  formData: z.record(z.string(), z.unknown()),
  refusalReasonCode: z.string().nullable(),
  refusalText: z.string().nullable(),
  reworkComment: z.string().nullable(),
});
export type ApplicationData = z.infer<typeof applicationData>;

/** An event of the server's log of an application (its own hash chain). */
export const eventData = z.strictObject({
  applicationId: id,
  seq: z.number().int().positive(),
  at: time,
  actorUserId: z.string().nullable(),
  action: z.string(),
  fromStatus: status.nullable(),
  toStatus: status.nullable(),
  decision: decision.nullable(),
  comment: z.string().nullable(),
  payload: json,
  /** The device that made it, and its seq there (null for server-made events). */
  deviceId: z.string().nullable(),
  deviceSeq: z.number().int().nullable(),
  prevHash: z.string(),
  hash: z.string(),
});

export const userData = z.strictObject({
  id,
  login: z.string(),
  fullName: z.string(),
  iin: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  positionKk: z.string().nullable(),
  positionRu: z.string().nullable(),
  blocked: z.boolean(),
  mustChangePassword: z.boolean(),
  roles: directoryUser.shape.roles,
});

export const providerData = z.strictObject({
  id,
  bin: z.string(),
  nameKk: z.string(),
  nameRu: z.string(),
  nameEn: z.string(),
  regionKato: z.string(),
  localityKk: z.string(),
  localityRu: z.string(),
  localityEn: z.string(),
});
export const regionData = z.strictObject({
  kato: z.string(),
  nameKk: z.string(),
  nameRu: z.string(),
  nameEn: z.string(),
});
export const staffData = z.strictObject({
  providerId: id,
  userId: id,
  positionKk: z.string(),
  positionRu: z.string(),
  active: z.boolean(),
});
export const signatureData = z.strictObject({
  id,
  applicationId: id,
  format: z.enum(SIGNATURE_FORMATS),
  signed: base64,
  documentSha256: sha256Hex,
  signerIin: z.string().nullable(),
  signerBin: z.string().nullable(),
  signerName: z.string(),
  certificateSha256: sha256Hex,
  keySource: z.string(),
  userId: z.string().nullable(),
  signedAt: time,
  timestampedAt: time.nullable(),
});
export const attachmentData = z.strictObject({
  id,
  applicationId: id,
  documentCode: z.string().nullable(),
  fileName: z.string(),
  mime: z.string(),
  size: z.number().int().nonnegative(),
  sha256: sha256Hex,
  createdAt: time,
});
/** A service definition as resources/services/*.json holds it (validated by core/catalogue/schema.ts). */
export const serviceData = z.strictObject({ code: z.string(), version: z.number().int(), definition: json });
/** A year of the working-day calendar as resources/calendars/*.json holds it (core/calendar/schema.ts). */
export const calendarData = z.strictObject({ year: z.number().int(), definition: json });
/** A CRL the server keeps current; the DER comes from GET /v1/reference/crls/:sha256. */
export const crlData = z.strictObject({
  sha256: sha256Hex,
  issuer: z.string(),
  thisUpdate: time,
  nextUpdate: time.nullable(),
  size: z.number().int().nonnegative(),
});

export const FEED_DATA = {
  region: regionData,
  provider: providerData,
  staff: staffData,
  user: userData,
  service: serviceData,
  calendar: calendarData,
  crl: crlData,
  application: applicationData,
  event: eventData,
  signature: signatureData,
  attachment: attachmentData,
} as const satisfies Record<PullEntity, z.ZodType>;

// ---------------------------------------------------------------------------
// Change payloads: what each op's `payload` holds (as the workstation's
// services queue them). The server validates a change's payload with these;
// one that does not fit is a business rejection `invalid`, not a 400. Loose
// objects: a newer workstation may send more than the server reads.

const role = z.enum(ROLES);
const formValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** application.transition: main/workflow/commands.ts `outbox()`: the event it appended and the row after it. */
export const transitionPayload = z.looseObject({
  event: z.looseObject({
    applicationId: id,
    seq: z.number().int().positive(),
    at: time,
    actorUserId: id,
    action: z.string().min(1).max(64),
    fromStatus: status.nullable(),
    toStatus: status.nullable(),
    decision: decision.nullable(),
    comment: z.string().max(10_000).nullable(),
    payload: z.record(z.string(), z.unknown()).nullable(),
    prevHash: z.string(),
    hash: z.string(),
  }),
  application: z.looseObject({
    id,
    version: z.number().int(),
    status,
    decision,
    responsibleUserId: id.nullable(),
    currentStep: z.string().nullable(),
    dueAt: time.nullable(),
    statusChangedAt: time,
    refusalReasonCode: z.string().nullable(),
    refusalText: z.string().max(10_000).nullable(),
    reworkComment: z.string().max(10_000).nullable(),
    /** Only the fields the action changed (save, commission). */
    formData: z.record(z.string(), formValue).optional(),
  }),
});

/** application.create: the new application (status received) and who took it in. */
export const applicationCreatePayload = applicationData.extend({ actorUserId: id });

/** signature.add: main/signing/service.ts `store()`; who signed is read from the signature's own certificate. */
export const signatureAddPayload = z.looseObject({
  id,
  applicationId: id,
  format: z.enum(SIGNATURE_FORMATS),
  documentSha256: sha256Hex,
  certificateSha256: sha256Hex,
  signedAt: time,
  signed: base64,
  /** The user who signed (when the workstation says; it must be the certificate's holder). */
  userId: id.optional(),
  keySource: z.string().max(64).optional(),
  timestampedAt: time.nullable().optional(),
});

/** user.profile: main/profile/profile.ts. */
export const userProfilePayload = z.looseObject({
  id,
  fullName: z.string().trim().min(1).max(300),
  email: z.string().max(300).nullable(),
  phone: z.string().max(100).nullable(),
  positionKk: z.string().max(300).nullable(),
  positionRu: z.string().max(300).nullable(),
  updatedAt: time.optional(),
});

/** user.passwordChange: main/auth/service.ts (the scrypt hash, never the password). */
export const passwordChangePayload = z.looseObject({
  userId: id,
  passwordHash: z.string().max(400),
  changedAt: time.optional(),
});

/** user.setRoles: main/auth/admin.ts (the user's whole set of roles after the change). */
export const setRolesPayload = z.looseObject({
  userId: id,
  roles: z.array(z.strictObject({ role, providerId: z.string().max(200) })).max(100),
  by: id,
});

/** user.passwordReset: main/auth/admin.ts. */
export const passwordResetPayload = z.looseObject({
  userId: id,
  passwordHash: z.string().max(400),
  mustChangePassword: z.boolean(),
  resetAt: time.optional(),
  by: id,
});

/** user.block, user.unblock: main/auth/admin.ts. */
export const blockPayload = z.looseObject({ userId: id, by: id });

// ---------------------------------------------------------------------------
// Attachments: chunked, resumable, addressed by SHA-256 (device calls)
//
// POST /v1/attachments/:sha256         {size, mime} -> status (opens or resumes this device's own upload;
//                                         complete when the device's office may read the content already)
// GET  /v1/attachments/:sha256         -> status; 404 not_found when it has no upload and may not read it
// PUT  /v1/attachments/:sha256?offset=N   body: raw bytes (<= MAX_CHUNK_BYTES), offset must equal `received`
//                                      -> status; when received == size the server hashes the whole:
//                                         a mismatch is 422 digest_mismatch and the upload starts over
// GET  /v1/attachments/:sha256/content -> the bytes (Range: bytes=a-b honoured), to an office that may read them
//
// Possession is proved by sending the content whole, exactly as a new upload (content another office
// stored is sent again; its last chunk makes this office a holder): the server compares only the
// digest of the whole. Content a device may not read is answered exactly as content that is not here.
// Every call spends a token of the device's rate limit: 429 rate_limited with Retry-After.

export const attachmentStart = z.strictObject({
  size: z
    .number()
    .int()
    .positive()
    .max(512 * 1024 * 1024),
  mime: z.string().min(1).max(200),
});
export const attachmentStatus = z.strictObject({
  sha256: sha256Hex,
  size: z.number().int().nonnegative(),
  received: z.number().int().nonnegative(),
  complete: z.boolean(),
  serverTime: time,
});

// ---------------------------------------------------------------------------
// Reference data (device calls): also in the global partition's feed; these are for a direct read.
//
// GET /v1/reference/users | staff | services | calendars | refusal-reasons | crls
// GET /v1/reference/crls/:sha256 -> the CRL, DER

export const referenceAnswer = z.strictObject({ kind: z.string(), items: z.array(json), serverTime: time });
export const refusalReason = z.strictObject({
  serviceCode: z.string(),
  code: z.string(),
  name: z.strictObject({ kk: z.string(), ru: z.string(), en: z.string() }),
});

// ---------------------------------------------------------------------------
// Look-ups (device calls), behind the server's adapter (standing in for the
// state databases and the notary system behind the e-government gateway)
//
// GET /v1/lookup/individual/:iin
// GET /v1/lookup/legal-entity/:bin
// GET /v1/lookup/powers-of-attorney?principal=IIN | agent=IIN | number=N
// A malformed IIN/BIN (checksum) is 400 bad_request; an unknown one 404 not_found.

export const individualAnswer = z.strictObject({
  iin: z.string(),
  surname: z.string(),
  givenName: z.string(),
  patronymic: z.string().nullable(),
  birthDate: z.string(),
  sex: z.enum(['male', 'female']),
  address: z.string().nullable(),
  serverTime: time,
});
export const legalEntityAnswer = z.strictObject({
  bin: z.string(),
  nameKk: z.string(),
  nameRu: z.string(),
  headIin: z.string().nullable(),
  headName: z.string().nullable(),
  address: z.string().nullable(),
  registeredAt: z.string(),
  serverTime: time,
});
export const powerOfAttorney = z.strictObject({
  number: z.string(),
  principalIin: z.string(),
  agentIin: z.string(),
  scope: z.string(),
  issuedAt: z.string(),
  validUntil: z.string(),
  revoked: z.boolean(),
  notary: z.string(),
});
export const powersOfAttorneyAnswer = z.strictObject({ items: z.array(powerOfAttorney), serverTime: time });
