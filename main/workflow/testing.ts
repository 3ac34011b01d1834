/**
 * Test fixtures of the workflow: a real database file (openDatabase in a
 * temporary folder) with the demo's providers, staff and applications, a
 * controllable clock, applications in a chosen state, and signature rows as
 * the signer writes them.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase, type OpenedDatabase } from '#db/connection.js';
import { generateDemo } from '#demo/generate.js';
import type { Channel, Decision, Status } from '#core/vocabulary.js';
import { DAY, MINUTE, NOW, ROOT, SERVICES } from '#core/testing.js';
import { foldForSearch } from '#core/identity/text.js';
import { applicationXml, loadApplicationDocument } from '../signing/documents.js';
import { weekendOnlyCalendar } from '#core/workflow/deadlines.js';
import { appendEvent } from './events.js';
import { WorkflowService } from './service.js';

// The repository, its catalogue and the fixed clock are the core's fixtures.
export { DAY, MINUTE, NOW, ROOT, SERVICES };

/** Staff of the demo (demo/generate.ts): fixed ids. */
export const EMPLOYMENT = {
  provider: 'prov-astana-employment',
  head: 'user-head-demo',
  clerk: 'user-clerk-demo',
  executor: 'user-executor-demo',
  executor2: 'user-astana-employment-executor-2',
  formerExecutor: 'user-astana-employment-executor-former',
} as const;
export const ENTREPRENEURSHIP = {
  provider: 'prov-astana-entrepreneurship',
  head: 'user-astana-entrepreneurship-head',
  executor: 'user-astana-entrepreneurship-executor-1',
} as const;
export const MONITORING = 'user-monitoring-demo';
export const OPERATOR = 'user-operator-demo';

export interface Fixture {
  dir: string;
  database: OpenedDatabase;
  sqlite: Database.Database;
  clock: { now: number };
  service: WorkflowService;
  close(): void;
}

export async function openFixture(options: { applications?: number; events?: boolean } = {}): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-workflow-'));
  const clock = { now: NOW };
  const database = await openDatabase(join(dir, 'qyzmet.db'), { now: () => clock.now });
  generateDemo(database.sqlite, {
    applications: options.applications ?? 150,
    seed: 7,
    now: NOW,
    services: SERVICES,
    events: options.events ?? true,
  });
  const service = new WorkflowService({
    sqlite: database.sqlite,
    services: SERVICES,
    calendar: weekendOnlyCalendar(),
    now: () => clock.now,
  });
  return {
    dir,
    database,
    sqlite: database.sqlite,
    clock,
    service,
    close: () => {
      database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let counter = 0;

export interface NewApplication {
  serviceCode: string;
  providerId: string;
  channel?: Channel;
  status?: Status;
  decision?: Decision;
  responsibleUserId?: string | null;
  currentStep?: string | null;
  formData?: Record<string, unknown>;
}

/** An application as intake leaves it (or in the state given), with its `received` event. */
export function insertApplication(sqlite: Database.Database, a: NewApplication, at = NOW - DAY): string {
  const id = randomUUID();
  counter += 1;
  const provider = sqlite
    .prepare('SELECT region_kato AS kato, locality_ru AS locality FROM providers WHERE id = ?')
    .get(a.providerId) as { kato: string; locality: string };
  const name = 'Сапарова Әсел Қайратқызы';
  sqlite
    .prepare(
      `INSERT INTO applications (id, number, portal_number, provider_id, service_code, channel, applicant_iin,
         applicant_bin, applicant_name, applicant_name_norm, region_kato, locality, status, decision,
         responsible_user_id, current_step, submitted_at, status_changed_at, due_at, form_data, version,
         created_at, updated_at)
       VALUES (?, ?, NULL, ?, ?, ?, '900512400123', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 1, ?, ?)`,
    )
    .run(
      id,
      `T${counter}-20-05-26`,
      a.providerId,
      a.serviceCode,
      a.channel ?? 'office',
      name,
      foldForSearch(name),
      provider.kato,
      provider.locality,
      a.status ?? 'received',
      a.decision ?? 'none',
      a.responsibleUserId ?? null,
      a.currentStep ?? null,
      at,
      at,
      JSON.stringify(a.formData ?? { lastName: 'Сапарова', firstName: 'Әсел', phone: '+7 701 123 45 67' }),
      at,
      at,
    );
  appendEvent(sqlite, {
    applicationId: id,
    at,
    actorUserId: null,
    action: 'received',
    fromStatus: null,
    toStatus: a.status ?? 'received',
    decision: null,
    comment: null,
    payload: { version: 1 },
  });
  return id;
}

/** A signature row as SigningService.store writes it, over the application's document as it is now. */
export function insertSignature(sqlite: Database.Database, applicationId: string, userId: string, at: number): string {
  const doc = loadApplicationDocument(sqlite, applicationId);
  if (!doc) throw new Error(`no application ${applicationId}`);
  const id = randomUUID();
  const sha = createHash('sha256').update(applicationXml(doc), 'utf8').digest('hex');
  sqlite
    .prepare(
      `INSERT INTO signatures (id, application_id, format, signed, document_sha256, signer_iin, signer_bin,
         signer_name, certificate_sha256, key_source, user_id, signed_at, timestamped_at)
       VALUES (?, ?, 'cms', ?, ?, NULL, NULL, 'TEST SIGNER', ?, 'keyfile', ?, ?, NULL)`,
    )
    .run(id, applicationId, Buffer.from('signed'), sha, 'c'.repeat(64), userId, at);
  return id;
}

export function row(sqlite: Database.Database, id: string): Record<string, unknown> {
  return sqlite.prepare('SELECT * FROM applications WHERE id = ?').get(id) as Record<string, unknown>;
}

export function countOf(
  sqlite: Database.Database,
  table: 'application_events' | 'outbox',
  applicationId: string,
): number {
  const column = table === 'outbox' ? 'entity_id' : 'application_id';
  return (sqlite.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${column} = ?`).get(applicationId) as { n: number })
    .n;
}

/** Fields the executor must fill before Send, for the services the tests walk. */
export const RESULT_DATA = {
  documentsCheck: 'complete',
  resultNumber: 'R-17',
  resultDate: '2026-05-20',
} as const;
