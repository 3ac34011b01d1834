/**
 * `npm run load [-- --workstations 200 --changes 500 --concurrency 50 --batch 100 --deadline-s 900]`:
 * the load run against a central server on loopback, then the exactly-once
 * check on its database. Prints its figures and exits non-zero when a change
 * is missing, doubled or rejected, or when the run passed its deadline.
 *
 * The server runs in a child process (`server/src/main.ts`), so the load
 * generator and the server each have a core. Its database: DATABASE_URL when
 * set; else a throwaway PostgreSQL cluster (server/src/testing/postgres.ts)
 * when the binaries are installed; else the embedded PGlite in a temporary
 * folder (checked after the server stopped, as PGlite has one owner).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { pgliteSql, postgresSql, type Sql } from '../postgres/sql.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../testing/postgres.js';
import { checkLoad, runLoad } from './run.js';
import { startServerProcess } from './server-process.js';

const { values } = parseArgs({
  options: {
    workstations: { type: 'string', default: '200' },
    changes: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '50' },
    batch: { type: 'string', default: '100' },
    'deadline-s': { type: 'string', default: '900' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    'demo-applications': { type: 'string', default: '200' },
  },
});

const seed = Number(values.seed);
console.log(`# load run, seed ${seed} (replay with --seed ${seed})`);
const dir = mkdtempSync(join(tmpdir(), 'qyzmet-load-'));
let cluster: TestPostgres | null = null;
let databaseUrl = process.env.DATABASE_URL ?? null;
if (!databaseUrl && postgresUnavailable() === null) {
  cluster = await startPostgres();
  databaseUrl = await cluster.createDatabase('qyzmet_load');
}
const dataDir = databaseUrl ? null : join(dir, 'server-data');
console.log(`# database: ${databaseUrl ? `PostgreSQL ${databaseUrl}` : `PGlite in ${dataDir}`}`);

let failed: boolean;
const server = await startServerProcess({
  ...(databaseUrl ? { databaseUrl } : { dataDir }),
  seed: 'demo',
  demoApplications: Number(values['demo-applications']),
});
try {
  const result = await runLoad({
    serverUrl: server.url,
    workstations: Number(values.workstations),
    changesPerWorkstation: Number(values.changes),
    concurrency: Number(values.concurrency),
    batch: Number(values.batch),
    deadlineMs: Number(values['deadline-s']) * 1000,
    admin: { login: 'admin.demo', password: DEMO_PASSWORD },
    seed,
    log: (line) => console.log(line),
  });
  if (!databaseUrl) await server.stop();
  const sql: Sql = databaseUrl ? postgresSql(databaseUrl) : await pgliteSql(dataDir);
  try {
    const check = await checkLoad(sql, result);
    const f = (n: number) => Math.round(n).toLocaleString('en-US');
    console.log(`load.changes: ${f(result.changes)} from ${result.devices.length} workstations`);
    console.log(
      `load.outcomes: applied ${f(result.outcomes.applied)}, duplicate ${f(result.outcomes.duplicate)}, rejected ${f(result.outcomes.rejected)}`,
    );
    console.log(`load.pushes: ${f(result.pushes)} requests, ${f(result.retries)} retried`);
    console.log(`load.changes_per_s: ${f(result.changesPerSecond)}`);
    console.log(
      `load.push_latency_ms: p50 ${f(result.pushLatencyMs.p50)}, p95 ${f(result.pushLatencyMs.p95)}, p99 ${f(result.pushLatencyMs.p99)}, max ${f(result.pushLatencyMs.max)}`,
    );
    console.log(`load.enrol_s: ${(result.enrolMs / 1000).toFixed(1)}`);
    console.log(`load.push_wall_s: ${(result.pushWallMs / 1000).toFixed(1)}`);
    console.log(`load.wall_s: ${(result.wallMs / 1000).toFixed(1)}`);
    console.log(`load.check: ${JSON.stringify(check.counts)}`);
    for (const r of result.rejections) console.log(`  rejected seq ${r.seq}: ${r.reason} ${r.message ?? ''}`);
    if (result.timedOut) console.log('FAIL: the run passed its deadline');
    for (const p of check.problems) console.log(`FAIL: ${p}`);
    failed = result.timedOut || !check.ok;
    if (!failed) console.log('OK: every change applied exactly once');
  } finally {
    await sql.close();
  }
} finally {
  await server.stop();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
