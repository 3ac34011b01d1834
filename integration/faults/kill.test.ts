/**
 * The kill suite: a workstation in a child process makes real local changes
 * and syncs, and is SIGKILLed at random points while it pushes (the request
 * in flight, its results being written) and while it applies a pull (a page,
 * the first snapshot); then started again, again and again. Meanwhile
 * another device of the same office writes to the server, so every pull has
 * pages to apply.
 *
 * After every kill the local database passes PRAGMA integrity_check and
 * still holds every change the workstation reported committed. At the end,
 * after one run without faults: every local change is on the server exactly
 * once (device_changes, same content, matching outcome; at most one server
 * event per change), none is lost, and the office's applications are the
 * same on both sides.
 *
 * QYZMET_FAULT_ITERATIONS=100 for the fault suite (default 8 in the normal
 * run); QYZMET_FAULT_SEED=n replays a run (the seed is printed).
 * The server runs in a child process on a throwaway PostgreSQL cluster (or
 * PGlite in a folder where PostgreSQL is not installed), so the suite's
 * timers are not held up by the server's work.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '#demo/generate.js';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { pgliteSql, postgresSql, type Sql } from '#server/src/postgres/sql.js';
import { DeviceClient } from '#server/src/load/device-client.js';
import { discoverOffices } from '#server/src/load/offices.js';
import { startServerProcess, type ServerProcess } from '#server/src/load/server-process.js';
import { buildQueue } from '#server/src/load/workload.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from '#server/src/testing/postgres.js';
import type { Change } from '#core/protocol.js';
import {
  checkExactlyOnce,
  divergence,
  integrityCheck,
  journalProblems,
  loginOffice,
  outboxHashes,
  randomAim,
  readOutbox,
  runAndKill,
  snapshotDone,
} from './harness.js';
import type { WorkstationPlan } from './workstation.js';

const ITERATIONS = Number(process.env.QYZMET_FAULT_ITERATIONS ?? 8);
const SEED = Number(process.env.QYZMET_FAULT_SEED ?? Date.now() % 1_000_000_000);
const PROVIDER = 'prov-astana-employment';
const HEAD = 'user-head-demo';

let dir: string;
let cluster: TestPostgres | null = null;
let databaseUrl: string | null = null;
let server: ServerProcess;

beforeAll(async () => {
  console.log(`kill suite: ${ITERATIONS} iterations, seed ${SEED} (replay with QYZMET_FAULT_SEED=${SEED})`);
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-kill-'));
  const reason = postgresUnavailable();
  if (reason === null) {
    cluster = await startPostgres();
    databaseUrl = await cluster.createDatabase('qyzmet_kill');
  } else {
    if (process.env.CI) throw new Error(`the kill suite needs PostgreSQL in CI: ${reason}`);
    console.warn(`kill suite on PGlite in a folder: ${reason}`);
  }
  server = await startServerProcess({
    ...(databaseUrl ? { databaseUrl } : { dataDir: join(dir, 'server') }),
    seed: 'demo',
    demoApplications: 120,
  });
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await cluster?.stop();
  if (process.env.QYZMET_FAULT_KEEP) console.log(`kill suite: kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

/** The server's database, for the checks (PGlite: only once the server stopped, it has one owner). */
async function serverSql(): Promise<Sql> {
  if (databaseUrl) return postgresSql(databaseUrl, 2);
  await server.stop();
  return pgliteSql(join(dir, 'server'));
}

describe('a workstation killed at random points', () => {
  it(
    `keeps every change and sends each exactly once (${ITERATIONS} kills)`,
    async () => {
      const random = mulberry32(SEED);
      const dbPath = join(dir, 'workstation.db');
      const plan = (rounds: number, changesPerRound: number, seed: number): WorkstationPlan => ({
        dbPath,
        dataDir: join(dir, 'workstation'),
        serverUrl: server.url,
        enrol: { providerId: PROVIDER, login: 'admin.demo', password: DEMO_PASSWORD },
        actorId: HEAD,
        actorLogin: 'head.demo',
        changesPerRound,
        rounds,
        seed,
        // Small snapshot transactions, and the bulk load (journal triggers off, rebuilt after) even for a small office.
        snapshotBatchRows: 25,
        bulkThreshold: 20,
      });

      // Another workstation of the office: new applications, assigned and accepted, pushed between kills.
      const other = new DeviceClient({ serverUrl: server.url });
      await other.enrol({
        providerId: PROVIDER,
        login: 'admin.demo',
        password: DEMO_PASSWORD,
        name: 'kill suite: the other desk',
      });
      const directory = await discoverOffices(other);
      await loginOffice(other, directory, PROVIDER);
      const office = directory.offices.find((o) => o.providerId === PROVIDER)!;
      const otherQueue: Change[] = buildQueue({
        office,
        services: directory.services,
        count: ITERATIONS * 60,
        tag: `K${SEED}`,
        seed: SEED,
        start: Date.now() - 86_400_000,
      });
      let otherSent = 0;

      const reported = new Set<string>();
      const where = new Map<string, number>();
      let killed = 0;
      for (let i = 0; i < ITERATIONS; i++) {
        const batch = otherQueue.slice(otherSent, otherSent + 10 + Math.floor(random() * 50));
        if (batch.length > 0)
          await other.pushAll(otherQueue.slice(0, otherSent + batch.length), { from: otherSent, batch: 500 });
        otherSent += batch.length;

        const aim = randomAim(random, snapshotDone(dbPath));
        const run = await runAndKill(plan(2, 5 + Math.floor(random() * 40), Math.floor(random() * 2 ** 31)), aim);
        for (const line of run.lines) if (line.startsWith('change ')) reported.add(line.slice(7));
        if (run.killed) {
          killed++;
          where.set(run.where, (where.get(run.where) ?? 0) + 1);
        } else if (run.code !== 0) {
          throw new Error(
            `iteration ${i} (seed ${SEED}): the workstation failed on its own (${run.code}):\n${run.lines.slice(-20).join('\n')}\n${run.stderr}`,
          );
        }
        // After every kill: the database is sound and holds every change it reported committed.
        expect(integrityCheck(dbPath), `iteration ${i}, seed ${SEED}`).toBe('ok');
        const local = outboxHashes(readOutbox(dbPath).rows);
        const lost = [...reported].filter((h) => !local.has(h));
        expect(lost, `iteration ${i}, seed ${SEED}: committed changes lost locally`).toEqual([]);
      }
      console.log(
        `kill suite: ${killed} of ${ITERATIONS} runs killed; where: ${JSON.stringify(Object.fromEntries(where))}`,
      );

      // One run without faults drains the outbox and catches up.
      const final = await runAndKill(plan(2, 0, 1), null);
      expect(final.code, final.lines.slice(-20).join('\n') + final.stderr).toBe(0);
      expect(final.lines.at(-1)).toBe('done 0');
      expect(integrityCheck(dbPath)).toBe('ok');
      expect(journalProblems(dbPath), 'the journal index after snapshots cut by kills').toEqual([]);

      const sql = await serverSql();
      try {
        const proof = await checkExactlyOnce(dbPath, sql, reported);
        console.log(
          `kill suite: ${JSON.stringify({ ...proof, problems: proof.problems.length, reported: reported.size })}`,
        );
        expect(proof.problems, `seed ${SEED}`).toEqual([]);
        expect(proof.local).toBeGreaterThan(0);
        expect(proof.applied).toBeGreaterThan(0);
        expect(await divergence(dbPath, sql, PROVIDER), `seed ${SEED}`).toEqual([]);
      } finally {
        await sql.close();
      }
      // The kills did land in both phases (over a long run; a short one may miss one by chance).
      if (ITERATIONS >= 50) {
        const phases = [...where.keys()].join(' ');
        expect(phases).toMatch(/push/);
        expect(phases).toMatch(/pull|snapshot/);
      }
    },
    Math.max(120_000, ITERATIONS * 15_000),
  );
});
