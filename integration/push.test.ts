/**
 * Push applied as a set (push.ts, apply/state.ts), over HTTP on both
 * backends: what a batch must keep when its changes are checked in memory
 * and written together. Several changes to one application in one batch
 * (created and moved on, or moved twice), a rejection in the middle that
 * writes nothing while the changes after it apply, the server's hash chain
 * going on across batches, a signature of an application created in the
 * same batch, the fallback to one change per transaction, two devices
 * pushing to the same applications at once, duplicates answered as recorded, and the number of statements of a
 * batch not growing with its changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_HEAD } from '#demo/generate.js';
import { eventHash } from '#core/workflow/chain.js';
import type { Sql } from '#server/src/postgres/sql.js';
import { testDatabases } from '#server/src/auth/testing.js';
import type { Change, FeedRow, PushResult } from '#core/protocol.js';
import { providerPartition } from '#core/protocol.js';
import { startServer, type RunningServer } from '#server/src/server.js';
import { loginsOf } from '#server/src/testing/keys.js';
import { ok, TestClient, type EnrolledDevice } from '#server/src/testing/client.js';
import { trustedPki, type TrustedPki } from '#server/src/testing/pki.js';
import { openWorkstation, type TestWorkstation } from './workstation.js';

/** Wednesday 20 May 2026, 12:30 in Kazakhstan: the demo's "now" on both sides. */
const NOW = Date.UTC(2026, 4, 20, 7, 30);
const APPLICATIONS = 20;
const EMPLOYMENT = 'prov-astana-employment';
const SERVICE = 'unemployed-certificate';
const HEAD = 'user-head-demo';
const CLERK = 'user-clerk-demo';
const EXECUTOR = 'user-executor-demo';
const EXECUTOR_2 = 'user-astana-employment-executor-2';

/** A handle that counts the statements sent through it (BEGIN and COMMIT of its transactions included). */
function counting(inner: Sql, counter: { statements: number }): Sql {
  return {
    kind: inner.kind,
    inTransaction: inner.inTransaction,
    query: (text, params) => {
      counter.statements++;
      return inner.query(text, params);
    },
    queryArrays: (text, params) => {
      counter.statements++;
      return inner.queryArrays(text, params);
    },
    exec: (text) => {
      counter.statements++;
      return inner.exec(text);
    },
    tx: (fn) => {
      if (!inner.inTransaction) counter.statements += 2;
      return inner.tx((tx) => fn(counting(tx, counter)));
    },
    close: () => inner.close(),
  };
}

/** A device and the seqs it has sent. */
class Device {
  seq = 0;
  constructor(
    readonly client: TestClient,
    readonly enrolled: EnrolledDevice,
  ) {}

  /** Changes (from any workstation) numbered as this device's next seqs. */
  number(changes: readonly Change[]): Change[] {
    return changes.map((c) => ({ ...c, seq: ++this.seq }));
  }

  async push(changes: Change[]): Promise<PushResult[]> {
    return ok(await this.client.push(this.enrolled, changes)).results;
  }
}

describe.each(testDatabases())('push as a set on $name', (backend) => {
  let inner: Sql;
  let sql: Sql;
  const counter = { statements: 0 };
  let server: RunningServer;
  let client: TestClient;
  let office: TestWorkstation; // the head's and clerk's workstation
  let desk: TestWorkstation; // the executor's
  let a: Device;
  let b: Device;
  let trusted: TrustedPki;

  beforeAll(async () => {
    inner = await backend.open();
    sql = counting(inner, counter);
    trusted = trustedPki();
    server = await startServer({
      sql,
      seed: 'demo',
      demoApplications: APPLICATIONS,
      now: () => NOW,
      trustDirs: [trusted.trustDir],
      crlDir: trusted.crlDir,
      log: () => {},
    });
    client = new TestClient(server.url);
    [office, desk] = await Promise.all([
      openWorkstation({ applications: APPLICATIONS, now: NOW }),
      openWorkstation({ applications: APPLICATIONS, now: NOW }),
    ]);
    a = new Device(client, await client.enrol(EMPLOYMENT));
    b = new Device(client, await client.enrol(EMPLOYMENT, 'head.demo'));
    // The office's people log in online at both desks: their keys prove the changes they make there.
    const logins = await loginsOf(sql, [HEAD, CLERK, EXECUTOR, EXECUTOR_2]);
    await client.login(a.enrolled, logins);
    await client.login(b.enrolled, logins);
  });

  afterAll(async () => {
    office?.close();
    desk?.close();
    await server?.close();
    await backend.close();
    trusted?.remove();
  });

  /** What `make` queues on the workstation, as changes (not numbered yet). */
  function queued(ws: TestWorkstation, make: () => void): Change[] {
    const from = ws.lastOutboxSeq();
    make();
    return ws.changes({ after: from });
  }

  /** A new application taken in at the office and assigned to `executor` on the server, copied to the desk. */
  async function assigned(executor = EXECUTOR): Promise<string> {
    let id = '';
    const changes = queued(office, () => {
      id = office.intake({ providerId: EMPLOYMENT, serviceCode: SERVICE, clerkId: CLERK });
      office.workflow.assignOne(id, null, executor, { id: HEAD });
    });
    expect((await a.push(a.number(changes))).map((r) => r.outcome)).toEqual(['applied', 'applied']);
    office.copyTo(desk, id);
    return id;
  }

  async function serverRow(id: string) {
    const [row] = await sql.query<{ status: string; responsible: string | null; version: number }>(
      `SELECT status, responsible_user_id AS responsible, server_version AS version FROM applications WHERE id = $1`,
      [id],
    );
    return row;
  }

  /** The server's log of the application, checked to be one unbroken hash chain from seq 1; its actions. */
  async function chain(id: string): Promise<{ action: string; actor: string | null; deviceSeq: number | null }[]> {
    const events = await sql.query<{
      seq: number;
      at: number;
      actorUserId: string | null;
      action: string;
      fromStatus: null;
      toStatus: null;
      decision: null;
      comment: null;
      payload: null;
      prevHash: string;
      hash: string;
      deviceSeq: number | null;
    }>(
      `SELECT seq, at, actor_user_id AS "actorUserId", action, from_status AS "fromStatus", to_status AS "toStatus",
              decision, comment, payload, prev_hash AS "prevHash", hash, device_seq AS "deviceSeq"
         FROM application_events WHERE application_id = $1 ORDER BY seq`,
      [id],
    );
    let prev = '';
    events.forEach((e, i) => {
      expect(Number(e.seq)).toBe(i + 1);
      expect(e.prevHash).toBe(prev);
      expect(eventHash({ ...e, applicationId: id })).toBe(e.hash);
      prev = e.hash;
    });
    return events.map((e) => ({
      action: e.action,
      actor: e.actorUserId,
      deviceSeq: e.deviceSeq === null ? null : Number(e.deviceSeq),
    }));
  }

  /** The application's feed row and those of its events, as a puller gets them. */
  async function feedOf(id: string): Promise<{ application: FeedRow | undefined; events: FeedRow[] }> {
    const rows = await sql.query<FeedRow & { version: number }>(
      `SELECT entity, id, version, op, data FROM feed
        WHERE partition = $1 AND ((entity = 'application' AND id = $2) OR (entity = 'event' AND id LIKE $2 || ':%'))
        ORDER BY version`,
      [providerPartition(EMPLOYMENT), id],
    );
    return {
      application: rows.find((r) => r.entity === 'application'),
      events: rows.filter((r) => r.entity === 'event'),
    };
  }

  it('applies an application created and moved on twice in one batch: one chain, its last state', async () => {
    let id = '';
    const changes = queued(office, () => {
      id = office.intake({ providerId: EMPLOYMENT, serviceCode: SERVICE, clerkId: CLERK });
      const assign = office.workflow.assignOne(id, null, EXECUTOR, { id: HEAD });
      office.workflow.accept(id, assign.version, { id: EXECUTOR });
    });
    const numbered = a.number(changes);
    const results = await a.push(numbered);
    expect(results.map((r) => r.outcome)).toEqual(['applied', 'applied', 'applied']);
    const versions = results.map((r) => r.serverVersion!);
    expect(versions[0]).toBeGreaterThan(0);
    expect(versions[1]).toBeGreaterThanOrEqual(versions[0]!);
    expect(versions[2]).toBeGreaterThanOrEqual(versions[1]!);

    expect(await serverRow(id)).toMatchObject({ status: 'in_processing', responsible: EXECUTOR, version: versions[2] });
    expect(await chain(id)).toEqual([
      { action: 'received', actor: CLERK, deviceSeq: numbered[0]!.seq },
      { action: 'assign', actor: HEAD, deviceSeq: numbered[1]!.seq },
      { action: 'accept', actor: EXECUTOR, deviceSeq: numbered[2]!.seq },
    ]);
    // The feed holds the application once, in its last state at the last change's version, and all three events.
    const feed = await feedOf(id);
    expect(feed.application).toMatchObject({ version: versions[2], data: { status: 'in_processing' } });
    expect(feed.events.map((e) => e.id)).toEqual([`${id}:1`, `${id}:2`, `${id}:3`]);
  });

  it('checks a change against what the earlier changes of its batch did: reassigned within the batch', async () => {
    let id = '';
    const first = queued(office, () => {
      id = office.intake({ providerId: EMPLOYMENT, serviceCode: SERVICE, clerkId: CLERK });
      office.workflow.assignOne(id, null, EXECUTOR, { id: HEAD });
    });
    // The executor's workstation had it assigned to them and accepts it...
    office.copyTo(desk, id);
    const accept = queued(desk, () => desk.workflow.accept(id, 2, { id: EXECUTOR }));
    // ...while the head gives it to another executor, who accepts it.
    const reassign = queued(office, () => {
      const r = office.workflow.assignOne(id, 2, EXECUTOR_2, { id: HEAD });
      office.workflow.accept(id, r.version, { id: EXECUTOR_2 });
    });
    // All in one batch, nothing of it on the server before: the executor's accept comes after the reassignment.
    const numbered = a.number([...first, reassign[0]!, accept[0]!, reassign[1]!]);
    const results = await a.push(numbered);
    expect(results.map((r) => [r.outcome, r.reason])).toEqual([
      ['applied', null],
      ['applied', null],
      ['applied', null],
      // Known as reassigned (not merely forbidden) from the batch's own, not yet written, assign events.
      ['rejected', 'reassigned'],
      ['applied', null],
    ]);
    expect(results[3]!.message).toContain(EXECUTOR_2);
    // The rejected change wrote nothing: no event, and the chain goes on from the change before it.
    expect(await chain(id)).toEqual([
      { action: 'received', actor: CLERK, deviceSeq: numbered[0]!.seq },
      { action: 'assign', actor: HEAD, deviceSeq: numbered[1]!.seq },
      { action: 'assign', actor: HEAD, deviceSeq: numbered[2]!.seq },
      { action: 'accept', actor: EXECUTOR_2, deviceSeq: numbered[4]!.seq },
    ]);
    expect(await serverRow(id)).toMatchObject({ status: 'in_processing', responsible: EXECUTOR_2 });
    const recorded = await sql.query<{ seq: number; outcome: string; reason: string | null; version: number | null }>(
      `SELECT seq, outcome, reason, server_version AS version FROM device_changes
        WHERE device_id = $1 AND seq >= $2 ORDER BY seq`,
      [a.enrolled.deviceId, numbered[0]!.seq],
    );
    expect(
      recorded.map((r) => [Number(r.seq), r.outcome, r.reason, r.version === null ? null : Number(r.version)]),
    ).toEqual(results.map((r) => [r.seq, r.outcome, r.reason, r.serverVersion]));
  });

  it('rejects a change in the middle of a batch with nothing written, and applies those after it', async () => {
    const x = await assigned(EXECUTOR);
    const y = await assigned(EXECUTOR);
    const before = await serverRow(x);
    const feedBefore = await feedOf(x);
    // The executor accepts Y, then tries X again from a stale copy after accepting it, then saves Y.
    const changes = queued(desk, () => {
      const ax = desk.workflow.accept(x, 2, { id: EXECUTOR });
      const ay = desk.workflow.accept(y, 2, { id: EXECUTOR });
      desk.workflow.save(x, ax.version, { executorComment: 'x' }, { id: EXECUTOR });
      desk.workflow.save(y, ay.version, { executorComment: 'y' }, { id: EXECUTOR });
    });
    // The accept of X is sent twice: the second time the status no longer allows it.
    const batch = b.number([changes[1]!, changes[0]!, changes[0]!, changes[2]!, changes[3]!]);
    const results = await b.push(batch);
    expect(results.map((r) => [r.outcome, r.reason])).toEqual([
      ['applied', null],
      ['applied', null],
      ['rejected', 'notAllowed'],
      ['applied', null],
      ['applied', null],
    ]);
    expect(results[2]!.serverVersion).toBeNull();
    expect((await chain(x)).map((e) => [e.action, e.deviceSeq])).toEqual([
      ['received', expect.any(Number)],
      ['assign', expect.any(Number)],
      ['accept', batch[1]!.seq],
      ['save', batch[3]!.seq],
    ]);
    expect((await chain(y)).map((e) => e.action)).toEqual(['received', 'assign', 'accept', 'save']);
    const [form] = await sql.query<{ x: string; y: string }>(
      `SELECT (SELECT form_data->>'executorComment' FROM applications WHERE id = $1) AS x,
              (SELECT form_data->>'executorComment' FROM applications WHERE id = $2) AS y`,
      [x, y],
    );
    expect(form).toEqual({ x: 'x', y: 'y' });
    expect(before?.status).toBe('received');
    expect((await feedOf(x)).events).toHaveLength(feedBefore.events.length + 2);
  });

  it('falls back to one change per transaction when the database refuses one, the chain unbroken', async () => {
    const id = await assigned(EXECUTOR);
    const changes = queued(desk, () => {
      let v = desk.workflow.accept(id, 2, { id: EXECUTOR }).version;
      for (let i = 1; i <= 3; i++)
        v = desk.workflow.save(id, v, { executorComment: `s${i}` }, { id: EXECUTOR }).version;
    });
    // A NUL character in the second save's comment: valid for the schema, but no PostgreSQL text takes it.
    const poisoned = changes.map((c, i) => {
      if (i !== 2) return c;
      const p = c.payload as { event: Record<string, unknown> };
      return { ...c, payload: { ...p, event: { ...p.event, comment: 'bad\u0000comment' } } };
    });
    const results = await b.push(b.number(poisoned));
    expect(results.map((r) => [r.outcome, r.reason])).toEqual([
      ['applied', null],
      ['applied', null],
      ['rejected', 'invalid'],
      ['applied', null],
    ]);
    expect((await chain(id)).map((e) => e.action)).toEqual(['received', 'assign', 'accept', 'save', 'save']);
    const [row] = await sql.query<{ comment: string }>(
      `SELECT form_data->>'executorComment' AS comment FROM applications WHERE id = $1`,
      [id],
    );
    expect(row?.comment).toBe('s3');
  });

  it('takes in, processes and signs an application in one batch: the signature finds the application it names', async () => {
    {
      const key = trusted.signingKey(DEMO_HEAD, NOW);
      const mark = office.lastOutboxSeq();
      const id = office.intake({ providerId: EMPLOYMENT, serviceCode: SERVICE, clerkId: CLERK });
      let v = office.workflow.assignOne(id, null, EXECUTOR, { id: HEAD }).version;
      v = office.workflow.accept(id, v, { id: EXECUTOR }).version;
      v = office.workflow.save(
        id,
        v,
        { documentsCheck: 'complete', resultNumber: 'R-7', resultDate: '2026-05-20' },
        { id: EXECUTOR },
      ).version;
      v = office.workflow.decide(id, v, { decision: 'positive' }, { id: EXECUTOR }).version;
      v = office.workflow.send(id, v, { id: EXECUTOR }).version;
      const signatureId = await office.sign(id, HEAD, key);
      office.workflow.sign(id, v, { id: HEAD }, signatureId);
      const changes = office.changes({ after: mark });
      expect(changes.map((c) => c.op)).toEqual([
        'application.create',
        ...Array(5).fill('application.transition'),
        'signature.add',
        'application.transition',
      ]);
      const results = await a.push(a.number(changes));
      expect(results.map((r) => [r.outcome, r.reason])).toEqual(changes.map(() => ['applied', null]));
      // Applied in one transaction (not one change per transaction after a failure): the application's feed row
      // was written once, so every change to it answers the version of its last state.
      const last = results.at(-1)!.serverVersion;
      expect(results.filter((_, i) => changes[i]!.op !== 'signature.add').map((r) => r.serverVersion)).toEqual(
        Array(7).fill(last),
      );
      expect(await serverRow(id)).toMatchObject({ status: 'completed', version: last });
      expect((await chain(id)).map((e) => e.action)).toEqual([
        'received',
        'assign',
        'accept',
        'save',
        'decide',
        'send',
        'sign',
      ]);
      const [stored] = await sql.query<{ applicationId: string; userId: string }>(
        'SELECT application_id AS "applicationId", user_id AS "userId" FROM signatures WHERE id = $1',
        [signatureId],
      );
      expect(stored).toEqual({ applicationId: id, userId: HEAD });
    }
  }, 60_000);

  it('goes on with the hash chain across batches, and answers duplicates as recorded', async () => {
    const id = await assigned(EXECUTOR);
    const changes = queued(desk, () => {
      let v = desk.workflow.accept(id, 2, { id: EXECUTOR }).version;
      for (let i = 1; i <= 5; i++)
        v = desk.workflow.save(id, v, { executorComment: `note ${i}` }, { id: EXECUTOR }).version;
    });
    const numbered = b.number(changes);
    const first = await b.push(numbered.slice(0, 2));
    const second = await b.push(numbered.slice(2, 4));
    expect([...first, ...second].map((r) => r.outcome)).toEqual(['applied', 'applied', 'applied', 'applied']);
    // Sent again with what follows: the first four are duplicates answered as recorded, the rest applied.
    const third = await b.push(numbered);
    expect(third.map((r) => [r.outcome, r.serverVersion])).toEqual([
      ...[...first, ...second].map((r) => ['duplicate', r.serverVersion]),
      ['applied', expect.any(Number)],
      ['applied', expect.any(Number)],
    ]);
    expect((await chain(id)).map((e) => e.action)).toEqual([
      'received',
      'assign',
      'accept',
      'save',
      'save',
      'save',
      'save',
      'save',
    ]);
    // A rejected change answered again as recorded, with its reason and message.
    const stale = b.number([changes[0]!]);
    const rejected = await b.push(stale);
    expect(rejected[0]).toMatchObject({ outcome: 'rejected', reason: 'notAllowed' });
    const again = await b.push(stale);
    expect(again).toEqual([{ ...rejected[0]!, outcome: 'duplicate' }]);
  });

  it('serves two devices pushing to the same applications at once: no deadlock, each change applied once', async () => {
    const x = await assigned(EXECUTOR);
    const y = await assigned(EXECUTOR);
    const z = await assigned(EXECUTOR);
    // X and Y accepted on the server (from the office); the desk accepts them too, locally only.
    const accepted = queued(office, () => {
      office.workflow.accept(x, 2, { id: EXECUTOR });
      office.workflow.accept(y, 2, { id: EXECUTOR });
    });
    expect((await a.push(a.number(accepted))).map((r) => r.outcome)).toEqual(['applied', 'applied']);
    desk.workflow.accept(x, 2, { id: EXECUTOR });
    desk.workflow.accept(y, 2, { id: EXECUTOR });
    // Both workstations save X and Y, in opposite orders, and both accept Z; both push at once.
    const officeSide = queued(office, () => {
      for (let i = 0; i < 4; i++) {
        office.workflow.save(y, 3 + i, { executorComment: `office y ${i}` }, { id: EXECUTOR });
        office.workflow.save(x, 3 + i, { executorComment: `office x ${i}` }, { id: EXECUTOR });
      }
      office.workflow.accept(z, 2, { id: EXECUTOR });
    });
    const deskSide = queued(desk, () => {
      for (let i = 0; i < 4; i++) {
        desk.workflow.save(x, 3 + i, { executorComment: `desk x ${i}` }, { id: EXECUTOR });
        desk.workflow.save(y, 3 + i, { executorComment: `desk y ${i}` }, { id: EXECUTOR });
      }
      desk.workflow.accept(z, 2, { id: EXECUTOR });
    });
    const [fromOffice, fromDesk] = await Promise.all([a.push(a.number(officeSide)), b.push(b.number(deskSide))]);
    // Every save applies; Z is accepted once, and the later accept finds it no longer allowed.
    expect(fromOffice.slice(0, 8).every((r) => r.outcome === 'applied')).toBe(true);
    expect(fromDesk.slice(0, 8).every((r) => r.outcome === 'applied')).toBe(true);
    const zOutcomes = [fromOffice[8]!, fromDesk[8]!].map((r) => [r.outcome, r.reason]).sort();
    expect(zOutcomes).toEqual([
      ['applied', null],
      ['rejected', 'notAllowed'],
    ]);
    for (const id of [x, y]) {
      const log = await chain(id);
      expect(log.filter((e) => e.action === 'save')).toHaveLength(8);
    }
    expect((await chain(z)).map((e) => e.action)).toEqual(['received', 'assign', 'accept']);
    expect(await serverRow(z)).toMatchObject({ status: 'in_processing' });
  });

  it('sends the same number of statements for a batch of 4 changes and one of 40', async () => {
    const measure = async (count: number) => {
      const ids = [await assigned(EXECUTOR), await assigned(EXECUTOR)];
      const changes = queued(desk, () => {
        const versions = ids.map((id) => desk.workflow.accept(id, 2, { id: EXECUTOR }).version);
        for (let i = 0; i < count / 2 - 1; i++) {
          ids.forEach((id, k) => {
            versions[k] = desk.workflow.save(id, versions[k]!, { executorComment: `n${i}` }, { id: EXECUTOR }).version;
          });
        }
      });
      expect(changes).toHaveLength(count);
      const numbered = b.number(changes);
      counter.statements = 0;
      const results = await b.push(numbered);
      const statements = counter.statements;
      expect(results.every((r) => r.outcome === 'applied')).toBe(true);
      return statements;
    };
    const small = await measure(4);
    const large = await measure(40);
    expect(large).toBe(small);
  });
});
