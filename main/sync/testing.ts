/**
 * Test fixtures of sync: a workstation (a real database opened with its
 * migrations in a temporary folder, the real SyncEngine, the WorkflowService
 * for local changes) and an application taken in at its counter (the local
 * row with its `received` event and an 'application.create' outbox row, as
 * intake writes them).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase, type OpenedDatabase } from '#db/connection.js';
import { SCHEMA_VERSION, type UserKey } from '#core/protocol.js';
import { USER_KEY_TTL_MS } from '#core/auth/change-key.js';
import { PROTOCOL_VERSION } from '#core/protocol.js';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { weekendOnlyCalendar } from '#core/workflow/deadlines.js';
import { WorkflowService } from '../workflow/service.js';
import { EMPLOYMENT, insertApplication, SERVICES } from '../workflow/testing.js';
import { HttpOnlineAuth } from '../auth/online-http.js';
import { SyncEngine, type SyncEngineOptions } from './engine.js';

export interface Workstation {
  dir: string;
  database: OpenedDatabase;
  sqlite: Database.Database;
  engine: SyncEngine;
  service: WorkflowService;
  logs: string[];
  /** Enrols in the demo's employment office with the system administrator's credentials. */
  enrol(providerId?: string): Promise<void>;
  /**
   * Logs these users in online at this workstation (POST /v1/auth/check with
   * their password, default the demo one) and keeps the user key each login
   * brings, as the app's login does: their changes can be pushed from now on.
   */
  loginOnline(logins: readonly string[], password?: string): Promise<void>;
  close(): Promise<void>;
}

export type WorkstationOptions = Partial<Omit<SyncEngineOptions, 'sqlite' | 'dataDir'>> & { serverUrl: string };

export async function openWorkstation(options: WorkstationOptions): Promise<Workstation> {
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-sync-'));
  const now = options.now ?? Date.now;
  const database = await openDatabase(join(dir, 'qyzmet.db'), { now });
  const logs: string[] = [];
  const engine = new SyncEngine({
    backoff: { baseMs: 50, capMs: 500 },
    watchOutboxMs: 0,
    log: (level, message) => logs.push(`${level} ${message}`),
    ...options,
    sqlite: database.sqlite,
    dataDir: dir,
  });
  const service = new WorkflowService({
    sqlite: database.sqlite,
    services: SERVICES,
    calendar: weekendOnlyCalendar(),
    now,
  });
  return {
    dir,
    database,
    sqlite: database.sqlite,
    engine,
    service,
    logs,
    enrol: async (providerId = EMPLOYMENT.provider) => {
      await engine.enrol({ providerId, login: 'admin.demo', password: DEMO_PASSWORD, name: 'test workstation' });
    },
    loginOnline: (logins, password = DEMO_PASSWORD) =>
      loginOnline(engine, options.serverUrl, logins, password, options.fetch),
    close: async () => {
      await engine.stop();
      database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Logs users in online at the enrolled workstation of `engine` (POST
 * /v1/auth/check with their password) and keeps the user key each login
 * brings, as the app's login does. Throws when a login brings no key.
 */
export async function loginOnline(
  engine: SyncEngine,
  serverUrl: string,
  logins: readonly string[],
  password = DEMO_PASSWORD,
  fetchFn?: typeof fetch,
): Promise<void> {
  const online = new HttpOnlineAuth({
    baseUrl: serverUrl,
    accessToken: () => engine.accessToken(),
    refreshToken: () => engine.refreshToken(),
    ...(fetchFn ? { fetch: fetchFn } : {}),
  });
  const deviceId = engine.deviceId() ?? '';
  for (const login of logins) {
    const verdict = await online.check({ kind: 'password', deviceId, login, password: Buffer.from(password) });
    if (!verdict.ok || !verdict.key) throw new Error(`online login of ${login} brought no user key`);
    engine.keepUserKey(verdict.user.id, verdict.key);
  }
}

/**
 * A new certificate application of the employment office taken in by its
 * clerk: the local row and event, and the 'application.create' outbox row
 * carrying the application as the feed does, in one transaction.
 */
export function takeIn(sqlite: Database.Database, at: number): string {
  return sqlite.transaction(() => {
    const id = insertApplication(
      sqlite,
      { serviceCode: 'unemployed-certificate', providerId: EMPLOYMENT.provider, currentStep: 'head-assign' },
      at,
    );
    const row = sqlite
      .prepare(
        `SELECT id, number, portal_number AS portalNumber, provider_id AS providerId, service_code AS serviceCode, channel,
           applicant_iin AS applicantIin, applicant_bin AS applicantBin, applicant_name AS applicantName,
           region_kato AS regionKato, locality, status, decision, responsible_user_id AS responsibleUserId,
           current_step AS currentStep, submitted_at AS submittedAt, status_changed_at AS statusChangedAt, due_at AS dueAt,
           form_data AS formData, refusal_reason_code AS refusalReasonCode, refusal_text AS refusalText,
           rework_comment AS reworkComment
         FROM applications WHERE id = ?`,
      )
      .get(id) as Record<string, unknown> & { formData: string };
    const payload = { ...row, formData: JSON.parse(row.formData) as unknown, actorUserId: EMPLOYMENT.clerk };
    sqlite
      .prepare(
        `INSERT INTO outbox (op, entity, entity_id, payload, protocol_version, schema_version, created_at)
         VALUES ('application.create', 'application', ?, ?, ?, ?, ?)`,
      )
      .run(id, JSON.stringify(payload), PROTOCOL_VERSION, SCHEMA_VERSION, at);
    return id;
  })();
}

export interface OutboxView {
  seq: number;
  op: string;
  state: string;
  attempts: number;
  deviceSeq: number | null;
  serverVersion: number | null;
  rejectReason: string | null;
}

export function outboxRows(sqlite: Database.Database): OutboxView[] {
  return sqlite
    .prepare(
      `SELECT seq, op, state, attempts, device_seq AS deviceSeq, server_version AS serverVersion,
         reject_reason AS rejectReason FROM outbox ORDER BY seq`,
    )
    .all() as OutboxView[];
}

export function applicationOf(
  sqlite: Database.Database,
  id: string,
): { status: string; responsible: string | null; version: number; serverVersion: number | null } | undefined {
  return sqlite
    .prepare(
      `SELECT status, responsible_user_id AS responsible, version, server_version AS serverVersion
         FROM applications WHERE id = ?`,
    )
    .get(id) as
    { status: string; responsible: string | null; version: number; serverVersion: number | null } | undefined;
}

/** A user key as the server's login answer carries one (random id and secret). */
export function testUserKey(issuedAt = Date.now(), ttlMs = USER_KEY_TTL_MS): UserKey {
  return {
    id: randomBytes(18).toString('base64url'),
    secret: randomBytes(32).toString('base64'),
    issuedAt,
    expiresAt: issuedAt + ttlMs,
  };
}

/** Polls `check` until it is true or `ms` pass. */
export async function eventually(check: () => boolean, ms = 15_000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
