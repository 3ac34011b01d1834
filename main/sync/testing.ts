/**
 * Test fixtures of sync: a workstation (a real database opened with its
 * migrations in a temporary folder, the real SyncEngine, the WorkflowService
 * for local changes) and an application taken in at its counter (the local
 * row with its `received` event and an 'application.create' outbox row, as
 * intake writes them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase, type OpenedDatabase } from '#db/connection.js';
import { SCHEMA_VERSION } from '#core/protocol.js';
import { PROTOCOL_VERSION } from '#core/protocol.js';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { weekendOnlyCalendar } from '#core/workflow/deadlines.js';
import { WorkflowService } from '../workflow/service.js';
import { EMPLOYMENT, insertApplication, SERVICES } from '../workflow/testing.js';
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
    close: async () => {
      await engine.stop();
      database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
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

/** Polls `check` until it is true or `ms` pass. */
export async function eventually(check: () => boolean, ms = 15_000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
