/**
 * Demo data for the central server, the same the workstation's demo makes
 * (demo/rows.ts gives the rows, deterministic for a seed and a `now`), written
 * in multi-row batches (one statement per table per batch, one transaction
 * per batch) with the feed rows of every row, so a fresh workstation pulls it
 * all.
 *
 * Demo users get the demo password (one scrypt hash, made once and shared).
 * Runs only on an empty database (no providers); instances starting together
 * take turns on an advisory lock and the later ones find the data there.
 */
import { join } from 'node:path';
import {
  demoRows,
  type DemoApplication,
  type DemoDirectory,
  type ProviderRow,
  type RegionRow,
  type StaffRow,
} from '#demo/rows.js';
import { DEMO_PASSWORD, hashPassword, type ScryptParams } from '#core/auth/passwords.js';
import { loadCalendars } from '#core/node/calendar-loader.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import type { Sql } from './postgres/sql.js';
import { bumpAll, GLOBAL_PARTITION, providerPartition, publish, type FeedWrite } from './feed.js';
import { scopedUser } from './directory.js';
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
  /** The cost of the demo users' password hash: the server's own (tests pass a cheaper one, same code path). */
  scrypt?: ScryptParams;
}

export interface DemoSeedResult {
  users: number;
  providers: number;
  applications: number;
  ms: number;
}

const SEED_LOCK = 0x71797a73656564;

/** A table's fields in their wire (camelCase) names, with the PostgreSQL type of each. */
type Fields = Record<string, string>;

/** The column of a wire field: `portalNumber` is `portal_number`. */
const column = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** `INSERT INTO table (columns) SELECT fields FROM jsonb_to_recordset($1)`: one statement for many rows in wire shape. */
function insertSql(table: string, fields: Fields): string {
  const names = Object.keys(fields);
  return `INSERT INTO ${table} (${names.map(column).join(', ')})
    SELECT ${names.map((n) => `"${n}"`).join(', ')} FROM src`;
}

function recordset(fields: Fields): string {
  return `jsonb_to_recordset($1::jsonb) AS r(${Object.entries(fields)
    .map(([n, t]) => `"${n}" ${t}`)
    .join(', ')})`;
}

async function insertRows(sql: Sql, table: string, fields: Fields, rows: readonly object[]): Promise<void> {
  if (rows.length === 0) return;
  await sql.query(`WITH src AS (SELECT * FROM ${recordset(fields)}) ${insertSql(table, fields)}`, [
    JSON.stringify(rows),
  ]);
}

function text<K extends string>(names: readonly K[]): Record<K, string> {
  return Object.fromEntries(names.map((n) => [n, 'text'])) as Record<K, string>;
}

const REGION_FIELDS: Record<keyof RegionRow, string> = text(['kato', 'nameKk', 'nameRu', 'nameEn']);
const PROVIDER_FIELDS: Record<keyof ProviderRow, string> = text([
  'id',
  'bin',
  'nameKk',
  'nameRu',
  'nameEn',
  'regionKato',
  'localityKk',
  'localityRu',
  'localityEn',
]);
const USER_FIELDS: Fields = {
  ...text(['id', 'login', 'fullName', 'iin', 'email', 'phone', 'positionKk', 'positionRu', 'passwordHash']),
  mustChangePassword: 'boolean',
  blocked: 'boolean',
  updatedAt: 'bigint',
};
const ROLE_FIELDS = text(['userId', 'role', 'providerId']);
const STAFF_FIELDS: Record<keyof StaffRow, string> = {
  ...text(['providerId', 'userId', 'positionKk', 'positionRu']),
  active: 'boolean',
};

const APPLICATION_FIELDS: Record<keyof DemoApplication['application'] | 'serverVersion', string> = {
  id: 'text',
  number: 'text',
  portalNumber: 'text',
  providerId: 'text',
  serviceCode: 'text',
  channel: 'text',
  applicantIin: 'text',
  applicantBin: 'text',
  applicantName: 'text',
  regionKato: 'text',
  locality: 'text',
  status: 'text',
  decision: 'text',
  responsibleUserId: 'text',
  currentStep: 'text',
  submittedAt: 'bigint',
  statusChangedAt: 'bigint',
  dueAt: 'bigint',
  formData: 'jsonb',
  refusalReasonCode: 'text',
  refusalText: 'text',
  reworkComment: 'text',
  serverVersion: 'bigint',
};

const EVENT_FIELDS: Record<keyof DemoApplication['events'][number], string> = {
  applicationId: 'text',
  seq: 'integer',
  at: 'bigint',
  actorUserId: 'text',
  action: 'text',
  fromStatus: 'text',
  toStatus: 'text',
  decision: 'text',
  comment: 'text',
  payload: 'jsonb',
  prevHash: 'text',
  hash: 'text',
};

/** Binary order of two texts, as the ids compare. */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Regions, providers, users with roles, staff: one transaction; the feed
 * rows of regions and providers in the global partition, those of users and
 * staff in the partitions of the providers they work at; each kind in the
 * order of its key (regions by KATO, providers and users by id, staff by
 * provider and user).
 */
async function copyDirectory(
  tx: Sql,
  directory: DemoDirectory,
  passwordHash: string,
  now: number,
): Promise<{ users: number; providers: number }> {
  const regions = [...directory.regions].sort((a, b) => byText(a.kato, b.kato));
  const providers = [...directory.providers].sort((a, b) => byText(a.id, b.id));
  // A user's roles in the order the server reads them (rows.ts readUser).
  const users = [...directory.users]
    .sort((a, b) => byText(a.id, b.id))
    .map((u) => ({
      ...u,
      roles: [...u.roles].sort((a, b) => byText(a.role, b.role) || byText(a.providerId, b.providerId)),
    }));
  const staff = [...directory.staff].sort((a, b) => byText(a.providerId, b.providerId) || byText(a.userId, b.userId));

  await insertRows(tx, 'regions', REGION_FIELDS, regions);
  await insertRows(tx, 'providers', PROVIDER_FIELDS, providers);
  await insertRows(
    tx,
    'users',
    USER_FIELDS,
    users.map((u) => ({ ...u, passwordHash, updatedAt: now })),
  );
  await insertRows(
    tx,
    'user_roles',
    ROLE_FIELDS,
    users.flatMap((u) => u.roles.map((r) => ({ userId: u.id, ...r }))),
  );
  await insertRows(tx, 'provider_staff', STAFF_FIELDS, staff);

  const feed: FeedWrite[] = [
    ...regions.map((r): FeedWrite => ({ entity: 'region', id: r.kato, op: 'upsert', data: r })),
    ...providers.map((p): FeedWrite => ({ entity: 'provider', id: p.id, op: 'upsert', data: p })),
  ];
  await publish(tx, GLOBAL_PARTITION, feed);
  // People go to the offices they work at only (directory.ts): a user row before the staff rows naming it.
  const atProvider = new Map<string, FeedWrite[]>(providers.map((p) => [p.id, []]));
  for (const u of users) {
    const at = new Set([
      ...u.roles.map((r) => r.providerId),
      ...staff.filter((s) => s.userId === u.id).map((s) => s.providerId),
    ]);
    for (const providerId of at) {
      atProvider.get(providerId)?.push({ entity: 'user', id: u.id, op: 'upsert', data: scopedUser(u, providerId) });
    }
  }
  for (const s of staff) {
    atProvider
      .get(s.providerId)
      ?.push({ entity: 'staff', id: staffFeedId(s.providerId, s.userId), op: 'upsert', data: s });
  }
  for (const [providerId, rows] of atProvider) {
    if (rows.length > 0) await publish(tx, providerPartition(providerId), rows);
  }
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
async function copyApplications(tx: Sql, apps: readonly DemoApplication[]): Promise<void> {
  const counts = new Map<string, number>();
  for (const { application: a, events } of apps) {
    const p = providerPartition(a.providerId);
    counts.set(p, (counts.get(p) ?? 0) + 1 + events.length);
  }
  const last = await bumpAll(tx, counts);
  const next = new Map([...last].map(([p, v]) => [p, v - counts.get(p)! + 1]));
  const appRows: object[] = [];
  const eventRows: object[] = [];
  for (const { application, events } of apps) {
    const partition = providerPartition(application.providerId);
    let v = next.get(partition)!;
    for (const e of events) eventRows.push({ ...e, feedPartition: partition, feedVersion: v++ });
    appRows.push({ ...application, serverVersion: v++ });
    next.set(partition, v);
  }
  await tx.query(
    `WITH src AS (SELECT * FROM ${recordset(APPLICATION_FIELDS)}),
     ins AS (${insertSql('applications', APPLICATION_FIELDS)} RETURNING ${APPLICATION_COLUMNS}, server_version AS "feedVersion")
     INSERT INTO feed (partition, entity, id, version, op, data)
     SELECT 'provider:' || ins."providerId", 'application', ins.id, ins."feedVersion", 'upsert', to_jsonb(ins) - 'feedVersion'
       FROM ins`,
    [JSON.stringify(appRows)],
  );
  if (eventRows.length === 0) return;
  const fields = { ...EVENT_FIELDS, feedPartition: 'text', feedVersion: 'bigint' };
  await tx.query(
    `WITH src AS (SELECT * FROM ${recordset(fields)}),
     ins AS (${insertSql('application_events', EVENT_FIELDS)} RETURNING ${EVENT_COLUMNS})
     INSERT INTO feed (partition, entity, id, version, op, data)
     SELECT src."feedPartition", 'event', ins."applicationId" || ':' || ins.seq, src."feedVersion", 'upsert', to_jsonb(ins)
       FROM ins JOIN src ON src."applicationId" = ins."applicationId" AND src.seq = ins.seq`,
    [JSON.stringify(eventRows)],
  );
}

/** Seeds the demo on an empty database; null when the database already had data. */
export async function seedDemo(sql: Sql, options: DemoSeedOptions): Promise<DemoSeedResult | null> {
  const started = performance.now();
  const now = options.now ?? Date.now();
  const resourcesDir = options.resourcesDir ?? RESOURCES_DIR;
  const passwordHash = await hashPassword(DEMO_PASSWORD, options.scrypt);
  const demo = demoRows({
    applications: options.applications,
    services: loadCatalogue(join(resourcesDir, 'services')).services,
    calendar: loadCalendars(join(resourcesDir, 'calendars')).calendar,
    seed: options.seed ?? 1,
    now,
    events: true,
  });
  const base = await sql.tx(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK]);
    const [any] = await tx.query('SELECT 1 FROM providers LIMIT 1');
    if (any) return null;
    return copyDirectory(tx, demo.directory, passwordHash, now);
  });
  if (!base) return null;

  // The applications are made as they are read: one batch in memory at a time.
  const total = demo.count;
  const batchSize = Math.max(1, options.batchSize ?? 2000);
  let done = 0;
  let batch: DemoApplication[] = [];
  const flush = async () => {
    const apps = batch;
    batch = [];
    await sql.tx((tx) => copyApplications(tx, apps));
    done += apps.length;
    options.onProgress?.(done, total);
  };
  for (const app of demo.applications) {
    batch.push(app);
    if (batch.length === batchSize) await flush();
  }
  if (batch.length > 0) await flush();
  await seedLookups(sql, { now, seed: options.seed ?? 1 });
  return { ...base, applications: done, ms: Math.round(performance.now() - started) };
}
