/**
 * The central server end to end over HTTP, on both backends (PGlite in
 * memory and a throwaway PostgreSQL): devices and tokens, push (applied,
 * duplicate, gap, business rejections), the workflow enforced on the
 * server's own state, exactly-once under concurrent duplicate delivery,
 * pull paging and tombstones, the snapshot, malformed requests and a
 * protocol upgrade. The changes pushed are what real workstations queue
 * (testing/workstation.ts: the WorkflowService over a local database with
 * the same demo data).
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_HEAD } from '#demo/generate.js';
import { hashPassword } from '#core/auth/passwords.js';
import { eventHash } from '#core/workflow/chain.js';
import { pgliteSql, postgresSql, type Sql } from '#server/src/postgres/sql.js';
import { revokeDevice } from '#server/src/devices.js';
import { removeStaff } from '#server/src/directory.js';
import { bump, writeFeed } from '#server/src/feed.js';
import { decodeCursor, encodeCursor, snapshot } from '#server/src/pull.js';
import {
  type Change,
  FEED_DATA,
  type FeedRow,
  type PushResult,
  providerPartition,
  snapshotLine,
} from '#core/protocol.js';
import { startServer, type RunningServer } from '#server/src/server.js';
import { loginsOf } from '#server/src/testing/keys.js';
import { call, ok, TestClient, type EnrolledDevice } from '#server/src/testing/client.js';
import { requirePostgres, startPostgres, type TestPostgres } from '#server/src/testing/postgres.js';
import { openWorkstation, type TestWorkstation } from './workstation.js';
import { trustedPki, type TrustedPki } from '#server/src/testing/pki.js';
import { healthAnswer, enrolAnswer } from '#core/protocol.js';

/** Wednesday 20 May 2026, 12:30 in Kazakhstan: the demo's "now" on both sides. */
const NOW = Date.UTC(2026, 4, 20, 7, 30);
const APPLICATIONS = 40;
const EMPLOYMENT = 'prov-astana-employment';
const OTHER_PROVIDER = 'prov-astana-entrepreneurship';
const SERVICE = 'unemployed-certificate';
const HEAD = 'user-head-demo';
const CLERK = 'user-clerk-demo';
const EXECUTOR = 'user-executor-demo';
const EXECUTOR_2 = 'user-astana-employment-executor-2';
const EXECUTOR_3 = 'user-astana-employment-executor-3';
const FORMER = 'user-astana-employment-executor-former';
const ADMIN = 'user-admin-demo';
const MINUTE = 60_000;

let postgres: TestPostgres | null = null;
const withPostgres = requirePostgres();

interface Backend {
  name: string;
  open(): Promise<Sql>;
}

const backends: Backend[] = [
  { name: 'PGlite', open: () => pgliteSql(null) },
  ...(withPostgres
    ? [
        {
          name: 'PostgreSQL',
          open: async () => {
            postgres ??= await startPostgres();
            return postgresSql(await postgres.createDatabase());
          },
        },
      ]
    : []),
];

afterAll(async () => {
  await postgres?.stop();
});

/** A device and the seqs it has sent: each `send` numbers its changes on from the last. */
class Device {
  seq = 0;
  constructor(
    readonly client: TestClient,
    readonly enrolled: EnrolledDevice,
  ) {}

  get token() {
    return this.enrolled.token;
  }

  /** The workstation's outbox rows after `after`, numbered as this device's next seqs. */
  next(ws: TestWorkstation, after: number): Change[] {
    const changes = ws.changes({ after, firstSeq: this.seq + 1 });
    this.seq += changes.length;
    return changes;
  }

  /** Hand-made changes, numbered as this device's next seqs. */
  number(changes: Omit<Change, 'seq'>[]): Change[] {
    return changes.map((c) => ({ ...c, seq: ++this.seq }));
  }

  async push(changes: Change[]): Promise<PushResult[]> {
    return ok(await this.client.push(this.enrolled, changes)).results;
  }
}

/** Outbox rows from the workstation after the last one sent; pushes them all; returns the results. */
async function sync(device: Device, ws: TestWorkstation, sent: { at: number }): Promise<PushResult[]> {
  const changes = device.next(ws, sent.at);
  sent.at = ws.lastOutboxSeq();
  return device.push(changes);
}

const userChange = (op: string, userId: string, payload: unknown): Omit<Change, 'seq'> => ({
  op,
  entity: 'user',
  entityId: userId,
  payload,
  protocolVersion: 1,
  schemaVersion: 1,
  createdAt: NOW,
  signature: null,
});

describe.each(backends)('the central server on $name', (backend) => {
  let sql: Sql;
  let server: RunningServer;
  let client: TestClient;
  let office: TestWorkstation; // the head's and clerk's workstation
  let desk: TestWorkstation; // the executor's, offline for a while
  let a: Device;
  let b: Device;
  const sentA = { at: 0 };
  const sentB = { at: 0 };

  let trusted: TrustedPki;

  beforeAll(async () => {
    sql = await backend.open();
    trusted = trustedPki();
    server = await startServer({
      sql,
      seed: 'demo',
      demoApplications: APPLICATIONS,
      now: () => NOW,
      snapshotBatchRows: 7,
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
    const logins = await loginsOf(sql, [HEAD, CLERK, EXECUTOR, EXECUTOR_2, EXECUTOR_3, ADMIN]);
    await client.login(a.enrolled, logins);
    await client.login(b.enrolled, logins);
  });

  afterAll(async () => {
    office?.close();
    desk?.close();
    await server?.close();
    trusted?.remove();
    await sql?.close();
  });

  /** A new application taken in at the office, assigned to `executor`, on the server, and copied to the desk. */
  async function assigned(executor = EXECUTOR): Promise<string> {
    const id = office.intake({ providerId: EMPLOYMENT, serviceCode: SERVICE, clerkId: CLERK });
    office.workflow.assignOne(id, null, executor, { id: HEAD });
    const results = await sync(a, office, sentA);
    expect(results.map((r) => r.outcome)).toEqual(results.map(() => 'applied'));
    office.copyTo(desk, id);
    return id;
  }

  async function serverRow(id: string) {
    const [row] = await sql.query<{ status: string; responsible: string | null; decision: string; version: number }>(
      `SELECT status, responsible_user_id AS responsible, decision, server_version AS version FROM applications WHERE id = $1`,
      [id],
    );
    return row;
  }

  async function deviceChanges(deviceId: string) {
    return sql.query<{ seq: number; outcome: string; reason: string | null }>(
      'SELECT seq, outcome, reason FROM device_changes WHERE device_id = $1 ORDER BY seq',
      [deviceId],
    );
  }

  // ------------------------------------------------------------ devices ---

  it('answers its health with the protocols it speaks and its clock', async () => {
    const h = ok(await call(server.url, 'GET', '/health', healthAnswer));
    // Protocol 2 (changes with their author's proof); it still reads the payloads of version 1 changes.
    expect(h).toEqual({ status: 'ok', protocolVersion: 2, minProtocolVersion: 1, serverTime: NOW });
  });

  it('enrols a device for an administrator, and says only "wrong credentials" for a wrong password or login', async () => {
    const enrol = (login: string, password: string, providerId = EMPLOYMENT) =>
      call(server.url, 'POST', '/v1/devices/enrol', enrolAnswer, {
        body: { deviceId: crypto.randomUUID(), name: 'ws', providerId, login, password, protocolVersion: 1 },
      });
    const wrongPassword = await enrol('head.demo', 'not-the-password');
    const unknownLogin = await enrol('nobody.demo', 'Qyzmet2026');
    expect(wrongPassword.status).toBe(401);
    expect(unknownLogin.status).toBe(401);
    expect(wrongPassword.body).toEqual(unknownLogin.body);
    expect(wrongPassword.body).toMatchObject({ error: 'wrong_credentials' });

    expect((await enrol('executor.demo', 'Qyzmet2026')).body).toMatchObject({ error: 'forbidden' });
    // head.demo administers her own office only; the system administrator any.
    expect((await enrol('head.demo', 'Qyzmet2026', OTHER_PROVIDER)).body).toMatchObject({ error: 'forbidden' });
    expect((await enrol('admin.demo', 'Qyzmet2026', 'prov-nowhere')).status).toBe(404);
    const good = await enrol('admin.demo', 'Qyzmet2026', OTHER_PROVIDER);
    expect(good.ok && good.body.partitions).toEqual(['global', providerPartition(OTHER_PROVIDER)]);
  });

  it('gives access tokens for the device secret only, and refuses missing, forged and expired ones', async () => {
    expect((await client.token(a.enrolled.deviceId, 'x'.repeat(43))).body).toMatchObject({ error: 'unauthorized' });
    expect((await client.pull('', 'global')).status).toBe(401);
    const forged = a.token.slice(0, -2) + (a.token.endsWith('AA') ? 'BB' : 'AA');
    expect((await client.pull(forged, 'global')).body).toMatchObject({ error: 'unauthorized' });

    // A second instance on the same database, 16 minutes later: the token has expired there,
    // and a token it issues works on the first instance (nothing lives in one instance's memory).
    const later = await startServer({ sql, now: () => NOW + 16 * MINUTE, log: () => {} });
    try {
      const expired = await new TestClient(later.url).pull(a.token, 'global');
      expect(expired.body).toMatchObject({ error: 'unauthorized', message: 'access token expired' });
      const fresh = ok(await new TestClient(later.url).token(a.enrolled.deviceId, a.enrolled.secret));
      expect(fresh.expiresAt).toBe(NOW + 31 * MINUTE);
      expect((await client.pull(fresh.accessToken, 'global', undefined, 1)).status).toBe(200);
    } finally {
      await later.close();
    }
  });

  it('refuses a revoked device at once (its token and its secret) until it is enrolled again, keeping its seq', async () => {
    const c = new Device(client, await client.enrol(EMPLOYMENT));
    await client.login(c.enrolled, await loginsOf(sql, [EXECUTOR_3]));
    const profile = await c.push(
      c.number([
        userChange('user.profile', EXECUTOR_3, {
          id: EXECUTOR_3,
          fullName: 'Executor Three',
          email: null,
          phone: null,
          positionKk: null,
          positionRu: null,
        }),
      ]),
    );
    expect(profile[0]?.outcome).toBe('applied');
    expect(await revokeDevice(sql, c.enrolled.deviceId, NOW)).toBe(true);
    expect((await client.pull(c.token, 'global')).body).toMatchObject({ error: 'device_revoked' });
    expect((await client.token(c.enrolled.deviceId, c.enrolled.secret)).body).toMatchObject({
      error: 'device_revoked',
    });

    const again = ok(
      await call(server.url, 'POST', '/v1/devices/enrol', enrolAnswer, {
        body: {
          deviceId: c.enrolled.deviceId,
          name: 'again',
          providerId: EMPLOYMENT,
          login: 'admin.demo',
          password: 'Qyzmet2026',
          protocolVersion: 1,
        },
      }),
    );
    const token = ok(await client.token(c.enrolled.deviceId, again.deviceSecret)).accessToken;
    // The server kept its seq: the change sent before the revocation is a duplicate now.
    const answer = ok(
      await client.push({ deviceId: c.enrolled.deviceId, token }, [
        { ...userChange('change.discard', EXECUTOR_3, {}), seq: 1 },
      ]),
    );
    expect(answer).toMatchObject({
      lastSeq: 1,
      results: [{ seq: 1, outcome: 'duplicate', serverVersion: profile[0]!.serverVersion }],
    });
  }, 30_000);

  // --------------------------------------------------------------- push ---

  it('applies a change once: applied with its version, a duplicate answered as recorded, a gap refused', async () => {
    const id = office.intake({ providerId: EMPLOYMENT, serviceCode: SERVICE, clerkId: CLERK });
    office.workflow.assignOne(id, null, EXECUTOR, { id: HEAD });
    const changes = a.next(office, sentA.at);
    sentA.at = office.lastOutboxSeq();
    expect(changes.map((c) => c.op)).toEqual(['application.create', 'application.transition']);

    const first = await a.push(changes);
    expect(first.map((r) => r.outcome)).toEqual(['applied', 'applied']);
    // Both in one batch: the application's feed row is written once, in its state after both.
    expect(first[0]!.serverVersion).toBeGreaterThan(0);
    expect(first[1]!.serverVersion).toBeGreaterThanOrEqual(first[0]!.serverVersion!);
    expect(await serverRow(id)).toMatchObject({
      status: 'received',
      responsible: EXECUTOR,
      version: first[1]!.serverVersion,
    });

    // The server's log of the application: its own hash chain, with the device and seq of each event.
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
      deviceSeq: number;
    }>(
      `SELECT seq, at, actor_user_id AS "actorUserId", action, from_status AS "fromStatus", to_status AS "toStatus",
              decision, comment, payload, prev_hash AS "prevHash", hash, device_seq AS "deviceSeq"
         FROM application_events WHERE application_id = $1 ORDER BY seq`,
      [id],
    );
    expect(events.map((e) => [e.action, e.actorUserId, e.deviceSeq])).toEqual([
      ['received', CLERK, changes[0]!.seq],
      ['assign', HEAD, changes[1]!.seq],
    ]);
    let prev = '';
    for (const e of events) {
      expect(e.prevHash).toBe(prev);
      expect(eventHash({ ...e, applicationId: id })).toBe(e.hash);
      prev = e.hash;
    }

    const again = await a.push(changes);
    expect(again.map((r) => [r.outcome, r.serverVersion])).toEqual(first.map((r) => ['duplicate', r.serverVersion]));
    expect((await sql.query('SELECT 1 FROM application_events WHERE application_id = $1', [id])).length).toBe(2);

    const gap = await client.push(a.enrolled, [{ ...changes[1]!, seq: a.seq + 2 }]);
    expect(gap.status).toBe(409);
    expect(gap.body).toMatchObject({ error: 'gap', expectedSeq: a.seq + 1 });
    expect((await deviceChanges(a.enrolled.deviceId)).at(-1)?.seq).toBe(a.seq);
  });

  it('rejects a transition when the head reassigned the application meanwhile, and goes on with the queue', async () => {
    const r = await assigned(EXECUTOR);
    const s = await assigned(EXECUTOR);
    const deskFrom = desk.lastOutboxSeq();
    // The executor, offline, accepts both.
    const r1 = desk.workflow.accept(r, 2, { id: EXECUTOR });
    desk.workflow.accept(s, 2, { id: EXECUTOR });
    expect(r1.status).toBe('in_processing');
    // Meanwhile the head gives R to another executor, and that reaches the server first.
    office.workflow.assignOne(r, null, EXECUTOR_2, { id: HEAD });
    expect((await sync(a, office, sentA)).map((x) => x.outcome)).toEqual(['applied']);

    sentB.at = deskFrom;
    const results = await sync(b, desk, sentB);
    expect(results.map((x) => [x.outcome, x.reason])).toEqual([
      ['rejected', 'reassigned'],
      ['applied', null],
    ]);
    expect(results[0]!.message).toContain(EXECUTOR_2);
    expect(await serverRow(r)).toMatchObject({ status: 'received', responsible: EXECUTOR_2 });
    expect(await serverRow(s)).toMatchObject({ status: 'in_processing', responsible: EXECUTOR });
    expect((await deviceChanges(b.enrolled.deviceId)).slice(-2).map((x) => [x.outcome, x.reason])).toEqual([
      ['rejected', 'reassigned'],
      ['applied', null],
    ]);
  });

  it('rejects a transition the status no longer allows, and one by an executor who is not responsible', async () => {
    const r = await assigned(EXECUTOR);
    // The executor accepts on the office workstation first, then again on the desk.
    office.workflow.accept(r, 2, { id: EXECUTOR });
    await sync(a, office, sentA);
    const from = desk.lastOutboxSeq();
    desk.workflow.accept(r, 2, { id: EXECUTOR });
    const [accept] = desk.changes({ after: from });
    const notAllowed = await b.push(b.number([accept!]));
    expect(notAllowed.map((x) => [x.outcome, x.reason])).toEqual([['rejected', 'notAllowed']]);
    sentB.at = desk.lastOutboxSeq();

    // A client that says another executor (never responsible here) saved the form.
    const t = await assigned(EXECUTOR);
    const mark = desk.lastOutboxSeq();
    desk.workflow.accept(t, 2, { id: EXECUTOR });
    const [own] = desk.changes({ after: mark });
    sentB.at = desk.lastOutboxSeq();
    const payload = own!.payload as { event: { actorUserId: string } };
    const forged = { ...own!, payload: { ...payload, event: { ...payload.event, actorUserId: EXECUTOR_3 } } };
    const results = await b.push(b.number([forged]));
    expect(results.map((x) => [x.outcome, x.reason])).toEqual([['rejected', 'forbidden']]);
    expect(await serverRow(t)).toMatchObject({ status: 'received' });
  });

  it('rejects the changes of a user blocked since (their keys revoked), even after the unblock until they log in again', async () => {
    const r = await assigned(EXECUTOR_2);
    const mark = office.lastOutboxSeq();
    office.workflow.accept(r, 2, { id: EXECUTOR_2 });
    // The system administrator blocks the executor from another device before the office syncs.
    const block = await b.push(b.number([userChange('user.block', EXECUTOR_2, { userId: EXECUTOR_2, by: ADMIN })]));
    expect(block[0]!.outcome).toBe('applied');
    // The block revoked every key of the executor: what they queued no longer proves its author.
    const results = await a.push(a.next(office, mark));
    sentA.at = office.lastOutboxSeq();
    expect(results.map((x) => [x.outcome, x.reason])).toEqual([['rejected', 'unauthenticated']]);
    expect(await serverRow(r)).toMatchObject({ status: 'received', responsible: EXECUTOR_2 });
    const unblock = await b.push(b.number([userChange('user.unblock', EXECUTOR_2, { userId: EXECUTOR_2, by: ADMIN })]));
    expect(unblock[0]!.outcome).toBe('applied');

    // Unblocked, the old key stays revoked; a new online login gives a key that works.
    const profile = () =>
      userChange('user.profile', EXECUTOR_2, {
        id: EXECUTOR_2,
        fullName: 'Executor Two',
        email: null,
        phone: null,
        positionKk: null,
        positionRu: null,
      });
    const stale = await a.push(a.number([profile()]));
    expect(stale.map((x) => [x.outcome, x.reason])).toEqual([['rejected', 'unauthenticated']]);
    await client.login(a.enrolled, await loginsOf(sql, [EXECUTOR_2]));
    const fresh = await a.push(a.number([profile()]));
    expect(fresh.map((x) => [x.outcome, x.reason])).toEqual([['applied', null]]);
  });

  it('applies each change exactly once when the same batch arrives several times at once', async () => {
    const id = await assigned(EXECUTOR);
    const from = desk.lastOutboxSeq();
    let version = desk.workflow.accept(id, 2, { id: EXECUTOR }).version;
    for (let i = 1; i <= 8; i++) {
      version = desk.workflow.save(id, version, { executorComment: `note ${i}` }, { id: EXECUTOR }).version;
    }
    const changes = b.next(desk, from);
    sentB.at = desk.lastOutboxSeq();
    expect(changes).toHaveLength(9);

    const answers = await Promise.all(Array.from({ length: 5 }, () => client.push(b.enrolled, changes)));
    const results = answers.flatMap((x) => ok(x).results);
    for (const c of changes) {
      expect(results.filter((r) => r.seq === c.seq && r.outcome === 'applied')).toHaveLength(1);
      expect(results.filter((r) => r.seq === c.seq)).toHaveLength(5);
    }
    const events = await sql.query<{ action: string }>(
      'SELECT action FROM application_events WHERE application_id = $1 ORDER BY seq',
      [id],
    );
    expect(events.map((e) => e.action)).toEqual(['received', 'assign', 'accept', ...Array(8).fill('save')]);
    const [row] = await sql.query<{ comment: string }>(
      `SELECT form_data->>'executorComment' AS comment FROM applications WHERE id = $1`,
      [id],
    );
    expect(row?.comment).toBe('note 8');
    const recorded = await deviceChanges(b.enrolled.deviceId);
    expect(recorded.filter((r) => r.seq >= changes[0]!.seq)).toHaveLength(9);
  });

  it('rejects alone a change whose data the database refuses, and applies the rest of its batch', async () => {
    const good = office.intake({ providerId: EMPLOYMENT, serviceCode: SERVICE, clerkId: CLERK });
    const bad = office.intake({ providerId: EMPLOYMENT, serviceCode: SERVICE, clerkId: CLERK });
    const changes = a.next(office, sentA.at);
    sentA.at = office.lastOutboxSeq();
    // A NUL character: valid JSON, valid for the schema, but no PostgreSQL text column takes it.
    const poisoned = changes.map((c) =>
      c.entityId === bad ? { ...c, payload: { ...(c.payload as object), applicantName: 'Nul\u0000Name' } } : c,
    );
    const results = await a.push(poisoned);
    expect(results.map((x) => [x.outcome, x.reason])).toEqual([
      ['applied', null],
      ['rejected', 'invalid'],
    ]);
    expect(await serverRow(good)).toMatchObject({ status: 'received' });
    expect(await serverRow(bad)).toBeUndefined();
    expect((await deviceChanges(a.enrolled.deviceId)).at(-1)).toMatchObject({ seq: a.seq, outcome: 'rejected' });
  });

  it('signs an application only with a signature it verifies, by the head who holds the certificate', async () => {
    const stranger = trustedPki();
    try {
      const key = trusted.signingKey(DEMO_HEAD, NOW);
      const [surname, firstName] = DEMO_HEAD.fullName.toUpperCase().split(' ');
      const id = await assigned(EXECUTOR);
      let v = office.workflow.accept(id, 2, { id: EXECUTOR }).version;
      v = office.workflow.save(
        id,
        v,
        { documentsCheck: 'complete', resultNumber: 'R-1', resultDate: '2026-05-20' },
        { id: EXECUTOR },
      ).version;
      v = office.workflow.decide(id, v, { decision: 'positive' }, { id: EXECUTOR }).version;
      v = office.workflow.send(id, v, { id: EXECUTOR }).version;
      expect((await sync(a, office, sentA)).map((x) => x.outcome)).toEqual([
        'applied',
        'applied',
        'applied',
        'applied',
      ]);
      const mark = office.lastOutboxSeq();
      // A certificate with the head's IIN from a CA the server does not trust, over the same document (before
      // the office signs: the document carries the status, and the server rebuilds it from its own state).
      const forgedId = await office.sign(id, HEAD, stranger.signingKey(DEMO_HEAD, NOW));
      const signatureId = await office.sign(id, HEAD, key);
      office.workflow.sign(id, v, { id: HEAD }, signatureId);
      const [forged, signatureChange, signChange] = office.changes({ after: mark });

      // A signature whose bytes were changed does not verify: rejected, and the signing after it too.
      const payload = signatureChange!.payload as { signed: string };
      const tampered = Buffer.from(payload.signed, 'base64')
        .toString('utf8')
        .replace('<Status>on_signing', '<Status>completed');
      const bad = await a.push(
        a.number([
          { ...signatureChange!, payload: { ...payload, signed: Buffer.from(tampered).toString('base64') } },
          signChange!,
        ]),
      );
      expect(bad.map((x) => [x.outcome, x.reason])).toEqual([
        ['rejected', 'invalid'],
        ['rejected', 'invalid'],
      ]);

      // The untrusted CA's certificate: the signature verifies, but anyone could have made that certificate.
      // Refused, and the signing after it too.
      const refused = await a.push(a.number([forged!, signChange!]));
      expect(refused.map((x) => [x.outcome, x.reason])).toEqual([
        ['rejected', 'forbidden'],
        ['rejected', 'invalid'],
      ]);
      expect(refused[0]!.message).toContain('chainUntrusted');
      expect(await sql.query('SELECT 1 FROM signatures WHERE id = $1', [forgedId])).toEqual([]);

      const good = await a.push(a.number([signatureChange!, signChange!]));
      sentA.at = office.lastOutboxSeq();
      expect(good.map((x) => x.outcome)).toEqual(['applied', 'applied']);
      expect(await serverRow(id)).toMatchObject({ status: 'completed', decision: 'positive' });
      const [stored] = await sql.query<{ signerIin: string; userId: string; signerName: string }>(
        'SELECT signer_iin AS "signerIin", user_id AS "userId", signer_name AS "signerName" FROM signatures WHERE id = $1',
        [signatureId],
      );
      expect(stored).toEqual({ signerIin: DEMO_HEAD.iin, userId: HEAD, signerName: `${surname} ${firstName}` });
    } finally {
      stranger.remove();
    }
  }, 60_000);

  it("applies a user's own changes and an administrator's within their reach only", async () => {
    const hash = await hashPassword('Another-Passw0rd', { ln: 10, r: 8, p: 1 });
    const results = await a.push(
      a.number([
        userChange('user.passwordChange', EXECUTOR_3, { userId: EXECUTOR_3, passwordHash: hash, changedAt: NOW }),
        userChange('user.passwordChange', EXECUTOR_3, {
          userId: EXECUTOR_3,
          passwordHash: 'plain text',
          changedAt: NOW,
        }),
        // head.demo administers the employment office: she cannot make anyone a head of another office.
        userChange('user.setRoles', EXECUTOR_3, {
          userId: EXECUTOR_3,
          roles: [{ role: 'head', providerId: OTHER_PROVIDER }],
          by: HEAD,
        }),
        userChange('user.setRoles', EXECUTOR_3, {
          userId: EXECUTOR_3,
          roles: [
            { role: 'executor', providerId: EMPLOYMENT },
            { role: 'clerk', providerId: EMPLOYMENT },
          ],
          by: HEAD,
        }),
        userChange('user.block', HEAD, { userId: HEAD, by: HEAD }),
        userChange('user.frobnicate', HEAD, {}),
      ]),
    );
    expect(results.map((x) => [x.outcome, x.reason])).toEqual([
      ['applied', null],
      ['rejected', 'invalid'],
      ['rejected', 'forbidden'],
      ['applied', null],
      ['rejected', 'forbidden'],
      ['rejected', 'unknownOp'],
    ]);
    const [user] = await sql.query<{ hash: string }>('SELECT password_hash AS hash FROM users WHERE id = $1', [
      EXECUTOR_3,
    ]);
    expect(user?.hash).toBe(hash);
    // The user's feed row, in the office's partition (never the global one), has the new roles and never a
    // password hash.
    const [row] = await sql.query<{ data: { roles: unknown; passwordHash?: unknown } }>(
      `SELECT data FROM feed WHERE partition = $1 AND entity = 'user' AND id = $2`,
      [providerPartition(EMPLOYMENT), EXECUTOR_3],
    );
    expect(
      await sql.query(`SELECT 1 FROM feed WHERE partition = 'global' AND entity = 'user' AND id = $1`, [EXECUTOR_3]),
    ).toEqual([]);
    expect(row?.data.roles).toEqual([
      { role: 'clerk', providerId: EMPLOYMENT },
      { role: 'executor', providerId: EMPLOYMENT },
    ]);
    expect(JSON.stringify(row?.data)).not.toContain('scrypt');
  });

  // --------------------------------------------------------------- pull ---

  it('pulls in pages with a cursor that only grows, and a removal as a tombstone', async () => {
    const all = await client.pullAll(a.token, 'global', undefined, 10);
    expect(all.pages.length).toBeGreaterThan(3);
    const versions = all.rows.map((r) => r.version);
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
    expect(new Set(versions).size).toBe(versions.length);
    const covered = all.pages.map((p) => decodeCursor(p.cursor, 'global'));
    expect(covered).toEqual([...covered].sort((x, y) => x - y));
    expect(all.pages.slice(0, -1).every((p) => p.hasMore && p.rows.length === 10)).toBe(true);
    const [count] = await sql.query<{ n: number }>(`SELECT count(*) AS n FROM feed WHERE partition = 'global'`);
    expect(all.rows).toHaveLength(count!.n);

    // Staff rows live in their office's partition: a removal reaches it as a tombstone.
    const partition = providerPartition(EMPLOYMENT);
    const before = await client.pullAll(a.token, partition);
    const removed = await removeStaff(sql, EMPLOYMENT, FORMER);
    expect(removed).toBeGreaterThan(before.version);
    const after = await client.pullAll(a.token, partition, before.cursor);
    // The tombstone, then the user's row as the office now knows them (directory.ts: a row, not a tombstone).
    expect(after.rows.map((r) => [r.entity, r.id, r.op])).toEqual([
      ['staff', `${EMPLOYMENT}:${FORMER}`, 'delete'],
      ['user', FORMER, 'upsert'],
    ]);
    expect(after.rows[0]).toMatchObject({ data: null });
    expect(after.rows[0]!.version).toBeGreaterThan(before.version);
    expect(after.rows[1]!.version).toBe(removed);
    expect(after.version).toBe(removed);
    // Nothing new: the same cursor back, an empty page.
    const quiet = ok(await client.pull(a.token, partition, after.cursor));
    expect(quiet).toMatchObject({ rows: [], hasMore: false, cursor: after.cursor });
  });

  it('refuses a garbled cursor, a cursor of another partition and a partition that is not the device’s', async () => {
    expect((await client.pull(a.token, 'global', 'not a cursor!')).status).toBe(400);
    expect((await client.pull(a.token, 'global', Buffer.from('c1\nglobal\nx').toString('base64url'))).status).toBe(400);
    const other = await client.pull(a.token, 'global', encodeCursor(providerPartition(EMPLOYMENT), 1));
    expect(other.body).toMatchObject({
      error: 'bad_request',
      message: 'bad cursor: the cursor is of another partition',
    });
    expect((await client.pull(a.token, providerPartition(OTHER_PROVIDER))).body).toMatchObject({ error: 'forbidden' });
    expect((await client.pull(a.token, 'global', encodeCursor('global', 10 ** 9))).body).toMatchObject({
      error: 'conflict',
    });
  });

  it('streams a snapshot with its header and trailer, after which a pull finds nothing new', async () => {
    const partition = providerPartition(EMPLOYMENT);
    const lines = await client.snapshot(a.token, partition);
    const rows = lines.filter((l) => l.kind === 'row');
    expect(lines[0]).toMatchObject({ kind: 'header', partition, rows: rows.length });
    const end = lines.at(-1);
    expect(end).toMatchObject({ kind: 'end', count: rows.length });
    expect(rows.length).toBeGreaterThan(7); // several batches of 7
    expect(rows.every((l) => l.kind === 'row' && l.row.op === 'upsert')).toBe(true);
    const next = ok(await client.pull(a.token, partition, end?.kind === 'end' ? end.cursor : undefined));
    expect(next.rows).toEqual([]);
  });

  it('loses nothing written while a snapshot streams: the pull from its cursor brings it', async () => {
    const partition = providerPartition(EMPLOYMENT);
    // A response whose buffer is always full: the snapshot waits for 'drain' after each write, and the test writes meanwhile.
    class Stalled extends EventEmitter {
      destroyed = false;
      text = '';
      writes = 0;
      writeHead() {
        return this;
      }
      write(chunk: string) {
        this.text += chunk;
        this.writes++;
        return false;
      }
      end() {
        this.emit('finish');
      }
    }
    const res = new Stalled();
    const device = { deviceId: a.enrolled.deviceId, providerId: EMPLOYMENT, partitions: ['global', partition] };
    const streaming = snapshot(
      sql,
      device,
      new URLSearchParams({ partition }),
      res as unknown as ServerResponse,
      () => NOW,
      5,
    );
    const waitForWrite = async (n: number) => {
      while (res.writes < n) await new Promise((r) => setTimeout(r, 5));
    };
    const [oldest] = await sql.query<{ id: string }>(
      `SELECT id FROM feed WHERE partition = $1 AND entity = 'application' ORDER BY version DESC LIMIT 1`,
      [partition],
    );
    let writes = 1;
    await waitForWrite(writes);
    // While the header is out: a new application, and a change to the application streamed last (not yet sent).
    const fresh = office.intake({ providerId: EMPLOYMENT, serviceCode: SERVICE, clerkId: CLERK });
    await sync(a, office, sentA);
    await sql.tx(async (tx) => {
      const v = await bump(tx, partition);
      const [row] = await tx.query<{ data: Record<string, unknown> }>(
        `SELECT data FROM feed WHERE partition = $1 AND entity = 'application' AND id = $2`,
        [partition, oldest!.id],
      );
      await writeFeed(
        tx,
        partition,
        'application',
        oldest!.id,
        'upsert',
        { ...row!.data, locality: 'changed meanwhile' },
        v,
      );
    });
    for (;;) {
      res.emit('drain');
      writes++;
      const done = await Promise.race([streaming.then(() => true), waitForWrite(writes).then(() => false)]);
      if (done) break;
    }
    const lines = res.text
      .trim()
      .split('\n')
      .map((l) => snapshotLine.parse(JSON.parse(l)));
    const end = lines.at(-1);
    if (end?.kind !== 'end') throw new Error('no trailer');
    const state = new Map<string, FeedRow>();
    for (const l of lines) if (l.kind === 'row') state.set(`${l.row.entity}:${l.row.id}`, l.row);
    expect(state.has(`application:${fresh}`)).toBe(false);
    const pulled = await client.pullAll(a.token, partition, end.cursor);
    for (const r of pulled.rows) {
      if (r.op === 'delete') state.delete(`${r.entity}:${r.id}`);
      else state.set(`${r.entity}:${r.id}`, r);
    }
    const live = await sql.query<{ entity: string; id: string; data: unknown }>(
      `SELECT entity, id, data FROM feed WHERE partition = $1 AND op = 'upsert'`,
      [partition],
    );
    expect(state.size).toBe(live.length);
    for (const l of live) expect(state.get(`${l.entity}:${l.id}`)?.data).toEqual(l.data);
    expect((state.get(`application:${oldest!.id}`)?.data as { locality: string }).locality).toBe('changed meanwhile');
    expect(state.has(`application:${fresh}`)).toBe(true);
  });

  it('writes every feed row in the shape protocol.ts gives its entity (what a workstation validates)', async () => {
    const seen = new Set<string>();
    for (const partition of ['global', providerPartition(EMPLOYMENT)]) {
      const { rows } = await client.pullAll(a.token, partition, undefined, 5000);
      for (const r of rows) {
        seen.add(r.entity);
        if (r.op === 'delete') continue;
        const parsed = FEED_DATA[r.entity].safeParse(r.data);
        if (!parsed.success) throw new Error(`${r.entity} ${r.id}: ${parsed.error.message}`);
      }
    }
    expect([...seen].sort()).toEqual([
      'application',
      'calendar',
      'event',
      'provider',
      'region',
      'service',
      'signature',
      'staff',
      'user',
    ]);
  });

  // ----------------------------------------------------------- requests ---

  it('answers malformed requests with 400 and an error body, unknown paths with 404', async () => {
    const raw = await fetch(new URL('/v1/push', server.url), {
      method: 'POST',
      headers: { Authorization: `Bearer ${a.token}` },
      body: '{"deviceId": ',
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({ error: 'bad_request', message: 'body is not JSON', serverTime: NOW });
    const noChanges = await client.push(a.enrolled, []);
    expect(noChanges.status).toBe(400);
    expect(noChanges.body).toMatchObject({ error: 'bad_request', message: expect.stringContaining('changes') });
    const unordered = await client.push(
      a.enrolled,
      a.number([userChange('change.discard', HEAD, {}), userChange('change.discard', HEAD, {})]).reverse(),
    );
    a.seq -= 2;
    expect(unordered.body).toMatchObject({ error: 'bad_request' });
    expect(
      (await call(server.url, 'GET', '/v1/pull?partition=global&limit=0', healthAnswer, { token: a.token })).status,
    ).toBe(400);
    expect((await call(server.url, 'GET', '/v1/nothing', healthAnswer)).body).toMatchObject({ error: 'not_found' });
    expect((await call(server.url, 'DELETE', '/v1/push', healthAnswer, { token: a.token })).status).toBe(405);
    // A change whose payload does not fit is the change's fault, not the request's: rejected, the queue goes on.
    // (Each names its author, whose key proves it: a change without that is refused before its payload is read.)
    const results = await a.push(
      a.number([
        { ...userChange('application.transition', 'nope', { event: { actorUserId: HEAD } }), entity: 'application' },
        userChange('change.discard', HEAD, { seq: 1, actorUserId: HEAD }),
      ]),
    );
    expect(results.map((x) => [x.outcome, x.reason])).toEqual([
      ['rejected', 'invalid'],
      ['applied', null],
    ]);
  });

  it('reads a queue of version 1 changes in a protocol 2 push, and names the protocols it reads otherwise', async () => {
    const v2 = await startServer({ sql, protocolVersion: 2, minProtocolVersion: 1, now: () => NOW, log: () => {} });
    const v2only = await startServer({ sql, protocolVersion: 2, minProtocolVersion: 2, now: () => NOW, log: () => {} });
    try {
      expect(ok(await call(v2.url, 'GET', '/health', healthAnswer))).toMatchObject({
        protocolVersion: 2,
        minProtocolVersion: 1,
      });
      const id = office.intake({ providerId: EMPLOYMENT, serviceCode: SERVICE, clerkId: CLERK });
      office.workflow.assignOne(id, null, EXECUTOR, { id: HEAD });
      const queue = a.next(office, sentA.at);
      sentA.at = office.lastOutboxSeq();
      expect(queue.every((c) => c.protocolVersion === 1)).toBe(true);

      const refused = await new TestClient(v2only.url).push(a.enrolled, queue, 1);
      expect(refused.status).toBe(426);
      expect(refused.body).toMatchObject({ error: 'protocol_unsupported', minProtocolVersion: 2, protocolVersion: 2 });
      const tooNew = await new TestClient(v2.url).push(a.enrolled, queue, 3);
      expect(tooNew.status).toBe(426);
      // In a version 2 request, a change still in version 1 is unsupported there: recorded, the queue goes on.
      const mixed = await new TestClient(v2only.url).push(a.enrolled, [queue[0]!], 2);
      expect(ok(mixed).results.map((x) => [x.outcome, x.reason])).toEqual([['rejected', 'schemaUnsupported']]);

      // A server that still reads version 1 changes takes them in a protocol 2 request, each with its author's MAC.
      const results = ok(await new TestClient(v2.url).push(a.enrolled, queue.slice(1), 2)).results;
      expect(results.map((x) => [x.outcome, x.reason])).toEqual([['rejected', 'notFound']]);
      const created = ok(await new TestClient(v2.url).push(a.enrolled, a.number([queue[0]!, queue[1]!]), 2)).results;
      expect(created.map((x) => x.outcome)).toEqual(['applied', 'applied']);
      expect(await serverRow(id)).toMatchObject({ responsible: EXECUTOR });
    } finally {
      await v2.close();
      await v2only.close();
    }
  });

  it("attack: a protocol 1 push, whose changes carry no author's proof, is refused 426 even where version 1 changes are read", async () => {
    const v2 = await startServer({ sql, protocolVersion: 2, minProtocolVersion: 1, now: () => NOW, log: () => {} });
    try {
      const id = office.intake({ providerId: EMPLOYMENT, serviceCode: SERVICE, clerkId: CLERK });
      const queue = a.next(office, sentA.at);
      a.seq -= queue.length;
      const [before] = await deviceChanges(a.enrolled.deviceId).then((r) => r.slice(-1));
      // A workstation of before protocol 2: the device's token, no user keys, no MACs.
      const bare = { deviceId: a.enrolled.deviceId, token: a.token };
      for (const url of [v2.url, server.url]) {
        const old = await new TestClient(url).push(bare, queue, 1);
        expect(old.status).toBe(426);
        expect(old.body).toMatchObject({ error: 'protocol_unsupported', minProtocolVersion: 2 });
      }
      expect((await deviceChanges(a.enrolled.deviceId)).at(-1)).toEqual(before);
      expect(await serverRow(id)).toBeUndefined();
    } finally {
      await v2.close();
    }
  });
});
