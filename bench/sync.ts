/**
 * Figures of the initial pull, for `npm run bench` (sync.initial_pull_rows_per_s,
 * sync.client_peak_rss_mb): an office partition of N applications made on
 * the central server's database (`addBulkApplications`, in SQL, with their
 * feed rows, as writers make them), then a fresh workstation enrols and
 * pulls it all (`measureInitialPull`: the engine's own snapshot path, the
 * journal's triggers off and one rebuild), against the baseline of a raw
 * insert of the same rows into a fresh workstation database.
 *
 * Run the server in another process (server/src/load/server-process.ts) so
 * that the peak RSS and CPU time measured here are the workstation's alone.
 * The baseline writes through the journal's per-row triggers, as any plain
 * insert into `applications` does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from '#db/connection.js';
import type { Sql } from '#server/src/postgres/sql.js';
import { bump, providerPartition } from '#server/src/feed.js';
import { SyncEngine } from '#main/sync/engine.js';

const SURNAMES = ['Сапарова', 'Әбдіғаппаров', 'Нұрланова', 'Иванов', 'Қасымов', 'Өтебаева', 'Жұмабеков', 'Ким'];
const NAMES = ['Әсел', 'Нұрлан', 'Пётр', 'Айгүл', 'Ерлан', 'Дәурен', 'Мәдина', 'Сергей'];

/**
 * N applications of `providerId` on the server (rows and feed rows, one
 * version each, in batches of `batch`), about the size of the demo's
 * (a kilobyte each with their form data). Returns the partition's version after.
 */
export async function addBulkApplications(
  sql: Sql,
  o: {
    providerId: string;
    count: number;
    serviceCode: string;
    regionKato: string;
    locality: string;
    batch?: number;
    now?: number;
  },
): Promise<number> {
  const batch = o.batch ?? 10_000;
  const partition = providerPartition(o.providerId);
  const now = o.now ?? Date.now();
  let version = 0;
  for (let done = 0; done < o.count; done += batch) {
    const n = Math.min(batch, o.count - done);
    version = await sql.tx(async (tx) => {
      const last = await bump(tx, partition, n);
      const first = last - n + 1;
      await tx.query(
        `INSERT INTO applications (id, number, portal_number, provider_id, service_code, channel, applicant_iin,
           applicant_bin, applicant_name, region_kato, locality, status, decision, responsible_user_id, current_step,
           submitted_at, status_changed_at, due_at, form_data, refusal_reason_code, refusal_text, rework_comment,
           server_version)
         SELECT 'bulk-' || ($1::int + i), 'B' || ($1::int + i) || '-01-01-26', NULL, $2, $3, 'office',
           lpad(((900000000000 + $1::bigint + i) % 999999999999)::text, 12, '0'), NULL,
           ($6::text[])[1 + i % 8] || ' ' || ($7::text[])[1 + (i / 8) % 8], $4, $5,
           (ARRAY['received','in_processing','on_signing','completed','completed_with_error'])[1 + i % 5], 'none',
           NULL, NULL, $8::bigint - i * 60000, $8::bigint - i * 60000, NULL,
           jsonb_build_object('lastName', ($6::text[])[1 + i % 8], 'firstName', ($7::text[])[1 + (i / 8) % 8],
             'phone', '+7 701 ' || lpad((i % 10000000)::text, 7, '0'), 'email', 'applicant' || i || '@mail.kz',
             'address', 'г. Астана, ул. Кенесары, д. ' || (1 + i % 200) || ', кв. ' || (1 + i % 90),
             'workplace', 'ТОО «Бірлік Құрылыс» — отдел снабжения и логистики',
             'note', 'Заявление принято в ЦОН, документы проверены, копии сверены с оригиналами'),
           NULL, NULL, NULL, $9::bigint + i
         FROM generate_series(0, $10::int - 1) AS i`,
        [done, o.providerId, o.serviceCode, o.regionKato, o.locality, SURNAMES, NAMES, now, first, n],
      );
      await tx.query(
        `INSERT INTO feed (partition, entity, id, version, op, data)
         SELECT $1, 'application', a.id, a.server_version, 'upsert', jsonb_build_object(
           'id', a.id, 'number', a.number, 'portalNumber', a.portal_number, 'providerId', a.provider_id,
           'serviceCode', a.service_code, 'channel', a.channel, 'applicantIin', a.applicant_iin,
           'applicantBin', a.applicant_bin, 'applicantName', a.applicant_name, 'regionKato', a.region_kato,
           'locality', a.locality, 'status', a.status, 'decision', a.decision,
           'responsibleUserId', a.responsible_user_id, 'currentStep', a.current_step, 'submittedAt', a.submitted_at,
           'statusChangedAt', a.status_changed_at, 'dueAt', a.due_at, 'formData', a.form_data,
           'refusalReasonCode', a.refusal_reason_code, 'refusalText', a.refusal_text, 'reworkComment', a.rework_comment)
         FROM applications a WHERE a.server_version BETWEEN $2 AND $3 AND a.provider_id = $4`,
        [partition, first, last, o.providerId],
      );
      return last;
    });
  }
  return version;
}

export interface InitialPullFigures {
  /** Feed rows the workstation took (both partitions). */
  rows: number;
  applications: number;
  ms: number;
  rowsPerS: number;
  /** The same application rows inserted raw (prepared INSERT, 2,000 per transaction) into a fresh database. */
  baselineRowsPerS: number;
  /** The highest resident set size sampled during the pull. */
  peakRssMb: number;
  /** CPU time this process spent on the pull (user + system): the workstation's own cost, whatever the server's. */
  cpuMs: number;
}

/** A fresh workstation enrols at `serverUrl` and pulls everything once; timed from after the enrolment. */
export async function measureInitialPull(o: {
  serverUrl: string;
  providerId: string;
  login: string;
  password: string;
  snapshotBatchRows?: number;
}): Promise<InitialPullFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-initial-pull-'));
  try {
    const database = await openDatabase(join(dir, 'qyzmet.db'));
    const engine = new SyncEngine({
      sqlite: database.sqlite,
      serverUrl: o.serverUrl,
      dataDir: dir,
      snapshotBatchRows: o.snapshotBatchRows,
      requestTimeoutMs: 120_000,
    });
    await engine.enrol({ providerId: o.providerId, login: o.login, password: o.password, name: 'bench' });
    let peak = process.memoryUsage.rss();
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 20);
    const started = performance.now();
    const cpu = process.cpuUsage();
    await engine.runOnce();
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    const failure = engine.lastFailure();
    if (failure) throw failure;
    const count = (table: string) => database.sqlite.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    const rows =
      count('applications') +
      count('users') +
      count('provider_staff') +
      count('providers') +
      count('regions') +
      count('services') +
      count('sync_calendars') +
      count('server_events') +
      count('signatures') +
      count('attachments');
    const applications = count('applications');
    const baselineRowsPerS = await rawInsertRate(database.sqlite, dir);
    await engine.stop();
    database.close();
    return {
      rows,
      applications,
      ms,
      rowsPerS: rows / (ms / 1000),
      baselineRowsPerS,
      peakRssMb: peak / 1024 / 1024,
      cpuMs: (used.user + used.system) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The pulled applications inserted as they are into a fresh workstation database: rows per second. */
async function rawInsertRate(source: Database.Database, dir: string): Promise<number> {
  const target = await openDatabase(join(dir, 'baseline.db'));
  try {
    const copy = (table: string) => {
      const rows = source.prepare(`SELECT * FROM ${table}`).raw().all() as unknown[][];
      const cols = (source.prepare(`SELECT * FROM ${table} LIMIT 1`).columns() as { name: string }[]).map(
        (c) => c.name,
      );
      return {
        rows,
        insert: target.sqlite.prepare(
          `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        ),
      };
    };
    for (const table of ['regions', 'providers', 'users']) {
      const { rows, insert } = copy(table);
      target.sqlite.transaction(() => rows.forEach((r) => insert.run(r)))();
    }
    const { rows, insert } = copy('applications');
    const started = performance.now();
    for (let i = 0; i < rows.length; i += 2000) {
      target.sqlite.transaction(() => {
        for (const r of rows.slice(i, i + 2000)) insert.run(r);
      })();
    }
    return rows.length / ((performance.now() - started) / 1000);
  } finally {
    target.close();
  }
}
