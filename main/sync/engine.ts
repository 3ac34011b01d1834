/**
 * The workstation's sync engine: push then pull, one run at a time, on a
 * timer (every 30 s by default), soon after a local write, and on demand
 * ("sync now"). Failures of the server or the way to it back off with full
 * jitter (a random wait up to base·2^n, capped) and the retry timer runs by
 * itself, without waiting for a new local write. A revoked device stops
 * syncing with a clear error and keeps its outbox.
 *
 * Also what the top bar and the sync panel show (SyncStatus, SyncDetails),
 * the person's choices for rejected changes (retry as a new change, or
 * discard, which is itself recorded and sent), enrolment, and the device's
 * access token for the login's HTTP client.
 *
 * It keeps the user keys online logins bring (user-keys.ts) and pushes each
 * change with its author's proof; a queue that waits for a user's online
 * login here says so (status `waiting_login: <name>`, details.waitingForLogin),
 * a change the server deferred is a failure with the usual backoff.
 */
import { createHash } from 'node:crypto';
import type { UserKey } from '#core/protocol.js';
import type Database from 'better-sqlite3';
import type { SyncStatus } from '#preload/api.js';
import type { RejectedChange, SyncActivity, SyncDetails } from '#preload/contract/sync.js';
import { PROTOCOL_VERSION } from '#core/protocol.js';
import { SCHEMA_VERSION } from '#core/protocol.js';
import { FeedApplier } from './apply.js';
import { SyncClient, SyncError, SyncStopped } from './client.js';
import { DeviceCredentials, fileSecretBox, type EnrolInput, type Enrolment, type SecretBox } from './credentials.js';
import { pullPartition, resumeJournalIndexing, type PullProgress } from './pull.js';
import { pendingCount, pushPending, type PushSummary } from './push.js';
import { UserKeys } from './user-keys.js';

export { httpHealthProbe, type HealthProbe } from './status.js';

/** A clock further than this from the server's is shown as off. */
export const CLOCK_OFF_MS = 5 * 60_000;

export type SyncLog = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface SyncEngineOptions {
  sqlite: Database.Database;
  /** The central server; null: nothing syncs (status says so). */
  serverUrl: string | null;
  /** Seals the device secret; default: fileSecretBox(dataDir). */
  secretBox?: SecretBox;
  /** Where the default SecretBox keeps its key. */
  dataDir: string;
  now?: () => number;
  fetch?: typeof fetch;
  log?: SyncLog;
  /** Full-jitter backoff after failures: a wait in [0, min(capMs, baseMs·2^(n−1))]. Default 1 s and 5 min. */
  backoff?: { baseMs: number; capMs: number };
  /** [0, 1) for the jitter; default Math.random. */
  random?: () => number;
  /** Between runs when all is well. Default 30 s. */
  intervalMs?: number;
  /** After a local write, a push this soon (writes within it share the run). Default 1 s. */
  pushDebounceMs?: number;
  /** How often the outbox is looked at for new local writes. Default 2 s; 0: never (call `changed()`). */
  watchOutboxMs?: number;
  /** Limit of one request. Default 30 s. */
  requestTimeoutMs?: number;
  pullPageSize?: number;
  pushBatchSize?: number;
  snapshotBatchRows?: number;
  /** A snapshot of at least this many rows loads with the journal triggers off. */
  bulkThreshold?: number;
}

export type SyncListener = () => void;

interface Fault {
  error: Error;
  at: number;
}

/** The server deferred a change: tried again after the backoff. */
export class PushDeferred extends Error {
  constructor(
    readonly reason: string | null,
    readonly detail: string | null,
  ) {
    super(`the server deferred a change${reason ? ` (${reason})` : ''}${detail ? `: ${detail}` : ''}`);
    this.name = 'PushDeferred';
  }
}

export class SyncEngine {
  private readonly now: () => number;
  private readonly client: SyncClient | null;
  private readonly credentials: DeviceCredentials | null;
  private readonly keys: UserKeys | null;
  private readonly applier: FeedApplier;
  private readonly listeners = new Set<SyncListener>();
  private readonly backoff: { baseMs: number; capMs: number };
  private readonly random: () => number;

  private running: Promise<void> | null = null;
  private started = false;
  private stopping = false;
  private timer: NodeJS.Timeout | null = null;
  private nextRunAt: number | null = null;
  private watcher: NodeJS.Timeout | null = null;
  private lastOutboxSeq = 0;
  /** A local write came during a run: the next run comes soon, not after the interval. */
  private dirty = false;
  private online = false;
  private clockSkewMs: number | null = null;
  private lastError: string | null = null;
  private fault: Fault | null = null;
  /** The user the queue waits for (their online login here), from the last push. */
  private waitingFor: string | null = null;
  private activity: SyncActivity = { phase: 'idle', done: 0, total: null, partition: null, retryAt: null, failures: 0 };

  constructor(private readonly o: SyncEngineOptions) {
    this.now = o.now ?? Date.now;
    this.backoff = o.backoff ?? { baseMs: 1_000, capMs: 5 * 60_000 };
    this.random = o.random ?? Math.random;
    this.applier = new FeedApplier(o.sqlite, this.now);
    this.client = o.serverUrl
      ? new SyncClient({
          serverUrl: o.serverUrl,
          fetch: o.fetch,
          now: this.now,
          timeoutMs: o.requestTimeoutMs,
          onClock: (offset) => {
            this.clockSkewMs = offset;
          },
          onReach: (reached) => {
            this.online = reached;
          },
        })
      : null;
    const secretBox = this.client ? (o.secretBox ?? fileSecretBox(o.dataDir)) : null;
    this.keys = secretBox ? new UserKeys(o.sqlite, secretBox, this.now) : null;
    this.credentials =
      this.client && secretBox
        ? new DeviceCredentials({
            sqlite: o.sqlite,
            client: this.client,
            secretBox,
            now: this.now,
            onRevoked: (reason) => {
              this.lastError = `revoked: ${reason}`;
              this.log('warn', `sync: the server revoked this workstation; sync stops until it is enrolled again`);
              this.emit();
            },
          })
        : null;
    // A snapshot cut by a crash left the journal's triggers off: back on (with the rebuild) before anything reads it.
    if (resumeJournalIndexing(o.sqlite)) this.log('warn', 'sync: journal index rebuilt after an interrupted snapshot');
    const row = o.sqlite.prepare('SELECT last_error AS e, clock_skew_ms AS skew FROM sync_state LIMIT 1').get() as
      { e: string | null; skew: number | null } | undefined;
    this.lastError = row?.e ?? null;
    this.clockSkewMs = row?.skew ?? null;
    this.lastOutboxSeq = this.maxOutboxSeq();
  }

  /** Runs now and then on the timer; watches the outbox for local writes. Timers do not keep the process alive. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.schedule(0);
    const every = this.o.watchOutboxMs ?? 2_000;
    if (every > 0) {
      this.watcher = setInterval(() => this.watchOutbox(), every);
      this.watcher.unref();
    }
  }

  /** Stops the timers and waits for the run in flight (it stops between batches and pages). */
  async stop(): Promise<void> {
    this.started = false;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.watcher) clearInterval(this.watcher);
    this.timer = null;
    this.watcher = null;
    this.nextRunAt = null;
    await this.running?.catch(() => undefined);
    this.stopping = false;
  }

  /** Push then pull. One run at a time: a caller during a run gets that run. Never rejects: see status(). */
  runOnce(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = null;
      this.emit();
      if (this.started) this.scheduleAfterRun();
    });
    return this.running;
  }

  /**
   * "Sync now": a run that starts now. A run already under way may have begun
   * before the connection came back, so it is waited for and another follows.
   */
  async runNow(): Promise<void> {
    if (this.running) await this.running;
    await this.runOnce();
  }

  /** A local change was written: push soon (unless a backoff is waiting). */
  changed(): void {
    this.lastOutboxSeq = this.maxOutboxSeq();
    if (this.running) this.dirty = true;
    if (!this.started || this.activity.retryAt !== null) return;
    const at = this.now() + (this.o.pushDebounceMs ?? 1_000);
    if (this.nextRunAt !== null && this.nextRunAt <= at) return;
    this.schedule(this.o.pushDebounceMs ?? 1_000);
  }

  enrolled(): boolean {
    return this.credentials?.enrolled() ?? false;
  }

  /** Enrols this workstation (the password goes to the server only), then syncs. */
  async enrol(input: EnrolInput): Promise<SyncDetails> {
    if (!this.credentials) throw new SyncError('network', 'no central server is configured');
    await this.running?.catch(() => undefined);
    try {
      await this.credentials.enrol(input);
    } catch (e) {
      // Shown where the person enrols; no backoff: nothing retries an enrolment by itself.
      this.lastError = e instanceof SyncError ? `${e.kind}: ${e.message}` : `error: ${String(e)}`;
      this.emit();
      throw e;
    }
    this.lastError = null;
    this.fault = null;
    this.activity = { ...this.activity, failures: 0, retryAt: null };
    this.persistHealth();
    this.log('info', `sync: enrolled in ${input.providerId}`);
    this.emit();
    if (this.started) this.schedule(0);
    return this.details();
  }

  /**
   * Keeps the user key an online login of `userId` here brought (sealed);
   * the changes that waited for it go with the next push, which comes soon.
   */
  keepUserKey(userId: string, key: UserKey): void {
    if (!this.keys || !this.credentials) return;
    this.keys.keep(userId, this.credentials.deviceId(), key);
    if (this.waitingFor === userId) {
      this.waitingFor = null;
      if (this.lastError?.startsWith('waiting_login:')) this.lastError = null;
      this.emit();
    }
    this.changed();
  }

  /** Whether `userId` holds a usable user key here (their changes can go). */
  hasUserKey(userId: string): boolean {
    return this.keys !== null && this.credentials !== null && this.keys.has(userId, this.credentials.deviceId());
  }

  /** Push (and pull) now, without waiting for it: e.g. an administrator's change that must reach the server while they are online. */
  pushSoon(): void {
    void this.runNow();
  }

  accessToken(): Promise<string> {
    if (!this.credentials) return Promise.reject(new SyncError('network', 'no central server is configured'));
    return this.credentials.accessToken();
  }

  refreshToken(): Promise<string> {
    if (!this.credentials) return Promise.reject(new SyncError('network', 'no central server is configured'));
    return this.credentials.refreshToken();
  }

  /** Called after each run and on state changes (enrolment, revocation, retry, discard). */
  onChange(listener: SyncListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The last run's failure, if it failed (for logs and tests). */
  lastFailure(): Error | null {
    return this.fault?.error ?? null;
  }

  /** The office this workstation is enrolled in (null before enrolment). */
  providerId(): string | null {
    return this.credentials?.enrolment()?.providerId ?? null;
  }

  deviceId(): string | null {
    return this.credentials?.deviceId() ?? null;
  }

  status(): SyncStatus {
    const db = this.o.sqlite;
    const q = db
      .prepare("SELECT count(*) AS n, min(created_at) AS oldest FROM outbox WHERE state = 'pending'")
      .get() as {
      n: number;
      oldest: number | null;
    };
    const last = db
      .prepare('SELECT max(max(coalesce(last_push_at, 0), coalesce(last_pull_at, 0))) AS last FROM sync_state')
      .get() as { last: number | null };
    const rejected = db.prepare("SELECT count(*) AS n FROM outbox WHERE state = 'rejected'").get() as { n: number };
    return {
      online: this.online,
      serverUrl: this.o.serverUrl,
      queueDepth: q.n,
      oldestPendingAt: q.oldest,
      lastSyncAt: last.last ? last.last : null,
      lastError: this.lastError,
      enrolled: this.enrolled(),
      phase: this.activity.phase,
      rejectedCount: rejected.n,
      clockOff: this.clockOff(),
    };
  }

  details(): SyncDetails {
    const db = this.o.sqlite;
    const enrolment: Enrolment | null = this.credentials?.enrolment() ?? null;
    const partitions = db
      .prepare('SELECT partition, last_pull_at AS lastPullAt, version FROM sync_state ORDER BY partition')
      .all() as { partition: string; lastPullAt: number | null; version: number | null }[];
    const rejected = db
      .prepare(
        `SELECT o.seq, o.op, o.entity, o.entity_id AS entityId, a.number AS applicationNumber,
            coalesce(o.reject_reason, 'rejected') AS reason, o.reject_message AS message, o.created_at AS createdAt,
            coalesce(o.rejected_at, o.created_at) AS rejectedAt
          FROM outbox o LEFT JOIN applications a ON o.entity = 'application' AND a.id = o.entity_id
         WHERE o.state = 'rejected' ORDER BY o.seq`,
      )
      .all() as RejectedChange[];
    const sent = db
      .prepare("SELECT count(*) AS n, max(sent_at) AS lastPushAt FROM outbox WHERE state = 'sent'")
      .get() as {
      n: number;
      lastPushAt: number | null;
    };
    const pushed = db.prepare('SELECT max(last_push_at) AS at FROM sync_state').get() as { at: number | null };
    const providerId = enrolment?.providerId ?? null;
    const office = providerId
      ? (db
          .prepare('SELECT name_kk AS kk, name_ru AS ru, name_en AS en FROM providers WHERE id = ?')
          .get(providerId) as { kk: string; ru: string; en: string } | undefined)
      : undefined;
    return {
      enrolled: this.enrolled(),
      deviceId: this.credentials?.deviceId() ?? '',
      providerId,
      providerName: office ?? null,
      activity: { ...this.activity },
      clockSkewMs: this.clockSkewMs,
      clockOff: this.clockOff(),
      partitions,
      rejected,
      sentCount: sent.n,
      lastPushAt: pushed.at ?? sent.lastPushAt,
      waitingForLogin: this.waitingFor ? { userId: this.waitingFor, fullName: this.userName(this.waitingFor) } : null,
    };
  }

  /** Queues a rejected change again as a new change at the end; the old row is marked retried (not listed again). */
  retry(seq: number): SyncDetails {
    const db = this.o.sqlite;
    db.transaction(() => {
      this.rejectedRow(seq);
      const now = this.now();
      const added = db
        .prepare(
          `INSERT INTO outbox (op, entity, entity_id, payload, protocol_version, schema_version, signature, created_at)
           SELECT op, entity, entity_id, payload, protocol_version, schema_version, signature, ? FROM outbox WHERE seq = ?`,
        )
        .run(now, seq);
      db.prepare("UPDATE outbox SET state = 'retried', retried_as = ?, resolved_at = ? WHERE seq = ?").run(
        Number(added.lastInsertRowid),
        now,
        seq,
      );
    }).immediate();
    this.log('info', `sync: rejected change ${seq} queued again`);
    this.changed();
    this.emit();
    return this.details();
  }

  /**
   * Gives a rejected change up: marked discarded, and a 'change.discard'
   * row written in the same transaction, so the discard itself reaches the
   * server (with who discarded it when given, and the comment).
   */
  discard(seq: number, comment?: string, actorUserId?: string | null): SyncDetails {
    const db = this.o.sqlite;
    db.transaction(() => {
      const row = this.rejectedRow(seq);
      const now = this.now();
      db.prepare("UPDATE outbox SET state = 'discarded', resolved_at = ? WHERE seq = ?").run(now, seq);
      const payload = {
        seq: row.deviceSeq,
        localSeq: row.seq,
        op: row.op,
        entity: row.entity,
        entityId: row.entityId,
        reason: row.reason,
        comment: comment?.trim() ? comment.trim() : null,
        actorUserId: actorUserId ?? null,
        discardedAt: now,
      };
      db.prepare(
        `INSERT INTO outbox (op, entity, entity_id, payload, protocol_version, schema_version, created_at)
         VALUES ('change.discard', 'change', ?, ?, ?, ?, ?)`,
      ).run(String(row.deviceSeq ?? row.seq), JSON.stringify(payload), PROTOCOL_VERSION, SCHEMA_VERSION, now);
    }).immediate();
    this.log('info', `sync: rejected change ${seq} discarded`);
    this.changed();
    this.emit();
    return this.details();
  }

  // -------------------------------------------------------------------------

  private userName(userId: string): string | null {
    const row = this.o.sqlite.prepare('SELECT full_name AS name FROM users WHERE id = ?').get(userId) as
      { name: string } | undefined;
    return row?.name ?? null;
  }

  private rejectedRow(seq: number): {
    seq: number;
    deviceSeq: number | null;
    op: string;
    entity: string;
    entityId: string;
    reason: string | null;
  } {
    const row = this.o.sqlite
      .prepare(
        `SELECT seq, device_seq AS deviceSeq, op, entity, entity_id AS entityId, reject_reason AS reason, state
           FROM outbox WHERE seq = ?`,
      )
      .get(seq) as
      | {
          seq: number;
          deviceSeq: number | null;
          op: string;
          entity: string;
          entityId: string;
          reason: string | null;
          state: string;
        }
      | undefined;
    if (!row) throw new SyncError('rejected-request', `no change ${seq} in the outbox`);
    if (row.state !== 'rejected')
      throw new SyncError('rejected-request', `change ${seq} is ${row.state}, not rejected`);
    return row;
  }

  private async run(): Promise<void> {
    if (!this.client || !this.credentials || !this.keys) return;
    const keys = this.keys;
    if (!this.credentials.enrolled()) {
      // Not enrolled (or revoked): only the health check, for "online" and the clock.
      try {
        await this.client.health();
      } catch {
        // online is false now; nothing else to do.
      }
      this.persistHealth();
      return;
    }
    const credentials = this.credentials;
    const client = this.client;
    this.dirty = false;
    const shouldStop = () => this.stopping;
    try {
      this.setActivity({ phase: 'pushing', done: 0, total: pendingCount(this.o.sqlite), partition: null });
      // A push refused by the server (5xx, a bad batch) does not keep the office's news away: the pull goes on.
      let pushed: PushSummary | null = null;
      const pushFailure = await pushPending({
        sqlite: this.o.sqlite,
        client,
        credentials,
        applier: this.applier,
        keys,
        now: this.now,
        batchSize: this.o.pushBatchSize,
        shouldStop,
        log: (m) => this.log('warn', m),
        onProgress: (done, total) => this.setActivity({ phase: 'pushing', done, total, partition: null }),
      }).then(
        (summary) => {
          pushed = summary;
          this.waitingFor = summary.waitingFor;
          return null;
        },
        (e: unknown) => {
          if (!(e instanceof SyncError) || e.kind === 'network' || e.kind === 'timeout' || e.kind === 'revoked')
            throw e;
          return e;
        },
      );
      const enrolment = credentials.enrolment();
      for (const partition of enrolment?.partitions ?? []) {
        if (this.stopping) break;
        this.setActivity({ phase: 'pulling', done: 0, total: null, partition });
        await pullPartition(
          {
            sqlite: this.o.sqlite,
            client,
            credentials,
            applier: this.applier,
            now: this.now,
            pageSize: this.o.pullPageSize,
            snapshotBatchRows: this.o.snapshotBatchRows,
            bulkThreshold: this.o.bulkThreshold,
            shouldStop,
            onProgress: (p: PullProgress) =>
              this.setActivity({
                phase: p.phase === 'snapshot' ? 'snapshot' : 'pulling',
                done: p.done,
                total: p.total,
                partition,
              }),
          },
          partition,
        );
      }
      if (!this.stopping) await this.fetchCrls(client, credentials);
      if (pushFailure) throw pushFailure;
      const deferred = (pushed as PushSummary | null)?.deferred;
      if (deferred) throw new PushDeferred(deferred.reason, deferred.message);
      this.fault = null;
      this.lastError = this.waitingFor ? `waiting_login: ${this.userName(this.waitingFor) ?? this.waitingFor}` : null;
      this.activity = { phase: 'idle', done: 0, total: null, partition: null, retryAt: null, failures: 0 };
    } catch (e) {
      if (e instanceof SyncStopped) this.activity = { ...this.activity, phase: 'idle', partition: null };
      else this.recordFailure(e);
    } finally {
      this.persistHealth();
    }
  }

  /** The DER of CRLs the feed announced, for offline certificate checks; checked against their SHA-256. */
  private async fetchCrls(client: SyncClient, credentials: DeviceCredentials): Promise<void> {
    const missing = this.o.sqlite
      .prepare('SELECT sha256 FROM sync_crls WHERE der IS NULL LIMIT 20')
      .pluck()
      .all() as string[];
    for (const sha256 of missing) {
      const der = await credentials.authorized((token) => client.bytes(token, `/v1/reference/crls/${sha256}`));
      if (createHash('sha256').update(der).digest('hex') !== sha256) {
        throw new SyncError('malformed', `the CRL ${sha256.slice(0, 12)}… does not match its digest`);
      }
      this.o.sqlite.prepare('UPDATE sync_crls SET der = ? WHERE sha256 = ?').run(der, sha256);
    }
  }

  private recordFailure(e: unknown): void {
    const error = e instanceof Error ? e : new Error(String(e));
    const failures = this.activity.failures + 1;
    this.fault = { error, at: this.now() };
    if (e instanceof SyncError && e.kind === 'revoked') {
      this.lastError = `revoked: ${e.message}`;
      this.activity = { phase: 'idle', done: 0, total: null, partition: null, retryAt: null, failures };
      this.log('warn', `sync: ${e.message}`);
      return;
    }
    const delay = this.backoffDelay(failures);
    this.lastError =
      e instanceof SyncError
        ? `${e.kind}: ${e.message}`
        : e instanceof PushDeferred
          ? `deferred: ${[e.reason, e.detail].filter(Boolean).join(': ')}`
          : `error: ${error.message}`;
    this.activity = { phase: 'waiting', done: 0, total: null, partition: null, retryAt: this.now() + delay, failures };
    this.log(
      e instanceof SyncError && e.transient ? 'warn' : 'error',
      `sync: ${this.lastError} (retry in ${delay} ms)`,
    );
  }

  /** Full jitter: uniform in [0, min(cap, base·2^(failures−1))]. */
  private backoffDelay(failures: number): number {
    const ceiling = Math.min(this.backoff.capMs, this.backoff.baseMs * 2 ** Math.min(failures - 1, 30));
    return Math.round(this.random() * ceiling);
  }

  private scheduleAfterRun(): void {
    if (!this.enrolled() && this.credentials?.enrolment()?.revokedAt) {
      // Revoked: nothing to retry until someone enrols again (enrol() restarts the timer).
      this.timer = null;
      this.nextRunAt = null;
      return;
    }
    const retryAt = this.activity.retryAt;
    const soon = this.dirty ? (this.o.pushDebounceMs ?? 1_000) : (this.o.intervalMs ?? 30_000);
    this.dirty = false;
    this.schedule(retryAt !== null ? Math.max(0, retryAt - this.now()) : soon);
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    this.nextRunAt = this.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.nextRunAt = null;
      if (this.running) {
        // A run is under way (sync now): the next is scheduled when it ends.
        return;
      }
      void this.runOnce();
    }, delayMs);
    this.timer.unref();
  }

  private watchOutbox(): void {
    const top = this.maxOutboxSeq();
    if (top > this.lastOutboxSeq) this.changed();
  }

  private maxOutboxSeq(): number {
    return (this.o.sqlite.prepare('SELECT coalesce(max(seq), 0) AS m FROM outbox').get() as { m: number }).m;
  }

  private clockOff(): boolean {
    return this.clockSkewMs !== null && Math.abs(this.clockSkewMs) > CLOCK_OFF_MS;
  }

  private setActivity(a: Pick<SyncActivity, 'phase' | 'done' | 'total' | 'partition'>): void {
    this.activity = { ...this.activity, ...a };
    this.emit();
  }

  /** Last error and clock offset kept in sync_state (read back at the next start). */
  private persistHealth(): void {
    this.o.sqlite
      .prepare('UPDATE sync_state SET last_error = ?, last_error_at = ?, clock_skew_ms = ?')
      .run(this.lastError, this.lastError ? (this.fault?.at ?? this.now()) : null, this.clockSkewMs);
  }

  private emit(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch (e) {
        this.log('error', `sync: a listener failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private log(level: 'info' | 'warn' | 'error', message: string): void {
    this.o.log?.(level, message);
  }
}
