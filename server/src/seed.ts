/**
 * Demo data for the central server, the same the workstation's demo makes
 * (demo/generate.ts): it is generated into an in-memory SQLite database
 * with the workstation's own migrations, then copied across in multi-row
 * batches (one statement per table per batch, one transaction per batch)
 * with the feed rows of every row, so a fresh workstation pulls it all.
 *
 * Deterministic for a seed and a `now`. Demo users get the demo password
 * (one scrypt hash, made once and shared). Runs only on an empty database
 * (no providers); instances starting together take turns on an advisory
 * lock and the later ones find the data there.
 */
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import { join } from 'node:path';
import { defaultMigrationsFolder } from '#db/connection.js';
import { generateDemo } from '#demo/generate.js';
import { DEMO_PASSWORD, hashPassword } from '#core/auth/passwords.js';
import { loadCalendars } from '#core/node/calendar-loader.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import type { Sql } from './db/sql.js';
import { bumpAll, GLOBAL_PARTITION, providerPartition, publish, type FeedWrite } from './feed.js';
import { seedLookups } from './lookups/seed.js';
import { APPLICATION_COLUMNS, EVENT_COLUMNS, staffFeedId } from './rows.js';
import { RESOURCES_DIR } from './catalogue.js';

export interface DemoSeedOptions {
  applications: number;
  seed?: number;
  now?: number;
  /** Applications per transaction. */
  batchSize?: number;
  resourcesDir?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface DemoSeedResult {
  users: number;
  providers: number;
  applications: number;
  ms: number;
}

const SEED_LOCK = 0x71797a73656564;

type Row = Record<string, unknown>;

/** `INSERT INTO table (cols) SELECT cols FROM jsonb_to_recordset($1)`: one statement for many rows. */
async function insertRows(
  sql: Sql,
  table: string,
  columns: Record<string, string>,
  rows: readonly Row[],
): Promise<void> {
  if (rows.length === 0) return;
  const names = Object.keys(columns);
  const list = names.join(', ');
  const types = names.map((n) => `${n} ${columns[n]}`).join(', ');
  await sql.query(`INSERT INTO ${table} (${list}) SELECT ${list} FROM jsonb_to_recordset($1::jsonb) AS r(${types})`, [
    JSON.stringify(rows),
  ]);
}

const APPLICATION_TYPES: Record<string, string> = {
  id: 'text',
  number: 'text',
  portal_number: 'text',
  provider_id: 'text',
  service_code: 'text',
  channel: 'text',
  applicant_iin: 'text',
  applicant_bin: 'text',
  applicant_name: 'text',
  region_kato: 'text',
  locality: 'text',
  status: 'text',
  decision: 'text',
  responsible_user_id: 'text',
  current_step: 'text',
  submitted_at: 'bigint',
  status_changed_at: 'bigint',
  due_at: 'bigint',
  form_data: 'jsonb',
  refusal_reason_code: 'text',
  refusal_text: 'text',
  rework_comment: 'text',
  server_version: 'bigint',
};

const EVENT_TYPES: Record<string, string> = {
  application_id: 'text',
  seq: 'integer',
  at: 'bigint',
  actor_user_id: 'text',
  action: 'text',
  from_status: 'text',
  to_status: 'text',
  decision: 'text',
  comment: 'text',
  payload: 'jsonb',
  prev_hash: 'text',
  hash: 'text',
};

function generate(options: DemoSeedOptions, resourcesDir: string, now: number): Database.Database {
  const sqlite = new Database(':memory:');
  migrateSqlite(drizzle(sqlite), { migrationsFolder: defaultMigrationsFolder() });
  generateDemo(sqlite, {
    applications: options.applications,
    services: loadCatalogue(join(resourcesDir, 'services')).services,
    calendar: loadCalendars(join(resourcesDir, 'calendars')).calendar,
    seed: options.seed ?? 1,
    now,
    events: true,
  });
  return sqlite;
}

/** Regions, providers, users with roles, staff: one transaction, their feed rows in the global partition. */
async function copyDirectory(
  tx: Sql,
  sqlite: Database.Database,
  passwordHash: string,
  now: number,
): Promise<{ users: number; providers: number }> {
  const regions = sqlite.prepare('SELECT kato, name_kk, name_ru, name_en FROM regions ORDER BY kato').all() as Row[];
  const providers = sqlite
    .prepare(
      `SELECT id, bin, name_kk, name_ru, name_en, region_kato, locality_kk, locality_ru, locality_en FROM providers ORDER BY id`,
    )
    .all() as Row[];
  const users = (
    sqlite
      .prepare(
        `SELECT id, login, full_name, iin, email, phone, position_kk, position_ru, must_change_password, blocked
           FROM users ORDER BY id`,
      )
      .all() as Row[]
  ).map((u): Row => ({
    ...u,
    must_change_password: u.must_change_password === 1,
    blocked: u.blocked === 1,
    password_hash: passwordHash,
    updated_at: now,
  }));
  const roles = sqlite
    .prepare('SELECT user_id, role, provider_id FROM user_roles ORDER BY user_id, role, provider_id')
    .all() as Row[];
  const staff = (
    sqlite
      .prepare(
        'SELECT provider_id, user_id, position_kk, position_ru, active FROM provider_staff ORDER BY provider_id, user_id',
      )
      .all() as Row[]
  ).map((s): Row => ({ ...s, active: s.active === 1 }));

  const text = (names: string[]) => Object.fromEntries(names.map((n) => [n, 'text']));
  await insertRows(tx, 'regions', text(['kato', 'name_kk', 'name_ru', 'name_en']), regions);
  await insertRows(
    tx,
    'providers',
    text(['id', 'bin', 'name_kk', 'name_ru', 'name_en', 'region_kato', 'locality_kk', 'locality_ru', 'locality_en']),
    providers,
  );
  await insertRows(
    tx,
    'users',
    {
      ...text(['id', 'login', 'full_name', 'iin', 'email', 'phone', 'position_kk', 'position_ru', 'password_hash']),
      must_change_password: 'boolean',
      blocked: 'boolean',
      updated_at: 'bigint',
    },
    users,
  );
  await insertRows(tx, 'user_roles', text(['user_id', 'role', 'provider_id']), roles);
  await insertRows(
    tx,
    'provider_staff',
    { ...text(['provider_id', 'user_id', 'position_kk', 'position_ru']), active: 'boolean' },
    staff,
  );

  const rolesOf = new Map<string, { role: string; providerId: string }[]>();
  for (const r of roles) {
    const list = rolesOf.get(r.user_id as string) ?? [];
    list.push({ role: r.role as string, providerId: r.provider_id as string });
    rolesOf.set(r.user_id as string, list);
  }
  const feed: FeedWrite[] = [
    ...regions.map((r): FeedWrite => ({
      entity: 'region',
      id: r.kato as string,
      op: 'upsert',
      data: { kato: r.kato, nameKk: r.name_kk, nameRu: r.name_ru, nameEn: r.name_en },
    })),
    ...providers.map((p): FeedWrite => ({
      entity: 'provider',
      id: p.id as string,
      op: 'upsert',
      data: {
        id: p.id,
        bin: p.bin,
        nameKk: p.name_kk,
        nameRu: p.name_ru,
        nameEn: p.name_en,
        regionKato: p.region_kato,
        localityKk: p.locality_kk,
        localityRu: p.locality_ru,
        localityEn: p.locality_en,
      },
    })),
    ...users.map((u): FeedWrite => ({
      entity: 'user',
      id: u.id as string,
      op: 'upsert',
      data: {
        id: u.id,
        login: u.login,
        fullName: u.full_name,
        iin: u.iin,
        email: u.email,
        phone: u.phone,
        positionKk: u.position_kk,
        positionRu: u.position_ru,
        blocked: u.blocked,
        mustChangePassword: u.must_change_password,
        roles: rolesOf.get(u.id as string) ?? [],
      },
    })),
    ...staff.map((s): FeedWrite => ({
      entity: 'staff',
      id: staffFeedId(s.provider_id as string, s.user_id as string),
      op: 'upsert',
      data: {
        providerId: s.provider_id,
        userId: s.user_id,
        positionKk: s.position_kk,
        positionRu: s.position_ru,
        active: s.active,
      },
    })),
  ];
  await publish(tx, GLOBAL_PARTITION, feed);
  // Every office's partition exists from the start, so its first pull has a version to stand on.
  await tx.query(
    `INSERT INTO partitions (partition, version) SELECT 'provider:' || id, 0 FROM providers ON CONFLICT DO NOTHING`,
  );
  return { users: users.length, providers: providers.length };
}

/**
 * One batch of applications with their events: an application's events take
 * consecutive versions of its provider's partition and the application the
 * next one, which is its `server_version`. Each table is written with its
 * feed rows in one statement: the feed's data is what the insert returns, in
 * the wire shape (rows.ts columns).
 */
async function copyApplications(tx: Sql, apps: Row[], events: Map<string, Row[]>): Promise<void> {
  const counts = new Map<string, number>();
  for (const a of apps) {
    const p = providerPartition(a.provider_id as string);
    counts.set(p, (counts.get(p) ?? 0) + 1 + (events.get(a.id as string)?.length ?? 0));
  }
  const last = await bumpAll(tx, counts);
  const next = new Map([...last].map(([p, v]) => [p, v - counts.get(p)! + 1]));
  const appRows: Row[] = [];
  const eventRows: Row[] = [];
  for (const a of apps) {
    const partition = providerPartition(a.provider_id as string);
    let v = next.get(partition)!;
    for (const e of events.get(a.id as string) ?? []) {
      const payload = e.payload === null ? null : (JSON.parse(e.payload as string) as unknown);
      eventRows.push({ ...e, payload, feed_partition: partition, feed_version: v++ });
    }
    appRows.push({ ...a, form_data: JSON.parse(a.form_data as string) as unknown, server_version: v++ });
    next.set(partition, v);
  }
  const recordset = (types: Record<string, string>) =>
    Object.entries(types)
      .map(([n, t]) => `${n} ${t}`)
      .join(', ');
  const appColumns = Object.keys(APPLICATION_TYPES).join(', ');
  await tx.query(
    `WITH ins AS (
       INSERT INTO applications (${appColumns})
       SELECT ${appColumns} FROM jsonb_to_recordset($1::jsonb) AS r(${recordset(APPLICATION_TYPES)})
       RETURNING ${APPLICATION_COLUMNS}, server_version AS "feedVersion"
     )
     INSERT INTO feed (partition, entity, id, version, op, data)
     SELECT 'provider:' || ins."providerId", 'application', ins.id, ins."feedVersion", 'upsert', to_jsonb(ins) - 'feedVersion'
       FROM ins`,
    [JSON.stringify(appRows)],
  );
  if (eventRows.length === 0) return;
  const eventColumns = Object.keys(EVENT_TYPES).join(', ');
  await tx.query(
    `WITH src AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb)
         AS r(${recordset(EVENT_TYPES)}, feed_partition text, feed_version bigint)
     ), ins AS (
       INSERT INTO application_events (${eventColumns}) SELECT ${eventColumns} FROM src
       RETURNING ${EVENT_COLUMNS}
     )
     INSERT INTO feed (partition, entity, id, version, op, data)
     SELECT src.feed_partition, 'event', ins."applicationId" || ':' || ins.seq, src.feed_version, 'upsert', to_jsonb(ins)
       FROM ins JOIN src ON src.application_id = ins."applicationId" AND src.seq = ins.seq`,
    [JSON.stringify(eventRows)],
  );
}

/** Seeds the demo on an empty database; null when the database already had data. */
export async function seedDemo(sql: Sql, options: DemoSeedOptions): Promise<DemoSeedResult | null> {
  const started = performance.now();
  const now = options.now ?? Date.now();
  const resourcesDir = options.resourcesDir ?? RESOURCES_DIR;
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const sqlite = generate(options, resourcesDir, now);
  try {
    const base = await sql.tx(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK]);
      const [any] = await tx.query('SELECT 1 FROM providers LIMIT 1');
      if (any) return null;
      return copyDirectory(tx, sqlite, passwordHash, now);
    });
    if (!base) return null;

    const total = options.applications;
    const batch = Math.max(1, options.batchSize ?? 2000);
    const selectApps = sqlite.prepare(
      `SELECT rowid AS rid, id, number, portal_number, provider_id, service_code, channel, applicant_iin, applicant_bin,
              applicant_name, region_kato, locality, status, decision, responsible_user_id, current_step,
              submitted_at, status_changed_at, due_at, form_data, refusal_reason_code, refusal_text, rework_comment
         FROM applications WHERE rowid > ? ORDER BY rowid LIMIT ?`,
    );
    const selectEvents = sqlite.prepare(
      `SELECT e.application_id, e.seq, e.at, e.actor_user_id, e.action, e.from_status, e.to_status, e.decision,
              e.comment, e.payload, e.prev_hash, e.hash
         FROM application_events e JOIN applications a ON a.id = e.application_id
        WHERE a.rowid > ? AND a.rowid <= ? ORDER BY e.application_id, e.seq`,
    );
    let done = 0;
    for (let after = 0; ;) {
      const from = after;
      const apps = (selectApps.all(from, batch) as Row[]).map(({ rid, ...a }) => {
        after = rid as number;
        return a;
      });
      if (apps.length === 0) break;
      const events = new Map<string, Row[]>();
      for (const e of selectEvents.all(from, after) as Row[]) {
        const list = events.get(e.application_id as string) ?? [];
        list.push(e);
        events.set(e.application_id as string, list);
      }
      await sql.tx((tx) => copyApplications(tx, apps, events));
      done += apps.length;
      options.onProgress?.(done, total);
    }
    await seedLookups(sql, { now, seed: options.seed ?? 1 });
    return { ...base, applications: done, ms: Math.round(performance.now() - started) };
  } finally {
    sqlite.close();
  }
}
