/**
 * The demo in a workstation's SQLite database: the rows of rows.ts written
 * with plain prepared statements, one transaction per batch, no drizzle in
 * the loop (benchmarks and the journal need 10^5–10^6 rows). PRAGMAs
 * (synchronous, journal_mode) are the caller's business.
 *
 * Expects the schema of db/schema.ts and empty providers/users/applications.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { foldForSearch } from '#core/identity/text.js';
import { STATUSES, type Status } from '#core/vocabulary.js';
import { demoRows, type DemoDirectory, type DemoOptions } from './rows.js';

export { mulberry32 } from './random.js';
export { DEMO_HEAD, DEMO_USERS } from './staff.js';

export interface GenerateDemoOptions extends DemoOptions {
  /** Applications per transaction. Default 10,000. */
  batchSize?: number;
  /** Called after each batch. */
  onProgress?: (done: number, total: number) => void;
}

export interface GenerateDemoResult {
  regions: number;
  providers: number;
  users: number;
  userRoles: number;
  providerStaff: number;
  applications: number;
  events: number;
  byStatus: Record<Status, number>;
  ms: number;
}

const INSERT_APPLICATION = `INSERT INTO applications (
  id, number, portal_number, provider_id, service_code, channel, applicant_iin, applicant_bin,
  applicant_name, applicant_name_norm, region_kato, locality, status, decision, responsible_user_id,
  current_step, submitted_at, status_changed_at, due_at, form_data, refusal_reason_code, refusal_text,
  rework_comment, version, server_version, created_at, updated_at
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, NULL, ?, ?)`;

const INSERT_EVENT = `INSERT INTO application_events (
  application_id, seq, at, actor_user_id, action, from_status, to_status, decision, comment, payload, prev_hash, hash
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

function count(sqlite: BetterSqlite3.Database, table: string): number {
  const row = sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number };
  return row.n;
}

/** Regions, providers, users with their roles and the staff lists, in one transaction; the roles written. */
function writeDirectory(sqlite: BetterSqlite3.Database, directory: DemoDirectory, since: number): number {
  const insRegion = sqlite.prepare(
    'INSERT INTO regions (kato, name_kk, name_ru, name_en) VALUES (?, ?, ?, ?) ON CONFLICT (kato) DO NOTHING',
  );
  const insProvider = sqlite.prepare(
    `INSERT INTO providers (id, bin, name_kk, name_ru, name_en, region_kato, locality_kk, locality_ru, locality_en, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insUser = sqlite.prepare(
    `INSERT INTO users (id, login, full_name, iin, email, phone, position_kk, position_ru, password_hash,
       must_change_password, blocked, last_online_login_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, ?, ?)`,
  );
  const insRole = sqlite.prepare('INSERT INTO user_roles (user_id, role, provider_id) VALUES (?, ?, ?)');
  const insStaff = sqlite.prepare(
    'INSERT INTO provider_staff (provider_id, user_id, position_kk, position_ru, active) VALUES (?, ?, ?, ?, ?)',
  );
  let roles = 0;
  sqlite.transaction(() => {
    for (const r of directory.regions) insRegion.run(r.kato, r.nameKk, r.nameRu, r.nameEn);
    for (const p of directory.providers) {
      insProvider.run(
        p.id,
        p.bin,
        p.nameKk,
        p.nameRu,
        p.nameEn,
        p.regionKato,
        p.localityKk,
        p.localityRu,
        p.localityEn,
        since,
      );
    }
    for (const u of directory.users) {
      insUser.run(
        u.id,
        u.login,
        u.fullName,
        u.iin,
        u.email,
        u.phone,
        u.positionKk,
        u.positionRu,
        u.mustChangePassword ? 1 : 0,
        u.blocked ? 1 : 0,
        since,
        since,
      );
      for (const r of u.roles) insRole.run(u.id, r.role, r.providerId);
      roles += u.roles.length;
    }
    for (const s of directory.staff) insStaff.run(s.providerId, s.userId, s.positionKk, s.positionRu, s.active ? 1 : 0);
  })();
  return roles;
}

/** Fills an empty workstation database with the demo (rows.ts), `batchSize` applications per transaction. */
export function generateDemo(sqlite: BetterSqlite3.Database, options: GenerateDemoOptions): GenerateDemoResult {
  const started = performance.now();
  for (const table of ['providers', 'users', 'applications']) {
    const n = count(sqlite, table);
    if (n > 0) {
      throw new Error(`generateDemo needs an empty database, but table ${table} already has ${n} rows`);
    }
  }
  const demo = demoRows(options);
  const { directory } = demo;
  const userRoles = writeDirectory(sqlite, directory, demo.directorySince);

  const insApp = sqlite.prepare(INSERT_APPLICATION);
  const insEvent = sqlite.prepare(INSERT_EVENT);
  const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  let events = 0;
  const applications = demo.applications[Symbol.iterator]();
  const writeBatch = sqlite.transaction((size: number) => {
    for (let i = 0; i < size; i++) {
      const next = applications.next();
      if (next.done) throw new Error('the demo ran out of applications');
      const { application: a, events: chain } = next.value;
      insApp.run(
        a.id,
        a.number,
        a.portalNumber,
        a.providerId,
        a.serviceCode,
        a.channel,
        a.applicantIin,
        a.applicantBin,
        a.applicantName,
        foldForSearch(a.applicantName),
        a.regionKato,
        a.locality,
        a.status,
        a.decision,
        a.responsibleUserId,
        a.currentStep,
        a.submittedAt,
        a.statusChangedAt,
        a.dueAt,
        JSON.stringify(a.formData),
        a.refusalReasonCode,
        a.refusalText,
        a.reworkComment,
        a.submittedAt,
        a.statusChangedAt,
      );
      byStatus[a.status]++;
      for (const e of chain) {
        insEvent.run(
          e.applicationId,
          e.seq,
          e.at,
          e.actorUserId,
          e.action,
          e.fromStatus,
          e.toStatus,
          e.decision,
          e.comment,
          e.payload === null ? null : JSON.stringify(e.payload),
          e.prevHash,
          e.hash,
        );
        events++;
      }
    }
  });
  const total = demo.count;
  const batchSize = Math.max(1, options.batchSize ?? 10_000);
  for (let done = 0; done < total;) {
    const size = Math.min(batchSize, total - done);
    writeBatch(size);
    done += size;
    options.onProgress?.(done, total);
  }

  return {
    regions: directory.regions.length,
    providers: directory.providers.length,
    users: directory.users.length,
    userRoles,
    providerStaff: directory.staff.length,
    applications: total,
    events,
    byStatus,
    ms: Math.round(performance.now() - started),
  };
}
