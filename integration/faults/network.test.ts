/**
 * The real sync engine against the real server through the fault proxy:
 * 5xx (before and after the server applied the push), timeouts, connections
 * dropped before and after the server saw the request (duplicate delivery),
 * answers truncated and answers that are not the protocol, on push, pull and
 * the first snapshot; a seeded storm of all of them at once; a rejection
 * whose answer was lost; a workstation clock a day off; the server upgraded
 * to a newer protocol while the workstation holds a queue.
 *
 * After each: every local change on the server exactly once (the harness's
 * proof), and the office's applications the same on both sides.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '#db/connection.js';
import { mulberry32 } from '#demo/generate.js';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { weekendOnlyCalendar } from '#core/workflow/deadlines.js';
import { WorkflowService } from '#main/workflow/service.js';
import { pgliteSql, type Sql } from '#server/src/postgres/sql.js';
import { DeviceClient } from '#server/src/load/device-client.js';
import { discoverOffices, type Directory } from '#server/src/load/offices.js';
import { buildQueue, type Office } from '#server/src/load/workload.js';
import { startServer, type RunningServer } from '#server/src/server.js';
import {
  notJson,
  PASS,
  serverError,
  startFaultProxy,
  wrongShape,
  type Fault,
  type FaultProxy,
} from '#server/src/testing/fault-proxy.js';
import { SyncEngine } from '#main/sync/engine.js';
import { PROTOCOL_VERSION } from '#core/protocol.js';
import { loginOnline } from '#main/sync/testing.js';
import { executorsOf, makeChanges } from './changes.js';
import { checkExactlyOnce, divergence, integrityCheck, loginOffice } from './harness.js';

const SEED = Number(process.env.QYZMET_FAULT_SEED ?? Date.now() % 1_000_000_000);
const PROVIDER = 'prov-astana-employment';
const HEAD = 'user-head-demo';
const EXECUTOR = 'user-executor-demo';
/** A protocol past this build's (a server upgraded before its workstations). */
const NEXT = PROTOCOL_VERSION + 1;
const DAY = 86_400_000;
const SERVICES = loadCatalogue(join(import.meta.dirname, '..', '..', 'resources', 'services')).services;

interface Desk {
  dir: string;
  dbPath: string;
  database: OpenedDatabase;
  engine: SyncEngine;
  workflow: WorkflowService;
  reported: Set<string>;
  /** Makes `count` local changes; their hashes join `reported`. */
  change(count: number): string[];
  /** Runs the engine until nothing is pending (or `rounds` runs), the failures it met. */
  drain(rounds?: number): Promise<string[]>;
  close(): void;
}

let sql: Sql;
let server: RunningServer;
let proxy: FaultProxy;
let directory: Directory;
let office: Office;
const random = mulberry32(SEED);

async function openDesk(options: { clockOffsetMs?: number; timeoutMs?: number } = {}): Promise<Desk> {
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-net-'));
  const dbPath = join(dir, 'workstation.db');
  const now = () => Date.now() + (options.clockOffsetMs ?? 0);
  const database = await openDatabase(dbPath, { backupEveryMs: 0, now });
  const engine = new SyncEngine({
    sqlite: database.sqlite,
    serverUrl: proxy.url,
    dataDir: dir,
    now,
    backoff: { baseMs: 10, capMs: 50 },
    watchOutboxMs: 0,
    requestTimeoutMs: options.timeoutMs ?? 2_000,
    pullPageSize: 50,
    snapshotBatchRows: 50,
  });
  const workflow = new WorkflowService({
    sqlite: database.sqlite,
    services: SERVICES,
    calendar: weekendOnlyCalendar(),
    now,
  });
  const reported = new Set<string>();
  const pending = () =>
    (database.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE state = 'pending'").get() as { n: number }).n;
  const desk: Desk = {
    dir,
    dbPath,
    database,
    engine,
    workflow,
    reported,
    change: (count) => {
      const hashes = makeChanges(database.sqlite, workflow, { providerId: PROVIDER, actorId: HEAD, count, random });
      for (const h of hashes) reported.add(h);
      return hashes;
    },
    drain: async (rounds = 20) => {
      const failures: string[] = [];
      for (let i = 0; i < rounds; i++) {
        await engine.runOnce();
        const failure = engine.lastFailure();
        if (failure) failures.push(failure.message);
        else if (pending() === 0) return failures;
      }
      throw new Error(
        `not drained after ${rounds} runs: ${pending()} pending; failures: ${failures.slice(-3).join(' | ')}`,
      );
    },
    close: () => {
      database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await engine.enrol({ providerId: PROVIDER, login: 'admin.demo', password: DEMO_PASSWORD, name: 'network faults' });
  // The head and the executor log in online here (straight to the server): their changes carry their proof.
  await loginOnline(engine, server.url, ['head.demo', 'executor.demo']);
  await desk.drain();
  return desk;
}

/** The proof for one desk: exactly once, the same applications, a sound database. */
async function proveExactlyOnce(desk: Desk): Promise<void> {
  proxy.reset();
  await desk.drain();
  const proof = await checkExactlyOnce(desk.dbPath, sql, desk.reported);
  expect(proof.problems, `seed ${SEED}`).toEqual([]);
  expect(await divergence(desk.dbPath, sql, PROVIDER), `seed ${SEED}`).toEqual([]);
  expect(integrityCheck(desk.dbPath)).toBe('ok');
}

beforeAll(async () => {
  console.log(`network faults: seed ${SEED} (replay with QYZMET_FAULT_SEED=${SEED})`);
  sql = await pgliteSql(null);
  server = await startServer({ sql, seed: 'demo', demoApplications: 120, log: () => undefined });
  proxy = await startFaultProxy(server.url);
  // The office's counter takes applications in: some accepted by an executor, some waiting for the head.
  const intake = new DeviceClient({ serverUrl: server.url });
  await intake.enrol({ providerId: PROVIDER, login: 'admin.demo', password: DEMO_PASSWORD, name: 'intake desk' });
  directory = await discoverOffices(intake);
  await loginOffice(intake, directory, PROVIDER);
  office = directory.offices.find((o) => o.providerId === PROVIDER)!;
  const start = Date.now() - DAY;
  const accepted = buildQueue({ office, services: directory.services, count: 60, tag: `N${SEED}a`, seed: SEED, start });
  const waiting = buildQueue({
    office,
    services: directory.services,
    count: 20,
    tag: `N${SEED}b`,
    seed: SEED + 1,
    start,
    steps: 1,
    firstSeq: accepted.length + 1,
  });
  await intake.pushAll([...accepted, ...waiting], { batch: 100 });
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await server?.close();
  await sql?.close();
});

describe('push through faults', () => {
  let desk: Desk;
  beforeAll(async () => {
    desk = await openDesk();
  }, 60_000);
  afterAll(() => desk.close());

  /**
   * `times`: how many requests in a row meet the fault (a request that fails
   * before any answer is sent once more at once, so a dropped connection
   * fails the run only when the second try is dropped too); `absorbed`: the
   * run succeeds anyway.
   */
  const cases: { name: string; fault: Fault; applied: boolean; times?: number; absorbed?: boolean }[] = [
    { name: '503 before the server saw it', fault: serverError(503), applied: false },
    { name: '500 after the server applied it', fault: serverError(500, true), applied: true },
    { name: 'connection dropped before forwarding', fault: { kind: 'dropBeforeForward' }, applied: false, times: 2 },
    {
      name: 'connection dropped after the server applied it (duplicate delivery)',
      fault: { kind: 'dropAfterForward' },
      applied: true,
      times: 2,
    },
    {
      name: 'connection dropped once after the server applied it (sent again at once: a duplicate)',
      fault: { kind: 'dropAfterForward' },
      applied: true,
      times: 1,
      absorbed: true,
    },
    { name: 'answer truncated after 30 bytes', fault: { kind: 'truncate', bytes: 30 }, applied: true },
    { name: 'answer truncated to its headers', fault: { kind: 'truncate', bytes: 0 }, applied: true },
    { name: 'answer not JSON', fault: notJson(true), applied: true },
    { name: 'answer of the wrong shape', fault: wrongShape(true), applied: true },
    { name: 'request delayed past the timeout (arrives late)', fault: { kind: 'delay', ms: 2_500 }, applied: true },
    { name: 'answer delayed past the timeout', fault: { kind: 'delay', ms: 2_500, where: 'answer' }, applied: true },
  ];

  for (const c of cases) {
    it(`${c.name}: kept, retried, applied once`, async () => {
      const before = Number(
        (
          await sql.query<{ n: number }>('SELECT count(*) AS n FROM device_changes WHERE device_id = $1', [
            desk.engine.deviceId(),
          ])
        )[0]!.n,
      );
      const hashes = desk.change(5);
      expect(hashes.length).toBeGreaterThan(0);
      proxy.add({ path: '/v1/push', fault: c.fault, times: c.times ?? 1 });
      const mark = proxy.log.length;
      await desk.engine.runOnce();
      const pushes = proxy.log.slice(mark).filter((r) => r.path === '/v1/push');
      expect(pushes[0]?.fault, 'the push met the fault').toBe(c.fault.kind);
      const pending = desk.database.sqlite.prepare(`SELECT count(*) FROM outbox WHERE state = 'pending'`).pluck();
      if (c.absorbed) {
        expect(desk.engine.lastFailure()).toBeNull();
        expect(pending.get()).toBe(0);
        // The server had it twice: applied, then a duplicate.
        expect(pushes.filter((r) => r.upstreamStatus === 200)).toHaveLength(2);
        await proveExactlyOnce(desk);
        return;
      }
      expect(desk.engine.lastFailure(), 'the faulty push is a failure of the run').not.toBeNull();
      expect(pending.get(), 'nothing left the queue on a failed push').toBe(hashes.length);
      if (c.fault.kind === 'delay') await new Promise((r) => setTimeout(r, 3_000));
      const after = Number(
        (
          await sql.query<{ n: number }>('SELECT count(*) AS n FROM device_changes WHERE device_id = $1', [
            desk.engine.deviceId(),
          ])
        )[0]!.n,
      );
      expect(after - before, c.applied ? 'the server applied the lost push' : 'the server never saw it').toBe(
        c.applied ? hashes.length : 0,
      );
      await proveExactlyOnce(desk);
    }, 30_000);
  }

  it('pull and snapshot answers cut, garbled or lost: nothing half-taken, the office converges', async () => {
    const other = new DeviceClient({ serverUrl: server.url });
    await other.enrol({ providerId: PROVIDER, login: 'admin.demo', password: DEMO_PASSWORD, name: 'the other desk' });
    await loginOffice(other, directory, PROVIDER);
    // The other desk reassigns on the server, so the pulls have pages to bring.
    const apps = await sql.query<{ id: string }>(
      "SELECT id FROM applications WHERE provider_id = $1 AND status = 'received' ORDER BY id LIMIT 8",
      [PROVIDER],
    );
    const executors = executorsOf(desk.database.sqlite, PROVIDER);
    await other.pushAll(
      apps.map((a, i) => assignChange(i + 1, a.id, executors[i % executors.length]!)),
      { batch: 100 },
    );
    for (const fault of [
      { kind: 'truncate', bytes: 200 },
      notJson(),
      wrongShape(),
      serverError(503),
      { kind: 'dropAfterForward' },
    ] satisfies Fault[]) {
      // A dropped connection is tried once more at once: dropped twice, the pull fails.
      proxy.add({ path: '/v1/pull', fault, times: fault.kind === 'dropAfterForward' ? 2 : 1 });
      await desk.engine.runOnce();
      expect(desk.engine.lastFailure()).not.toBeNull();
      expect(integrityCheck(desk.dbPath)).toBe('ok');
    }
    await proveExactlyOnce(desk);

    // A new desk's first snapshot cut short: started again, nothing half-taken.
    proxy.add({ path: '/v1/snapshot', fault: { kind: 'truncate', bytes: 5_000 }, times: 2 });
    const fresh = await openDesk();
    try {
      expect(proxy.log.filter((r) => r.path === '/v1/snapshot' && r.fault === 'truncate')).toHaveLength(2);
      await proveExactlyOnce(fresh);
    } finally {
      fresh.close();
    }
  }, 60_000);

  it(`a seeded storm of faults on every call while changes keep coming (seed ${SEED})`, async () => {
    const faults: Fault[] = [
      PASS,
      PASS,
      serverError(503),
      serverError(500, true),
      { kind: 'dropBeforeForward' },
      { kind: 'dropAfterForward' },
      { kind: 'truncate', bytes: 40 },
      notJson(true),
      wrongShape(true),
    ];
    for (let round = 0; round < 12; round++) {
      desk.change(1 + Math.floor(random() * 8));
      for (let k = 0; k < 4; k++) proxy.add({ fault: faults[Math.floor(random() * faults.length)]!, times: 1 });
      await desk.engine.runOnce();
      proxy.reset();
    }
    await proveExactlyOnce(desk);
  }, 60_000);
});

/** An 'assign' by the office's head as a workstation queues it (the server reads action, actor and responsible). */
function assignChange(seq: number, applicationId: string, executor: string) {
  const at = Date.now();
  return {
    seq,
    op: 'application.transition',
    entity: 'application',
    entityId: applicationId,
    payload: {
      event: {
        applicationId,
        seq: 1,
        at,
        actorUserId: HEAD,
        action: 'assign',
        fromStatus: 'received',
        toStatus: 'received',
        decision: null,
        comment: null,
        payload: { responsibleUserId: executor },
        prevHash: '',
        hash: randomUUID(),
      },
      application: {
        id: applicationId,
        version: 2,
        status: 'received',
        decision: 'none',
        responsibleUserId: executor,
        currentStep: null,
        dueAt: null,
        statusChangedAt: at,
        refusalReasonCode: null,
        refusalText: null,
        reworkComment: null,
      },
    },
    protocolVersion: 1,
    schemaVersion: 1,
    createdAt: at,
    signature: null,
  };
}

describe('a rejection whose answer was lost', () => {
  it('comes back with the resend as the rejection it was, shown to the person', async () => {
    const desk = await openDesk();
    try {
      // An application waiting for the head; the head assigns it to the demo executor, and this desk learns it.
      const other = new DeviceClient({ serverUrl: server.url });
      await other.enrol({ providerId: PROVIDER, login: 'admin.demo', password: DEMO_PASSWORD, name: 'head desk' });
      await loginOffice(other, directory, PROVIDER);
      const [created] = buildQueue({
        office,
        services: directory.services,
        count: 1,
        tag: `R${SEED}`,
        seed: SEED + 2,
        start: Date.now(),
        steps: 1,
      });
      const made = await other.push([created!]);
      expect(made.results[0], JSON.stringify(made.results[0])).toMatchObject({ outcome: 'applied' });
      const assigned = await other.push([assignChange(2, created!.entityId, EXECUTOR)]);
      expect(assigned.results[0], JSON.stringify(assigned.results[0])).toMatchObject({ outcome: 'applied' });
      await desk.drain();
      const app = desk.database.sqlite
        .prepare('SELECT id, version FROM applications WHERE id = ?')
        .get(created!.entityId) as {
        id: string;
        version: number;
      };
      // Meanwhile the head reassigns it on the server…
      const executor2 = executorsOf(desk.database.sqlite, PROVIDER).find((e) => e !== EXECUTOR)!;
      const answer = await other.push([assignChange(3, app.id, executor2)]);
      expect(answer.results[0]!.outcome).toBe('applied');
      // …while the executor, offline, accepts it here.
      desk.workflow.accept(app.id, app.version, { id: EXECUTOR });
      proxy.add({ path: '/v1/push', fault: { kind: 'dropAfterForward' }, times: 2 });
      await desk.engine.runOnce();
      expect(desk.engine.lastFailure()).not.toBeNull();
      const recorded = await sql.query<{ outcome: string; reason: string }>(
        'SELECT outcome, reason FROM device_changes WHERE device_id = $1',
        [desk.engine.deviceId()],
      );
      expect(recorded).toEqual([{ outcome: 'rejected', reason: 'reassigned' }]);

      await desk.drain();
      const rejected = desk.engine.details().rejected;
      expect(rejected.map((r) => ({ entityId: r.entityId, reason: r.reason }))).toEqual([
        { entityId: app.id, reason: 'reassigned' },
      ]);
      await proveExactlyOnce(desk);
      // The server's state is back here: received, the other executor responsible.
      const local = desk.database.sqlite
        .prepare('SELECT status, responsible_user_id AS responsible FROM applications WHERE id = ?')
        .get(app.id);
      expect(local).toEqual({ status: 'received', responsible: executor2 });
    } finally {
      desk.close();
    }
  }, 60_000);
});

describe('a workstation clock a day off', () => {
  it('is detected and shown, and nothing is ordered by it', async () => {
    const ahead = await openDesk({ clockOffsetMs: DAY });
    try {
      expect(ahead.engine.details().clockOff).toBe(true);
      expect(ahead.engine.status().clockOff).toBe(true);
      expect(Math.abs((ahead.engine.details().clockSkewMs ?? 0) - DAY)).toBeLessThan(60_000);

      // The desk a day ahead reassigns an application; a desk with a right clock reassigns it after (in real time).
      const [hash] = ahead.change(1);
      expect(hash).toBeDefined();
      const id = (
        ahead.database.sqlite
          .prepare("SELECT entity_id AS id FROM outbox WHERE state = 'pending' ORDER BY seq DESC LIMIT 1")
          .get() as {
          id: string;
        }
      ).id;
      await ahead.drain();
      const right = new DeviceClient({ serverUrl: server.url });
      await right.enrol({ providerId: PROVIDER, login: 'admin.demo', password: DEMO_PASSWORD, name: 'right clock' });
      await loginOffice(right, directory, PROVIDER);
      const local = ahead.database.sqlite
        .prepare('SELECT responsible_user_id AS r FROM applications WHERE id = ?')
        .pluck()
        .get(id);
      const later = executorsOf(ahead.database.sqlite, PROVIDER).find((e) => e !== local)!;
      await right.push([assignChange(1, id, later)]);

      // The server keeps arrival order: the later change wins though the other says it was made a day later.
      const [row] = await sql.query<{ responsible: string }>(
        'SELECT responsible_user_id AS responsible FROM applications WHERE id = $1',
        [id],
      );
      expect(row!.responsible).toBe(later);
      const events = await sql.query<{ device_id: string | null }>(
        "SELECT device_id::text AS device_id FROM application_events WHERE application_id = $1 AND action = 'assign' ORDER BY seq DESC LIMIT 2",
        [id],
      );
      expect(events.map((e) => e.device_id)).toEqual([right.deviceId, ahead.engine.deviceId()]);
      await proveExactlyOnce(ahead);
      expect(
        ahead.database.sqlite.prepare('SELECT responsible_user_id FROM applications WHERE id = ?').pluck().get(id),
      ).toBe(later);
    } finally {
      ahead.close();
    }
  }, 60_000);
});

describe('the server upgraded to a newer protocol while a workstation holds a queue', () => {
  it('drains the queue into the new server, and keeps it when a server no longer speaks its protocol', async () => {
    const desk = await openDesk();
    try {
      // Offline: the server is being upgraded; changes pile up.
      proxy.setDefault({ kind: 'dropBeforeForward' });
      desk.change(6);
      await desk.engine.runOnce();
      expect(desk.engine.lastFailure()).not.toBeNull();
      desk.change(6);

      // The new server: a protocol past this build's, still accepting it, on the same database.
      await server.close();
      server = await startServer({ sql, protocolVersion: NEXT, minProtocolVersion: 1, log: () => undefined });
      proxy.retarget(server.url);
      const health = (await (await fetch(new URL('/health', server.url))).json()) as { protocolVersion: number };
      expect(health.protocolVersion).toBe(NEXT);
      await proveExactlyOnce(desk);

      // A server that dropped this build's protocol: the push is refused as a whole, the queue is kept.
      await server.close();
      server = await startServer({ sql, protocolVersion: NEXT, minProtocolVersion: NEXT, log: () => undefined });
      proxy.retarget(server.url);
      const hashes = desk.change(3);
      await desk.engine.runOnce();
      expect(desk.engine.lastFailure()).not.toBeNull();
      const pending = desk.database.sqlite.prepare("SELECT count(*) FROM outbox WHERE state = 'pending'").pluck().get();
      expect(pending).toBe(hashes.length);

      // Back to a server that reads it: the queue drains.
      await server.close();
      server = await startServer({ sql, protocolVersion: NEXT, minProtocolVersion: 1, log: () => undefined });
      proxy.retarget(server.url);
      await proveExactlyOnce(desk);
    } finally {
      desk.close();
    }
  }, 60_000);
});
