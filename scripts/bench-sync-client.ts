/**
 * The workstation of the bench's initial pull (scripts/bench-sync.ts runs it
 * bundled, in a process of its own): enrols, takes its first sync timed,
 * reports its CPU time and peak memory, then the raw-insert baseline.
 */
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openDatabase } from '#db/connection.js';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { SyncEngine } from '#main/sync/engine.js';

export interface ClientPlan {
  dir: string;
  migrationsFolder: string;
  serverUrl: string;
  providerId: string;
}

export interface ClientFigures {
  ms: number;
  /** The workstation's CPU time in the initial sync (user + system). */
  cpuMs: number;
  /** The longest the process's thread was held at once during the initial sync (the app's window waits that long). */
  longestBlockMs: number;
  applications: number;
  rssBeforeKb: number;
  peakRssKb: number;
  rawMs: number;
  rawRows: number;
  failure: string | null;
}

/** In the child: enrol, the initial sync timed, its peak memory, then the raw-insert baseline. */
export async function clientMain(plan: ClientPlan): Promise<void> {
  const dbPath = join(plan.dir, 'workstation.db');
  const database = await openDatabase(dbPath, { backupEveryMs: 0, migrationsFolder: plan.migrationsFolder });
  const engine = new SyncEngine({
    sqlite: database.sqlite,
    serverUrl: plan.serverUrl,
    dataDir: plan.dir,
    watchOutboxMs: 0,
  });
  await engine.enrol({ providerId: plan.providerId, login: 'admin.demo', password: DEMO_PASSWORD, name: 'bench' });
  const rssBeforeKb = process.resourceUsage().maxRSS;
  const blocks = monitorEventLoopDelay({ resolution: 10 });
  blocks.enable();
  const t = performance.now();
  const cpu0 = process.cpuUsage();
  await engine.runOnce();
  const ms = performance.now() - t;
  blocks.disable();
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const peakRssKb = process.resourceUsage().maxRSS;
  const failure = engine.lastFailure()?.message ?? null;
  const applications = database.sqlite.prepare('SELECT count(*) FROM applications').pluck().get() as number;

  // Baseline: the same application rows, inserted raw into a fresh database of the same schema.
  const raw = await openDatabase(join(plan.dir, 'raw.db'), {
    backupEveryMs: 0,
    migrationsFolder: plan.migrationsFolder,
  });
  // Raw: the rows alone (their providers and users are not in this database).
  raw.sqlite.pragma('foreign_keys = OFF');
  const columns = (raw.sqlite.prepare('PRAGMA table_info(applications)').all() as { name: string }[]).map(
    (c) => c.name,
  );
  const insert = raw.sqlite.prepare(
    `INSERT INTO applications (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
  );
  const read = database.sqlite.prepare(`SELECT ${columns.join(', ')} FROM applications`).raw();
  const rows = read.all() as unknown[][];
  const insertBatch = raw.sqlite.transaction((batch: unknown[][]) => {
    for (const r of batch) insert.run(r);
  });
  const r0 = performance.now();
  for (let i = 0; i < rows.length; i += 2_000) insertBatch(rows.slice(i, i + 2_000));
  const rawMs = performance.now() - r0;
  raw.close();
  database.close();
  const figures: ClientFigures = {
    ms,
    cpuMs,
    longestBlockMs: blocks.max / 1e6,
    applications,
    rssBeforeKb,
    peakRssKb,
    rawMs,
    rawRows: rows.length,
    failure,
  };
  process.stdout.write(`figures ${JSON.stringify(figures)}\n`);
}

const arg = process.argv[2];
if (arg?.startsWith('{')) {
  clientMain(JSON.parse(arg) as ClientPlan).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
