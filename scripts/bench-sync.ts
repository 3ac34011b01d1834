/**
 * The sync figures of `npm run bench` (`benchSync(report, dir)`; on its own:
 * `tsx scripts/bench-sync.ts`). The central server runs in a child process
 * on a throwaway PostgreSQL cluster (PGlite in a folder where PostgreSQL is
 * not installed), its demo office filled to 100,000 applications.
 *
 *  - sync.initial_pull_rows_per_s: a fresh workstation (a child process
 *    running the bundled SyncEngine under plain Node, as the app's main
 *    process runs it; scripts/bench-sync-client.ts), its first snapshot of
 *    the global and the office partition — feed rows applied per second of
 *    the initial sync, its CPU time printed;
 *    baseline: the same applications inserted raw (prepared INSERT, 2,000
 *    per transaction, foreign keys off) into a fresh database of the same
 *    schema (its journal triggers on), rows per second. Goal ≥ 30,000.
 *  - sync.client_peak_rss_mb: that workstation process's peak resident
 *    memory (getrusage maxrss) at the end of the initial sync; baseline: its
 *    peak before the sync began (database open, enrolled). Goal ≤ 250.
 *  - sync.push_10k_s: 10,000 changes made over a week offline (the head
 *    reassigning, through the WorkflowService), pushed by the real engine
 *    until none is pending; baseline: the same 10,000 payloads pushed raw
 *    by a protocol client in batches of 500. Goal ≤ 5.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Report } from '#bench/report.js';
import { bundleForNode } from '#bench/bundle.js';
import { defaultMigrationsFolder, openDatabase } from '#db/connection.js';
import type { ClientFigures, ClientPlan } from './bench-sync-client.js';
import { mulberry32 } from '#demo/generate.js';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { SyncEngine } from '#main/sync/engine.js';
import { loginOnline } from '#main/sync/testing.js';
import { makeChanges } from '#integration/faults/changes.js';
import { weekendOnlyCalendar } from '#core/workflow/deadlines.js';
import { WorkflowService } from '#main/workflow/service.js';
import type { Sql } from '#server/src/postgres/sql.js';
import { bump } from '#server/src/feed.js';
import { DeviceClient } from '#server/src/load/device-client.js';
import { discoverOffices } from '#server/src/load/offices.js';
import { startServerProcess } from '#server/src/load/server-process.js';
import { buildQueue } from '#server/src/load/workload.js';
import { providerPartition, type Change } from '#core/protocol.js';
import { APPLICATION_COLUMNS } from '#server/src/rows.js';
import { startServer } from '#server/src/server.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '#server/src/testing/postgres.js';

const ROOT = join(import.meta.dirname, '..');
const SELF = fileURLToPath(import.meta.url);
/** The office of the initial pull, filled to APPLICATIONS; the office of the push (small). */
const PULL_OFFICE = 'prov-astana-employment';
const PUSH_OFFICE = 'prov-astana-entrepreneurship';
const PUSH_HEAD = 'user-astana-entrepreneurship-head';
const APPLICATIONS = Number(process.env.QYZMET_BENCH_SYNC_APPLICATIONS ?? 100_000);
const CHANGES = 10_000;
const DAY = 86_400_000;

// ------------------------------------------------------------ the server ---

/**
 * Clones the office's own applications (new ids and numbers) until it has
 * `target`, with their feed rows in the office's partition, in transactions
 * of 20,000: the office a regional centre has after a few years.
 */
export async function fillOffice(sql: Sql, providerId: string, target: number): Promise<number> {
  const partition = providerPartition(providerId);
  const count = async () =>
    Number(
      (
        await sql.query<{ n: string }>('SELECT count(*) AS n FROM applications WHERE provider_id = $1', [providerId])
      )[0]!.n,
    );
  const originals = Number(
    (
      await sql.query<{ n: string }>(
        "SELECT count(*) AS n FROM applications WHERE provider_id = $1 AND id NOT LIKE '%~%'",
        [providerId],
      )
    )[0]!.n,
  );
  if (originals === 0) throw new Error(`bench: ${providerId} has no applications to clone`);
  for (let have = await count(); have < target; have = await count()) {
    const n = Math.min(20_000, target - have);
    const copy = Math.floor((have - originals) / originals) + 1;
    await sql.tx(async (tx) => {
      const last = await bump(tx, partition, n);
      await tx.query(
        `INSERT INTO applications (id, number, portal_number, provider_id, service_code, channel, applicant_iin,
           applicant_bin, applicant_name, region_kato, locality, status, decision, responsible_user_id, current_step,
           submitted_at, status_changed_at, due_at, form_data, refusal_reason_code, refusal_text, rework_comment,
           server_version)
         SELECT a.id || '~' || k, a.number || '~' || k, NULL, a.provider_id, a.service_code, a.channel, a.applicant_iin,
           a.applicant_bin, a.applicant_name, a.region_kato, a.locality, a.status, a.decision, a.responsible_user_id,
           a.current_step, a.submitted_at, a.status_changed_at, a.due_at, a.form_data, a.refusal_reason_code,
           a.refusal_text, a.rework_comment, 0
           FROM applications a CROSS JOIN generate_series($2::int, $2::int + 100) AS k
          WHERE a.provider_id = $1 AND a.id NOT LIKE '%~%'
            AND NOT EXISTS (SELECT 1 FROM applications b WHERE b.id = a.id || '~' || k)
          ORDER BY k, a.id LIMIT $3`,
        [providerId, copy, n],
      );
      await tx.query(
        `INSERT INTO feed (partition, entity, id, version, op, data)
         SELECT $1, 'application', x.id, $2::bigint + row_number() OVER (ORDER BY x.id) - 1, 'upsert', to_jsonb(x)
           FROM (SELECT ${APPLICATION_COLUMNS} FROM applications WHERE provider_id = $3 AND server_version = 0) x`,
        [partition, last - n + 1, providerId],
      );
      await tx.query(
        `UPDATE applications a SET server_version = f.version FROM feed f
          WHERE a.provider_id = $2 AND a.server_version = 0 AND f.partition = $1 AND f.entity = 'application' AND f.id = a.id`,
        [partition, providerId],
      );
    });
  }
  return count();
}

interface BenchServer {
  url: string;
  /** Feed rows a fresh workstation of PULL_OFFICE takes in its initial sync. */
  initialRows: number;
  applications: number;
  stop(): Promise<void>;
}

async function startBenchServer(dir: string): Promise<BenchServer> {
  let cluster: TestPostgres | null = null;
  let databaseUrl: string | null = null;
  if (postgresUnavailable() === null) {
    cluster = await startPostgres();
    databaseUrl = await cluster.createDatabase('qyzmet_bench_sync');
  }
  const dataDir = join(dir, 'server');
  const where = databaseUrl ? { databaseUrl } : { dataDir };
  const t = performance.now();
  // Seeded and filled here, then served by a child process (its own core; the workstation's memory is its own).
  const seeding = await startServer({ ...where, seed: 'demo', demoApplications: 2_000, log: () => undefined });
  const applications = await fillOffice(seeding.sql, PULL_OFFICE, APPLICATIONS);
  const [rows] = await seeding.sql.query<{ n: string }>(
    `SELECT count(*) AS n FROM feed WHERE partition IN ('global', $1)`,
    [providerPartition(PULL_OFFICE)],
  );
  await seeding.close();
  console.log(
    `# sync fixture: ${applications} applications in ${PULL_OFFICE} on ${databaseUrl ? 'PostgreSQL' : 'PGlite'}, built in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const server = await startServerProcess({ ...where, seed: 'none' });
  return {
    url: server.url,
    initialRows: Number(rows!.n),
    applications,
    stop: async () => {
      await server.stop();
      await cluster?.stop();
    },
  };
}

// ------------------------------------------------ the workstation (child) ---

/**
 * The workstation of the initial pull runs as the app's main process does:
 * bundled by esbuild (as scripts/build.mjs bundles main), under plain Node,
 * without the TypeScript loader the rest of the bench runs under.
 */
function bundleClient(): Promise<string> {
  return bundleForNode('scripts/bench-sync-client.ts', 'sync-client', ['better-sqlite3', 'pkcs11js']);
}

function runClient(bundle: string, plan: ClientPlan): Promise<ClientFigures> {
  return new Promise((resolve, reject) => {
    // QYZMET_BENCH_PROFILE=<dir>: the workstation's CPU profile written there (a .cpuprofile for DevTools).
    const profile = process.env.QYZMET_BENCH_PROFILE;
    const flags = profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : [];
    const child = spawn(process.execPath, [...flags, bundle, JSON.stringify(plan)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => (out += text));
    child.once('exit', (code) => {
      const m = /^figures (.*)$/m.exec(out);
      if (code === 0 && m) resolve(JSON.parse(m[1]!) as ClientFigures);
      else reject(new Error(`bench workstation failed (${code}):\n${out}`));
    });
  });
}

// ------------------------------------------------------------- the push ---

async function benchPush(report: Report, server: BenchServer, dir: string): Promise<void> {
  // The office's counter takes 300 applications in (created, assigned, accepted): open work to reassign.
  const intake = new DeviceClient({ serverUrl: server.url });
  await intake.enrol({ providerId: PUSH_OFFICE, login: 'admin.demo', password: DEMO_PASSWORD, name: 'bench intake' });
  const directory = await discoverOffices(intake);
  const office = directory.offices.find((o) => o.providerId === PUSH_OFFICE)!;
  // Each change goes under its author's key: the people the queue names log in online here first.
  const loginOf = (userId: string) => {
    const login = directory.logins.get(userId);
    if (!login) throw new Error(`bench: no login for ${userId}`);
    return login;
  };
  for (const userId of new Set([office.clerkId, office.headId, ...office.executorIds])) {
    await intake.login(loginOf(userId), DEMO_PASSWORD);
  }
  await intake.pushAll(
    buildQueue({ office, services: directory.services, count: 900, tag: 'B', seed: 9, start: Date.now() - 8 * DAY }),
    {
      batch: 500,
    },
  );

  // A workstation of the office, synced, then a week offline: 10,000 reassignments, a minute apart.
  const deskDir = join(dir, 'push-desk');
  mkdirSync(deskDir, { recursive: true });
  const weekAgo = Date.now() - 7 * DAY;
  let made = 0;
  const database = await openDatabase(join(deskDir, 'workstation.db'), { backupEveryMs: 0 });
  const engine = new SyncEngine({ sqlite: database.sqlite, serverUrl: server.url, dataDir: deskDir, watchOutboxMs: 0 });
  try {
    await engine.enrol({ providerId: PUSH_OFFICE, login: 'admin.demo', password: DEMO_PASSWORD, name: 'bench push' });
    await loginOnline(engine, server.url, [loginOf(PUSH_HEAD)]);
    await engine.runOnce();
    const workflow = new WorkflowService({
      sqlite: database.sqlite,
      services: loadCatalogue(join(ROOT, 'resources', 'services')).services,
      calendar: weekendOnlyCalendar(),
      now: () => weekAgo + made * 60_000,
    });
    const random = mulberry32(10);
    while (made < CHANGES) {
      made += makeChanges(database.sqlite, workflow, {
        providerId: PUSH_OFFICE,
        actorId: PUSH_HEAD,
        count: CHANGES - made,
        random,
      }).length;
    }
    // Making them held the event loop for a while: let it see the connections the server closed meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const pending = database.sqlite.prepare("SELECT count(*) FROM outbox WHERE state = 'pending'").pluck();
    if (pending.get() !== CHANGES)
      throw new Error(`bench: ${String(pending.get())} changes queued, expected ${CHANGES}`);

    // Baseline: the same payloads, pushed raw by a protocol client.
    const payloads = database.sqlite
      .prepare(
        `SELECT op, entity, entity_id AS entityId, payload, protocol_version AS protocolVersion,
                schema_version AS schemaVersion, created_at AS createdAt FROM outbox WHERE state = 'pending' ORDER BY seq`,
      )
      .all() as {
      op: string;
      entity: string;
      entityId: string;
      payload: string;
      protocolVersion: number;
      schemaVersion: number;
      createdAt: number;
    }[];
    const queue: Change[] = payloads.map((p, i) => ({
      ...p,
      seq: i + 1,
      payload: JSON.parse(p.payload) as unknown,
      signature: null,
    }));
    const rawClient = new DeviceClient({ serverUrl: server.url });
    await rawClient.enrol({
      providerId: PUSH_OFFICE,
      login: 'admin.demo',
      password: DEMO_PASSWORD,
      name: 'bench raw push',
    });
    await rawClient.login(loginOf(PUSH_HEAD), DEMO_PASSWORD);
    await rawClient.accessToken();
    const r0 = performance.now();
    const rawResults = await rawClient.pushAll(queue, { batch: 500 });
    const rawMs = performance.now() - r0;
    if (rawResults.some((r) => r.outcome !== 'applied')) throw new Error('bench: the raw push was not applied whole');

    // The engine: from the first request to the moment nothing is pending.
    const t = performance.now();
    let doneAt: number | null = null;
    // Watched with a look-up that costs nothing beside the engine on its thread (a count every few ms would).
    const anyPending = database.sqlite.prepare("SELECT EXISTS (SELECT 1 FROM outbox WHERE state = 'pending')").pluck();
    const watch = setInterval(() => {
      if (doneAt === null && anyPending.get() === 0) doneAt = performance.now();
    }, 10);
    await engine.runOnce();
    clearInterval(watch);
    doneAt ??= performance.now();
    const failure = engine.lastFailure();
    if (failure || pending.get() !== 0)
      throw new Error(`bench: the engine's push failed: ${failure?.message ?? 'changes left'}`);
    const sent = database.sqlite.prepare("SELECT count(*) FROM outbox WHERE state = 'sent'").pluck().get() as number;
    console.log(
      `# push: ${sent} sent by the engine in ${((doneAt - t) / 1000).toFixed(2)} s; raw ${(rawMs / 1000).toFixed(2)} s`,
    );
    report.add('sync.push_10k_s', (doneAt - t) / 1000, 's', rawMs / 1000);
  } finally {
    await engine.stop();
    database.close();
  }
}

/** The office's snapshot read and thrown away: the server's and the wire's share of the initial sync (printed). */
async function snapshotStreamAlone(serverUrl: string): Promise<void> {
  const probe = new DeviceClient({ serverUrl });
  await probe.enrol({ providerId: PULL_OFFICE, login: 'admin.demo', password: DEMO_PASSWORD, name: 'bench probe' });
  const url = new URL(`/v1/snapshot?partition=${encodeURIComponent(providerPartition(PULL_OFFICE))}`, serverUrl);
  const t = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${await probe.accessToken()}` } });
  let bytes = 0;
  for await (const chunk of res.body!) bytes += (chunk as Uint8Array).length;
  const s = (performance.now() - t) / 1000;
  console.log(
    `# the office's snapshot stream alone (read, not parsed): ${(bytes / 1e6).toFixed(1)} MB in ${s.toFixed(2)} s`,
  );
}

// ------------------------------------------------------------ the figures ---

async function benchPull(report: Report, server: BenchServer, dir: string): Promise<void> {
  await snapshotStreamAlone(server.url);
  const clientDir = join(dir, 'pull-desk');
  mkdirSync(clientDir, { recursive: true });
  const f = await runClient(await bundleClient(), {
    dir: clientDir,
    serverUrl: server.url,
    providerId: PULL_OFFICE,
    migrationsFolder: defaultMigrationsFolder(),
  });
  if (f.failure) throw new Error(`bench: the initial sync failed: ${f.failure}`);
  if (f.applications < server.applications) {
    throw new Error(`bench: ${f.applications} applications arrived, ${server.applications} expected`);
  }
  console.log(
    `# initial sync: ${server.initialRows} feed rows (${f.applications} applications) in ${(f.ms / 1000).toFixed(2)} s (the workstation's CPU ${(f.cpuMs / 1000).toFixed(2)} s, its thread held at most ${Math.round(f.longestBlockMs)} ms at once); raw insert of the applications ${(f.rawMs / 1000).toFixed(2)} s`,
  );
  report.add(
    'sync.initial_pull_rows_per_s',
    server.initialRows / (f.ms / 1000),
    'rows/s',
    f.rawRows / (f.rawMs / 1000),
  );
  report.add('sync.client_peak_rss_mb', f.peakRssKb / 1024, 'MB', f.rssBeforeKb / 1024);
}

export async function benchSync(
  report: Report,
  dir: string = mkdtempSync(join(tmpdir(), 'qyzmet-bench-sync-')),
): Promise<void> {
  const server = await startBenchServer(dir);
  try {
    // QYZMET_BENCH_SKIP_PULL=1 / QYZMET_BENCH_SKIP_PUSH=1: one half of the figures alone (while working on it).
    if (process.env.QYZMET_BENCH_SKIP_PULL !== '1') await benchPull(report, server, dir);
    if (process.env.QYZMET_BENCH_SKIP_PUSH !== '1') await benchPush(report, server, dir);
  } finally {
    await server.stop();
  }
}

if (process.argv[1] === SELF) {
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-bench-sync-'));
  try {
    await benchSync(new Report(), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
