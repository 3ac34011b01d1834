/**
 * The fault suite's own checks, so that "no problems" means something: each
 * finds the damage it is there to find (a change missing on the server, one
 * changed, one applied twice, one lost locally; the journal index without
 * its triggers; a damaged database file), and the kill report reads where a
 * workstation died from its last lines.
 */
import { mkdtempSync, openSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '#db/connection.js';
import { mulberry32 } from '#demo/generate.js';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { weekendOnlyCalendar } from '#core/workflow/deadlines.js';
import { WorkflowService } from '#main/workflow/service.js';
import { pgliteSql, type Sql } from '#server/src/postgres/sql.js';
import { DeviceClient } from '#server/src/load/device-client.js';
import { discoverOffices } from '#server/src/load/offices.js';
import { buildQueue } from '#server/src/load/workload.js';
import { startServer, type RunningServer } from '#server/src/server.js';
import { SyncEngine } from '#main/sync/engine.js';
import { loginOnline } from '#main/sync/testing.js';
import { makeChanges } from './changes.js';
import { checkExactlyOnce, integrityCheck, journalProblems, loginOffice, whereKilled } from './harness.js';

const PROVIDER = 'prov-astana-employment';
let sql: Sql;
let server: RunningServer;
let dir: string;
let dbPath: string;
let database: OpenedDatabase;
let engine: SyncEngine;
let hashes: string[];

beforeAll(async () => {
  sql = await pgliteSql(null);
  server = await startServer({ sql, seed: 'demo', demoApplications: 40, log: () => undefined });
  const intake = new DeviceClient({ serverUrl: server.url });
  await intake.enrol({ providerId: PROVIDER, login: 'admin.demo', password: DEMO_PASSWORD });
  const directory = await discoverOffices(intake);
  await loginOffice(intake, directory, PROVIDER);
  const office = directory.offices.find((o) => o.providerId === PROVIDER)!;
  await intake.pushAll(
    buildQueue({ office, services: directory.services, count: 12, tag: 'H', seed: 3, start: Date.now() }),
  );

  dir = mkdtempSync(join(tmpdir(), 'qyzmet-harness-'));
  dbPath = join(dir, 'workstation.db');
  database = await openDatabase(dbPath, { backupEveryMs: 0 });
  engine = new SyncEngine({ sqlite: database.sqlite, serverUrl: server.url, dataDir: dir, watchOutboxMs: 0 });
  await engine.enrol({ providerId: PROVIDER, login: 'admin.demo', password: DEMO_PASSWORD });
  // The head logs in online here: her changes carry her proof.
  await loginOnline(engine, server.url, ['head.demo']);
  await engine.runOnce();
  const services = loadCatalogue(join(import.meta.dirname, '..', '..', 'resources', 'services')).services;
  const workflow = new WorkflowService({ sqlite: database.sqlite, services, calendar: weekendOnlyCalendar() });
  hashes = makeChanges(database.sqlite, workflow, {
    providerId: PROVIDER,
    actorId: 'user-head-demo',
    count: 4,
    random: mulberry32(1),
  });
  await engine.runOnce();
}, 60_000);

afterAll(async () => {
  database?.close();
  await server?.close();
  await sql?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the exactly-once proof', () => {
  it('passes a clean sync, and finds each kind of damage', async () => {
    expect(hashes).toHaveLength(4);
    const clean = await checkExactlyOnce(dbPath, sql, new Set(hashes));
    expect(clean.problems).toEqual([]);
    expect(clean).toMatchObject({ local: 4, onServer: 4, applied: 4, events: 4 });

    // A change the workstation reported, found nowhere.
    const lost = await checkExactlyOnce(dbPath, sql, new Set([...hashes, 'f'.repeat(64)]));
    expect(lost.problems).toEqual([
      '1 committed changes missing from the local outbox',
      '1 committed changes missing on the server',
    ]);

    const device = engine.deviceId()!;
    await sql
      .tx(async (tx) => {
        // One server event twice for a device change: "applied twice".
        await tx.query(
          `INSERT INTO application_events (application_id, seq, at, actor_user_id, action, from_status, to_status,
           decision, comment, payload, device_id, device_seq, prev_hash, hash)
         SELECT application_id, seq + 1000, at, actor_user_id, action, from_status, to_status, decision, comment,
           payload, device_id, device_seq, prev_hash, hash
           FROM application_events WHERE device_id = $1 AND device_seq = 2`,
          [device],
        );
        const twice = await checkExactlyOnce(dbPath, tx, new Set(hashes));
        expect(twice.problems).toEqual([
          '1 device changes have more than one server event',
          '5 server events from the device, 4 transitions applied',
        ]);
        throw new Rollback();
      })
      .catch((e: unknown) => {
        if (!(e instanceof Rollback)) throw e;
      });

    // The server's record of a change gone.
    await sql
      .tx(async (tx) => {
        await tx.query('DELETE FROM application_events WHERE device_id = $1 AND device_seq = 3', [device]);
        await tx.query('DELETE FROM device_changes WHERE device_id = $1 AND seq = 3', [device]);
        const missing = await checkExactlyOnce(dbPath, tx, new Set(hashes));
        expect(missing.problems[0]).toMatch(/^local change \d+ \(device seq 3, sent\) is not on the server$/);
        throw new Rollback();
      })
      .catch((e: unknown) => {
        if (!(e instanceof Rollback)) throw e;
      });

    // The server holds a different change under a seq than the workstation sent.
    const local = new Database(dbPath);
    try {
      const row = local.prepare('SELECT seq, payload FROM outbox WHERE device_seq = 1').get() as {
        seq: number;
        payload: string;
      };
      local
        .prepare('UPDATE outbox SET payload = ? WHERE seq = ?')
        .run(JSON.stringify({ ...JSON.parse(row.payload), extra: 1 }), row.seq);
      expect((await checkExactlyOnce(dbPath, sql, new Set(hashes))).problems).toEqual([
        'device seq 1: payloads differ',
      ]);
      local.prepare('UPDATE outbox SET payload = ? WHERE seq = ?').run(row.payload, row.seq);
    } finally {
      local.close();
    }
    expect((await checkExactlyOnce(dbPath, sql, new Set(hashes))).problems).toEqual([]);
  });
});

class Rollback extends Error {}

describe('the local checks', () => {
  it('finds the journal index without its triggers or with wrong counts', async () => {
    const copy = join(dir, 'journal.db');
    const o = await openDatabase(copy, { backupEveryMs: 0 });
    expect(journalProblems(copy)).toEqual([]);
    o.sqlite.exec("INSERT INTO journal_counts (service_code, status, decision, n) VALUES ('x', 'received', 'none', 2)");
    o.sqlite.exec('DROP TRIGGER applications_journal_au');
    o.close();
    expect(journalProblems(copy)).toEqual([
      '2 journal triggers on applications, expected 3',
      'journal_counts adds up to 2, 0 applications',
    ]);
  });

  it('finds a damaged database file', () => {
    const path = join(dir, 'damaged.db');
    const db = new Database(path);
    db.exec('CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT); CREATE INDEX t_b ON t (b);');
    const insert = db.prepare('INSERT INTO t (b) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 2_000; i++) insert.run(`value ${i} `.repeat(10));
    })();
    db.close();
    expect(integrityCheck(path)).toBe('ok');
    // Scribble over a page in the middle of the file (not the header).
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor(statSync(path).size / 2 / 4096) * 4096);
    closeSync(fd);
    expect(integrityCheck(path)).not.toBe('ok');
  });

  it('reads where a workstation died from its last lines', () => {
    expect(whereKilled(['open', 'net> POST /v1/push'])).toBe('push: request in flight');
    expect(whereKilled(['net> POST /v1/push', 'net< /v1/push 200', 'net. /v1/push'])).toBe(
      'push: answer read, being applied',
    );
    expect(whereKilled(['net> GET /v1/snapshot', 'net< /v1/snapshot 200'])).toBe(
      'snapshot: answer being read and applied',
    );
    expect(whereKilled(['net. /v1/pull', 'synced 1 0'])).toBe('idle');
    expect(whereKilled(['synced 1 0', 'change abc'])).toBe('making local changes');
    expect(whereKilled([])).toBe('starting');
  });
});
