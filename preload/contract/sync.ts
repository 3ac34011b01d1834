/**
 * Sync calls of the top bar and the sync panel: merged into the contract in
 * preload/api.ts. `sync.status` (in api.ts) is the top bar's poll; these are
 * the panel's: what is under way, the changes the server rejected (with the
 * choice to retry or discard them), enrolment of this workstation, and
 * "sync now".
 */
import { z } from 'zod';
import type { CallSpec } from './call.js';

const time = z.number().int().nonnegative();

/** What the engine is doing now, with progress for long pulls and pushes. */
export const syncActivity = z.strictObject({
  phase: z.enum(['idle', 'pushing', 'pulling', 'snapshot', 'waiting']),
  /** Rows or changes done and (when known) expected in this run. */
  done: z.int().min(0),
  total: z.int().min(0).nullable(),
  /** The partition being pulled (null while pushing or idle). */
  partition: z.string().nullable(),
  /** When the next attempt runs after a failure (backoff), else null. */
  retryAt: time.nullable(),
  /** Consecutive failures behind the current backoff. */
  failures: z.int().min(0),
});
export type SyncActivity = z.infer<typeof syncActivity>;

/** A local change the server refused for a business reason. */
export const rejectedChange = z.strictObject({
  seq: z.int().positive(),
  op: z.string(),
  entity: z.string(),
  entityId: z.string(),
  /** The application's number when the change concerns one (for the person reading the list). */
  applicationNumber: z.string().nullable(),
  /** Stable code (protocol.ts pushResult.reason): reassigned, notAllowed, notFound, forbidden, invalid… */
  reason: z.string(),
  /** The server's detail, as it sent it. */
  message: z.string().nullable(),
  createdAt: time,
  rejectedAt: time,
});
export type RejectedChange = z.infer<typeof rejectedChange>;

export const syncDetails = z.strictObject({
  enrolled: z.boolean(),
  deviceId: z.string(),
  /** The office this workstation is enrolled in (provider id), null before enrolment. */
  providerId: z.string().nullable(),
  /** That office's name in the three languages, once the directory has come with the first sync. */
  providerName: z.strictObject({ kk: z.string(), ru: z.string(), en: z.string() }).nullable(),
  activity: syncActivity,
  /** Estimated offset of this workstation's clock from the server's (ms, + = ahead); null before the first answer. */
  clockSkewMs: z.int().nullable(),
  /** True when the offset is over 5 minutes: shown in the top bar and the panel. */
  clockOff: z.boolean(),
  partitions: z.array(
    z.strictObject({
      partition: z.string(),
      lastPullAt: time.nullable(),
      /** Server version the local copy has reached. */
      version: z.int().min(0).nullable(),
    }),
  ),
  rejected: z.array(rejectedChange),
  /** Changes sent and applied, all time (for the panel's counters). */
  sentCount: z.int().min(0),
  lastPushAt: time.nullable(),
  /**
   * The queue waits for this user to log in online at this workstation: their
   * change cannot go without the proof an online login brings (null: nothing waits).
   */
  waitingForLogin: z.strictObject({ userId: z.string(), fullName: z.string().nullable() }).nullable().optional(),
});
export type SyncDetails = z.infer<typeof syncDetails>;

const noInput = z.strictObject({});

export const syncContract = {
  'sync.details': { kind: 'poll', input: noInput, output: syncDetails },
  /** Push and pull now (the timer would anyway); answers when this run ends. */
  'sync.now': { kind: 'write', input: noInput, output: syncDetails },
  /** Queue a rejected change again (after the cause was fixed, e.g. reassigned back), as a new change at the end. */
  'sync.retry': { kind: 'write', input: z.strictObject({ seq: z.int().positive() }), output: syncDetails },
  /** Give a rejected change up; the discard itself is recorded and sent to the server. */
  'sync.discard': {
    kind: 'write',
    input: z.strictObject({ seq: z.int().positive(), comment: z.string().max(1000).optional() }),
    output: syncDetails,
  },
  /** Enrol this workstation in an office with an administrator's credentials (the password is not kept). */
  'sync.enrol': {
    kind: 'write',
    input: z.strictObject({
      providerId: z.string().min(1).max(200),
      login: z.string().min(1).max(100),
      password: z.string().min(1).max(256),
      name: z.string().min(1).max(200).optional(),
    }),
    output: syncDetails,
  },
} as const satisfies Record<string, CallSpec>;
