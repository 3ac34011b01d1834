/**
 * The central server killed in the middle of a push: the server runs in a
 * child process on a real PostgreSQL cluster and gets SIGKILL while it is
 * applying a batch (one of its transactions has been open for a random
 * while, per pg_stat_activity, and the batch is not all committed). Then:
 *
 * - what it committed is whole: every recorded change has its effect and its
 *   event, last_seq equals the number of records, nothing of a change that
 *   did not commit is left (PostgreSQL rolled the open transaction back);
 * - started again, the client sends the same batch again: the applied
 *   part comes back 'duplicate', the rest is applied, each change once
 *   (a protocol client that resends by hand, then the workstation's real
 *   engine with real local changes, retrying by itself).
 *
 * The server's database must outlive the server process, so this needs
 * PostgreSQL (a killed PGlite process is not a database server dying);
 * without it the test is skipped locally with the reason printed, and fails
 * in CI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '#db/connection.js';
import { mulberry32 } from '#demo/generate.js';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { postgresSql, type Sql } from '#server/src/postgres/sql.js';
import { DeviceCallError, DeviceClient } from '#server/src/load/device-client.js';
import { discoverOffices, type Directory } from '#server/src/load/offices.js';
import { startServerProcess, type ServerProcess } from '#server/src/load/server-process.js';
import { buildQueue } from '#server/src/load/workload.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { weekendOnlyCalendar } from '#core/workflow/deadlines.js';
import { WorkflowService } from '#main/workflow/service.js';
import { SyncEngine } from '#main/sync/engine.js';
import { makeChanges } from './changes.js';
import { checkExactlyOnce, loginOffice } from './harness.js';
import { loginOnline } from '#main/sync/testing.js';
import { providerPartition, type Change, type PushAnswer } from '#core/protocol.js';
import { requirePostgres, startPostgres, type TestPostgres } from '#server/src/testing/postgres.js';

const SEED = Number(process.env.QYZMET_FAULT_SEED ?? Date.now() % 1_000_000_000);
const PROVIDER = 'prov-astana-employment';
const HEAD = 'user-head-demo';
const SERVICES = loadCatalogue(join(import.meta.dirname, '..', '..', 'resources', 'services')).services;
const havePostgres = requirePostgres();

let cluster: TestPostgres;
let databaseUrl: string;
let sql: Sql;
let server: ServerProcess;
let port = 0;

async function startAgain(): Promise<void> {
  server = await startServerProcess({ databaseUrl, seed: 'demo', demoApplications: 60, ...(port ? { port } : {}) });
  port = server.port;
}

beforeAll(async () => {
  if (!havePostgres) return;
  console.log(`server kill: seed ${SEED} (replay with QYZMET_FAULT_SEED=${SEED})`);
  cluster = await startPostgres();
  databaseUrl = await cluster.createDatabase('qyzmet_server_kill');
  sql = postgresSql(databaseUrl, 2);
  await startAgain();
}, 180_000);

afterAll(async () => {
  if (!havePostgres) return;
  await server?.stop();
  await sql?.close();
  await cluster?.stop();
});

const one = async (text: string, params: unknown[], on: Sql = sql) =>
  Number(Object.values((await on.query(text, params))[0] ?? {})[0] ?? 0);

/**
 * Waits until one of the server's transactions has been open for `ageMs`
 * (pg_stat_activity: the push is being applied) while the device's batch is
 * not all committed, then SIGKILLs the server. Returns the device's last_seq
 * seen just before.
 *
 * Meanwhile the office's partition row is held locked here: a push takes it
 * last, for its feed versions, just before it commits, so the batch's
 * transaction cannot commit before the kill however fast the server applies
 * it (it is killed while applying, or with its writes done and waiting for
 * the lock).
 */
async function killMidTransaction(deviceId: string, to: number, ageMs: number): Promise<number> {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  let holder = 0;
  const holding = new Promise<void>((resolve, reject) => {
    sql
      .tx(async (tx) => {
        await tx.query('SELECT 1 FROM partitions WHERE partition = $1 FOR UPDATE', [providerPartition(PROVIDER)]);
        holder = await one('SELECT pg_backend_pid()', [], tx);
        resolve();
        await released;
      })
      .catch(reject);
  });
  await holding;
  try {
    for (;;) {
      const [row] = await sql.query<{ last: string | number; open: string | number }>(
        `SELECT d.last_seq AS last,
                (SELECT count(*) FROM pg_stat_activity
                  WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), $3) AND xact_start IS NOT NULL
                    AND clock_timestamp() - xact_start >= make_interval(secs => $2::float8 / 1000)) AS open
           FROM devices d WHERE d.id = $1`,
        [deviceId, ageMs, holder],
      );
      const last = Number(row?.last ?? 0);
      if (last >= to) throw new Error('the batch finished before the kill');
      if (Number(row?.open ?? 0) > 0) {
        await server.kill();
        return last;
      }
    }
  } finally {
    release();
  }
}

/** What the server committed for a device is whole: records, last_seq, effects and events agree. */
async function checkWhole(
  deviceId: string,
  createdIds: readonly string[],
): Promise<{ lastSeq: number; records: number }> {
  const lastSeq = await one('SELECT last_seq FROM devices WHERE id = $1', [deviceId]);
  const records = await one('SELECT count(*) FROM device_changes WHERE device_id = $1', [deviceId]);
  const maxSeq = await one('SELECT coalesce(max(seq), 0) FROM device_changes WHERE device_id = $1', [deviceId]);
  expect(records, 'one record per seq up to last_seq').toBe(lastSeq);
  expect(maxSeq).toBe(lastSeq);
  const events = await one('SELECT count(*) FROM application_events WHERE device_id = $1', [deviceId]);
  const distinct = await one('SELECT count(DISTINCT device_seq) FROM application_events WHERE device_id = $1', [
    deviceId,
  ]);
  const beyond = await one('SELECT count(*) FROM application_events WHERE device_id = $1 AND device_seq > $2', [
    deviceId,
    lastSeq,
  ]);
  const applied = await one("SELECT count(*) FROM device_changes WHERE device_id = $1 AND outcome = 'applied'", [
    deviceId,
  ]);
  expect(events, 'one server event per applied change').toBe(applied);
  expect(distinct).toBe(events);
  expect(beyond, 'no event of a change that did not commit').toBe(0);
  const createsRecorded = await one(
    "SELECT count(*) FROM device_changes WHERE device_id = $1 AND op = 'application.create' AND outcome = 'applied'",
    [deviceId],
  );
  const created = await one('SELECT count(*) FROM applications WHERE id = ANY($1::text[])', [createdIds]);
  expect(created, 'an application exists exactly for each recorded create').toBe(createsRecorded);
  return { lastSeq, records };
}

/** One push, tried again while the restarted server is not reachable yet (a stale pooled connection). */
async function resend(client: DeviceClient, batch: Change[]): Promise<PushAnswer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.push(batch);
    } catch (e) {
      if (!(e instanceof DeviceCallError) || e.status !== 0 || attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe.skipIf(!havePostgres)('the server killed mid-transaction', () => {
  it('keeps what it committed whole, and the client resends: every change exactly once', async () => {
    const random = mulberry32(SEED);
    const client = new DeviceClient({ serverUrl: server.url, timeoutMs: 20_000 });
    await client.enrol({ providerId: PROVIDER, login: 'admin.demo', password: DEMO_PASSWORD, name: 'server kill' });
    const directory: Directory = await discoverOffices(client);
    await loginOffice(client, directory, PROVIDER);
    const office = directory.offices.find((o) => o.providerId === PROVIDER)!;
    const queue = buildQueue({
      office,
      services: directory.services,
      count: 1_500,
      tag: `S${SEED}`,
      seed: SEED,
      start: Date.now() - 86_400_000,
    });
    const createdIds = queue.filter((c) => c.op === 'application.create').map((c) => c.entityId);

    let sent = 0;
    const kills: { from: number; ageMs: number; committed: number }[] = [];
    for (let round = 0; round < 3; round++) {
      const batch = queue.slice(sent, sent + 500);
      const ageMs = 20 + Math.floor(random() * 400);
      const push = client.push(batch).then(
        () => 'answered' as const,
        () => 'failed' as const,
      );
      const killedAt = await killMidTransaction(client.deviceId, sent + batch.length, ageMs);
      expect(await push, 'the client never heard an answer').toBe('failed');
      const { lastSeq } = await checkWhole(client.deviceId, createdIds);
      // What committed before the kill stays (a per-change transaction), what was open is gone.
      expect(lastSeq, 'the kill cut the batch: not all of it committed').toBeLessThan(sent + batch.length);
      expect(lastSeq).toBeGreaterThanOrEqual(killedAt);
      kills.push({ from: sent, ageMs, committed: lastSeq });

      await startAgain();
      // The client resends the whole batch, as it never heard an answer.
      const answer = await resend(client, batch);
      const outcomes = answer.results.map((r) => r.outcome);
      expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(lastSeq - sent);
      expect(outcomes.filter((o) => o === 'applied')).toHaveLength(sent + batch.length - lastSeq);
      expect(answer.lastSeq).toBe(sent + batch.length);
      sent += batch.length;
      await checkWhole(client.deviceId, createdIds);
    }
    console.log(`server kill: ${JSON.stringify(kills)}`);
    expect(
      await one("SELECT count(*) FROM device_changes WHERE device_id = $1 AND outcome = 'applied'", [client.deviceId]),
    ).toBe(1_500);
    expect(await one('SELECT count(*) FROM applications WHERE id = ANY($1::text[])', [createdIds])).toBe(
      createdIds.length,
    );
  }, 180_000);

  it("the workstation's engine, its push cut by the server's death, retries until each change is there once", async () => {
    const random = mulberry32(SEED + 1);
    const dir = mkdtempSync(join(tmpdir(), 'qyzmet-server-kill-'));
    const dbPath = join(dir, 'workstation.db');
    const database = await openDatabase(dbPath, { backupEveryMs: 0 });
    const engine = new SyncEngine({
      sqlite: database.sqlite,
      serverUrl: server.url,
      dataDir: dir,
      backoff: { baseMs: 20, capMs: 200 },
      watchOutboxMs: 0,
      requestTimeoutMs: 10_000,
    });
    const pending = () =>
      database.sqlite.prepare("SELECT count(*) FROM outbox WHERE state = 'pending'").pluck().get() as number;
    try {
      await engine.enrol({
        providerId: PROVIDER,
        login: 'admin.demo',
        password: DEMO_PASSWORD,
        name: 'server kill desk',
      });
      // The head logs in online here: her changes carry her proof.
      await loginOnline(engine, server.url, ['head.demo']);
      await engine.runOnce();
      expect(engine.lastFailure()).toBeNull();
      const workflow = new WorkflowService({
        sqlite: database.sqlite,
        services: SERVICES,
        calendar: weekendOnlyCalendar(),
      });
      const reported = new Set<string>();
      const deviceId = engine.deviceId()!;
      for (let round = 0; round < 2; round++) {
        const before = await one('SELECT last_seq FROM devices WHERE id = $1', [deviceId]);
        for (const h of makeChanges(database.sqlite, workflow, {
          providerId: PROVIDER,
          actorId: HEAD,
          count: 300,
          random,
        })) {
          reported.add(h);
        }
        const run = engine.runOnce();
        await killMidTransaction(deviceId, before + 300, 20 + Math.floor(random() * 300));
        await run;
        expect(engine.lastFailure(), 'the run met the dead server').not.toBeNull();
        const { lastSeq } = await checkWhole(deviceId, []);
        expect(lastSeq).toBeLessThan(before + 300);
        await startAgain();
        for (let i = 0; i < 20 && pending() > 0; i++) await engine.runOnce();
        expect(pending()).toBe(0);
      }
      const proof = await checkExactlyOnce(dbPath, sql, reported);
      expect(proof.problems, `seed ${SEED}`).toEqual([]);
      expect(proof.applied).toBe(600);
    } finally {
      await engine.stop();
      database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
