/**
 * A workstation for server tests: a real local database (db/connection.ts
 * with the workstation's migrations) holding the same demo the server seeds
 * with the same options (demo/generate.ts is deterministic for a seed and
 * a `now`), the real WorkflowService making changes in it, and its outbox
 * read back as protocol changes. What it pushes is exactly what the app
 * queues.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase, type OpenedDatabase } from '#db/connection.js';
import { generateDemo } from '#demo/generate.js';
import { loadCalendars } from '#core/node/calendar-loader.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { applicationXml, loadApplicationDocument } from '#main/signing/documents.js';
import { type SigningKey, signXml } from '#signing/index.js';
import { WorkflowService } from '#main/workflow/service.js';
import { insertApplication } from '#main/workflow/testing.js';
import { RESOURCES_DIR } from '#server/src/catalogue.js';
import type { Change } from '#core/protocol.js';

export interface TestWorkstation {
  sqlite: Database.Database;
  workflow: WorkflowService;
  clock: { now: number };
  /** Outbox rows after outbox seq `after`, as changes numbered from `firstSeq` on. */
  changes(options?: { after?: number; firstSeq?: number }): Change[];
  /** The highest outbox seq so far (0 when empty). */
  lastOutboxSeq(): number;
  /**
   * Takes in a new application (status received) as intake does: the row,
   * its `received` event and an `application.create` outbox row, in one
   * transaction. Returns its id.
   */
  intake(a: { providerId: string; serviceCode: string; clerkId: string; formData?: Record<string, unknown> }): string;
  /** Copies an application (row and events) as this workstation has it into another's database. */
  copyTo(other: TestWorkstation, applicationId: string): void;
  /**
   * Signs the application's current document as XMLDSig with `key` and
   * stores it as main/signing/service.ts does: the signature row and its
   * `signature.add` outbox row. Returns the signature's id.
   */
  sign(applicationId: string, userId: string, key: SigningKey): Promise<string>;
  close(): void;
}

/** The local applications columns in the wire shape (protocol.ts applicationData). */
const LOCAL_APPLICATION = `id, number, portal_number AS portalNumber, provider_id AS providerId, service_code AS serviceCode,
  channel, applicant_iin AS applicantIin, applicant_bin AS applicantBin, applicant_name AS applicantName,
  region_kato AS regionKato, locality, status, decision, responsible_user_id AS responsibleUserId,
  current_step AS currentStep, submitted_at AS submittedAt, status_changed_at AS statusChangedAt, due_at AS dueAt,
  form_data AS formData, refusal_reason_code AS refusalReasonCode, refusal_text AS refusalText,
  rework_comment AS reworkComment`;

export interface WorkstationOptions {
  /** As the server's demo seed: applications, seed and now must match it. */
  applications: number;
  seed?: number;
  now: number;
}

export async function openWorkstation(options: WorkstationOptions): Promise<TestWorkstation> {
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-ws-'));
  const clock = { now: options.now };
  const database: OpenedDatabase = await openDatabase(join(dir, 'qyzmet.db'), { now: () => clock.now });
  const services = loadCatalogue(join(RESOURCES_DIR, 'services')).services;
  const calendar = loadCalendars(join(RESOURCES_DIR, 'calendars')).calendar;
  generateDemo(database.sqlite, {
    applications: options.applications,
    services,
    calendar,
    seed: options.seed ?? 1,
    now: options.now,
    events: true,
  });
  const workflow = new WorkflowService({ sqlite: database.sqlite, services, calendar, now: () => clock.now });
  const sqlite = database.sqlite;
  return {
    sqlite,
    workflow,
    clock,
    changes({ after = 0, firstSeq = 1 } = {}) {
      const rows = sqlite
        .prepare(
          `SELECT op, entity, entity_id AS entityId, payload, protocol_version AS protocolVersion,
                  schema_version AS schemaVersion, created_at AS createdAt, signature
             FROM outbox WHERE seq > ? ORDER BY seq`,
        )
        .all(after) as (Omit<Change, 'seq' | 'payload'> & { payload: string })[];
      return rows.map((r, i) => ({ ...r, seq: firstSeq + i, payload: JSON.parse(r.payload) as unknown }));
    },
    intake(a) {
      return sqlite.transaction(() => {
        const id = insertApplication(
          sqlite,
          { providerId: a.providerId, serviceCode: a.serviceCode, ...(a.formData ? { formData: a.formData } : {}) },
          clock.now,
        );
        const row = sqlite.prepare(`SELECT ${LOCAL_APPLICATION} FROM applications WHERE id = ?`).get(id) as Record<
          string,
          unknown
        >;
        sqlite
          .prepare(
            `INSERT INTO outbox (op, entity, entity_id, payload, protocol_version, schema_version, created_at)
             VALUES ('application.create', 'application', ?, ?, 1, 1, ?)`,
          )
          .run(
            id,
            JSON.stringify({ ...row, formData: JSON.parse(row.formData as string) as unknown, actorUserId: a.clerkId }),
            clock.now,
          );
        return id;
      })();
    },
    copyTo(other, applicationId) {
      const app = sqlite.prepare('SELECT * FROM applications WHERE id = ?').get(applicationId) as Record<
        string,
        unknown
      >;
      const events = sqlite
        .prepare('SELECT * FROM application_events WHERE application_id = ? ORDER BY seq')
        .all(applicationId) as Record<string, unknown>[];
      const insert = (table: string, r: Record<string, unknown>) => {
        const cols = Object.keys(r).filter((c) => !(table === 'application_events' && c === 'id'));
        other.sqlite
          .prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`)
          .run(...cols.map((c) => r[c]));
      };
      other.sqlite.transaction(() => {
        insert('applications', app);
        for (const e of events) insert('application_events', e);
      })();
    },
    async sign(applicationId, userId, key) {
      const doc = loadApplicationDocument(sqlite, applicationId);
      if (!doc) throw new Error(`no application ${applicationId}`);
      const xml = applicationXml(doc);
      const signed = Buffer.from(await signXml(xml, key), 'utf8');
      const id = randomUUID();
      const at = clock.now;
      const documentSha256 = createHash('sha256').update(xml, 'utf8').digest('hex');
      const certificateSha256 = createHash('sha256').update(key.certificate).digest('hex');
      sqlite.transaction(() => {
        sqlite
          .prepare(
            `INSERT INTO signatures (id, application_id, format, signed, document_sha256, signer_iin, signer_bin,
               signer_name, certificate_sha256, key_source, user_id, signed_at, timestamped_at)
             VALUES (?, ?, 'xmldsig', ?, ?, NULL, NULL, ?, ?, ?, ?, ?, NULL)`,
          )
          .run(id, applicationId, signed, documentSha256, key.label, certificateSha256, key.source, userId, at);
        sqlite
          .prepare(
            `INSERT INTO outbox (op, entity, entity_id, payload, protocol_version, schema_version, created_at)
             VALUES ('signature.add', 'signature', ?, ?, 1, 1, ?)`,
          )
          .run(
            id,
            JSON.stringify({
              id,
              applicationId,
              format: 'xmldsig',
              documentSha256,
              certificateSha256,
              signedAt: at,
              signed: signed.toString('base64'),
              // The signer: the author whose key proves the change (core/auth/change-key.ts).
              userId,
            }),
            at,
          );
      })();
      return id;
    },
    lastOutboxSeq: () => (sqlite.prepare('SELECT coalesce(max(seq), 0) AS n FROM outbox').get() as { n: number }).n,
    close() {
      database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
