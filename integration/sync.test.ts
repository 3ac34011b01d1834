/**
 * The sync engine against the real central server (server/src/server.ts,
 * PGlite in memory, the demo seeded), with H1a's fault proxy between them
 * where a test needs faults: real enrolment, real local changes through the
 * WorkflowService, the server's own checks. Each test uses fresh
 * workstations (new devices) and applications of its own.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { revokeDevice } from '#server/src/devices.js';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { addBulkApplications, measureInitialPull } from '#bench/sync.js';
import { startServer, type RunningServer } from '#server/src/server.js';
import { notJson, serverError, startFaultProxy, type FaultProxy } from '#server/src/testing/fault-proxy.js';
import { EMPLOYMENT } from '#main/workflow/testing.js';
import { SyncError } from '#main/sync/client.js';
import {
  applicationOf,
  eventually,
  openWorkstation,
  outboxRows,
  takeIn,
  type Workstation,
  type WorkstationOptions,
} from '#main/sync/testing.js';

const DAY = 86_400_000;
const head = { id: EMPLOYMENT.head };
const executor = { id: EMPLOYMENT.executor };
const PARTITION = `provider:${EMPLOYMENT.provider}`;
/** The people of the office on the server (a role there or a staff position): the directory a workstation gets. */
const OFFICE_USERS = `(SELECT count(*) FROM users WHERE id IN (SELECT user_id FROM user_roles WHERE provider_id = $1
  UNION SELECT user_id FROM provider_staff WHERE provider_id = $1))`;
/** The office's people who make the tests' changes: logged in online, so their changes carry their proof. */
const OFFICE_LOGINS = ['head.demo', 'clerk.demo', 'executor.demo'];

let server: RunningServer;
let proxy: FaultProxy;
const open: Workstation[] = [];

beforeAll(async () => {
  server = await startServer({ dataDir: null, seed: 'demo', demoApplications: 40, log: () => undefined });
  proxy = await startFaultProxy(server.url);
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  await server?.close();
});

afterEach(async () => {
  proxy.reset();
  for (const w of open.splice(0)) await w.close();
});

async function workstation(options: Partial<WorkstationOptions> = {}): Promise<Workstation> {
  const w = await openWorkstation({ serverUrl: proxy.url, ...options });
  open.push(w);
  return w;
}

/** A workstation enrolled in the employment office, its people logged in online, and synced once. */
async function synced(options: Partial<WorkstationOptions> = {}): Promise<Workstation> {
  const w = await workstation(options);
  await w.enrol();
  await w.loginOnline(OFFICE_LOGINS);
  await w.engine.runOnce();
  expect(w.engine.lastFailure()).toBeNull();
  return w;
}

async function serverApp(
  id: string,
): Promise<{ status: string; responsible: string | null; serverVersion: number } | undefined> {
  const [row] = await server.sql.query<{ status: string; responsible: string | null; serverVersion: string | number }>(
    'SELECT status, responsible_user_id AS responsible, server_version AS "serverVersion" FROM applications WHERE id = $1',
    [id],
  );
  return row ? { ...row, serverVersion: Number(row.serverVersion) } : undefined;
}

async function deviceChanges(
  deviceId: string,
): Promise<{ seq: number; op: string; outcome: string; entityId: string }[]> {
  const rows = await server.sql.query<{ seq: string | number; op: string; outcome: string; entityId: string }>(
    'SELECT seq, op, outcome, entity_id AS "entityId" FROM device_changes WHERE device_id = $1 ORDER BY seq',
    [deviceId],
  );
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

function requests(method: string, path: string, from = 0): string[] {
  return proxy.log
    .slice(from)
    .filter((r) => r.method === method && r.path.startsWith(path))
    .map((r) => (r.upstreamStatus !== null ? `${r.fault}:${r.upstreamStatus}` : r.fault));
}

/** Creates `n` applications on the server through another workstation (its clerk takes them in). */
async function createElsewhere(n: number): Promise<string[]> {
  const other = await synced();
  const ids = Array.from({ length: n }, () => takeIn(other.sqlite, Date.now()));
  await other.engine.runOnce();
  expect(outboxRows(other.sqlite).every((r) => r.state === 'sent')).toBe(true);
  return ids;
}

describe('"Sync now"', { timeout: 120_000 }, () => {
  it('runs again after a run that began while the connection was down, and pushes in that call', async () => {
    // The network as the engine sees it: while `down`, a request hangs a moment and then fails.
    let down = false;
    const net: typeof fetch = async (input, init) => {
      if (down) {
        await new Promise((r) => setTimeout(r, 400));
        throw new TypeError('fetch failed');
      }
      return fetch(input, init);
    };
    const w = await synced({ fetch: net });
    takeIn(w.sqlite, Date.now());
    down = true;
    // A run under way while the connection is down, as the timer would have started it.
    const inFlight = w.engine.runOnce();
    // Past its first attempt and into its immediate second one, both begun while down.
    await new Promise((r) => setTimeout(r, 550));
    // The connection is back; the user presses "Sync now" while that doomed run still goes on.
    down = false;
    await w.engine.runNow();
    expect(outboxRows(w.sqlite).every((r) => r.state === 'sent')).toBe(true);
    await inFlight;
  });
});

describe('SyncEngine with the central server', { timeout: 120_000 }, () => {
  it('enrols, takes the snapshot, pulls pages and pushes a change the server applies', async () => {
    const a = await synced({ pullPageSize: 5 });
    const details = a.engine.details();
    expect(details.enrolled).toBe(true);
    expect(details.providerId).toBe(EMPLOYMENT.provider);
    // The office's names come with the directory of the first sync.
    const [office] = await server.sql.query<{ ru: string }>('SELECT name_ru AS ru FROM providers WHERE id = $1', [
      EMPLOYMENT.provider,
    ]);
    expect(details.providerName?.ru).toBe(office?.ru);
    expect(details.partitions.map((p) => p.partition)).toEqual(['global', PARTITION]);
    expect(details.partitions.every((p) => (p.version ?? 0) > 0)).toBe(true);
    const [serverCounts] = await server.sql.query<{ apps: string | number; users: string | number }>(
      `SELECT (SELECT count(*) FROM applications WHERE provider_id = $1) AS apps, ${OFFICE_USERS} AS users`,
      [EMPLOYMENT.provider],
    );
    const local = (sql: string) => a.sqlite.prepare(sql).pluck().get(EMPLOYMENT.provider) as number;
    expect(local('SELECT count(*) FROM applications WHERE provider_id = ?')).toBe(Number(serverCounts!.apps));
    expect(a.sqlite.prepare('SELECT count(*) FROM users').pluck().get()).toBe(Number(serverCounts!.users));
    expect(a.sqlite.prepare('SELECT count(*) FROM users WHERE password_hash IS NOT NULL').pluck().get()).toBe(0);

    // News of the office, in pages of five.
    const created = await createElsewhere(7);
    const mark = proxy.log.length;
    await a.engine.runOnce();
    expect(a.engine.lastFailure()).toBeNull();
    expect(requests('GET', '/v1/pull', mark).length).toBeGreaterThanOrEqual(3);
    for (const id of created) expect(applicationOf(a.sqlite, id)?.status).toBe('received');

    // A local change: the head assigns; the server applies it.
    const id = created[0]!;
    a.service.assignOne(id, applicationOf(a.sqlite, id)!.version, EMPLOYMENT.executor, head);
    expect(a.engine.status().queueDepth).toBe(1);
    await a.engine.runOnce();
    const [row] = outboxRows(a.sqlite);
    expect(row).toMatchObject({ op: 'application.transition', state: 'sent', deviceSeq: 1 });
    expect(row!.serverVersion).toBeGreaterThan(0);
    expect(await serverApp(id)).toMatchObject({ responsible: EMPLOYMENT.executor, serverVersion: row!.serverVersion });
    expect(await deviceChanges(a.engine.deviceId()!)).toEqual([
      { seq: 1, op: 'application.transition', outcome: 'applied', entityId: id },
    ]);
    // The pull brought the server's row back (its feed row is written with the change, the event after it).
    const back = applicationOf(a.sqlite, id)!;
    expect(back.responsible).toBe(EMPLOYMENT.executor);
    expect(back.serverVersion).toBeGreaterThan(details.partitions[1]!.version!);
    expect(back.serverVersion).toBeLessThanOrEqual(row!.serverVersion!);
    expect(a.engine.status()).toMatchObject({
      online: true,
      queueDepth: 0,
      enrolled: true,
      lastError: null,
      clockOff: false,
    });
  });

  it('takes a change whose answer was lost: resent, a duplicate, marked sent once', async () => {
    const a = await synced();
    const id = takeIn(a.sqlite, Date.now());
    const mark = proxy.log.length;
    // The server takes it, the answer is lost; the client sends it once more at once: a duplicate.
    proxy.add({ method: 'POST', path: '/v1/push', fault: { kind: 'dropAfterForward' }, times: 1 });
    await a.engine.runOnce();
    expect(a.engine.lastFailure()).toBeNull();
    expect(requests('POST', '/v1/push', mark)).toEqual(['dropAfterForward:200', 'pass:200']);
    const [row] = outboxRows(a.sqlite);
    expect(row).toMatchObject({ state: 'sent', attempts: 2, deviceSeq: 1 });
    expect(await serverApp(id)).toMatchObject({ serverVersion: row!.serverVersion });

    // Lost twice: this run fails, the next one learns the outcome.
    const second = takeIn(a.sqlite, Date.now());
    proxy.add({ method: 'POST', path: '/v1/push', fault: { kind: 'dropAfterForward' }, times: 2 });
    await a.engine.runOnce();
    expect(a.engine.lastFailure()).toBeInstanceOf(SyncError);
    expect(outboxRows(a.sqlite)[1]).toMatchObject({ state: 'pending', attempts: 2, deviceSeq: 2 });
    await a.engine.runOnce();
    expect(a.engine.lastFailure()).toBeNull();
    expect(outboxRows(a.sqlite)[1]).toMatchObject({ state: 'sent', attempts: 3, deviceSeq: 2 });

    expect((await deviceChanges(a.engine.deviceId()!)).map((c) => [c.seq, c.outcome])).toEqual([
      [1, 'applied'],
      [2, 'applied'],
    ]);
    for (const app of [id, second]) {
      const [events] = await server.sql.query<{ n: string | number }>(
        'SELECT count(*) AS n FROM application_events WHERE application_id = $1',
        [app],
      );
      expect(Number(events!.n)).toBe(1);
    }
  });

  it('records a business rejection and goes on; retry queues it again, discard is sent to the server', async () => {
    const a = await synced();
    const [x, y] = await createElsewhere(2);
    await a.engine.runOnce();
    for (const id of [x!, y!]) a.service.assignOne(id, applicationOf(a.sqlite, id)!.version, EMPLOYMENT.executor, head);
    await a.engine.runOnce();
    expect(outboxRows(a.sqlite).map((r) => r.state)).toEqual(['sent', 'sent']);

    // The executor's workstation has both and goes offline; meanwhile the head gives X to someone else.
    const b = await synced();
    a.service.assignOne(x!, applicationOf(a.sqlite, x!)!.version, EMPLOYMENT.executor2, head);
    await a.engine.runOnce();
    expect((await serverApp(x!))?.responsible).toBe(EMPLOYMENT.executor2);
    b.service.accept(x!, applicationOf(b.sqlite, x!)!.version, executor);
    b.service.accept(y!, applicationOf(b.sqlite, y!)!.version, executor);
    expect(applicationOf(b.sqlite, x!)).toMatchObject({ status: 'in_processing', responsible: EMPLOYMENT.executor });

    await b.engine.runOnce();
    expect(outboxRows(b.sqlite).map((r) => [r.state, r.rejectReason])).toEqual([
      ['rejected', 'reassigned'],
      ['sent', null],
    ]);
    expect((await serverApp(y!))?.status).toBe('in_processing');
    // The local copy of X is the server's again.
    expect(applicationOf(b.sqlite, x!)).toMatchObject({ status: 'received', responsible: EMPLOYMENT.executor2 });
    const number = b.sqlite.prepare('SELECT number FROM applications WHERE id = ?').pluck().get(x!) as string;
    const details = b.engine.details();
    expect(details.rejected).toEqual([
      expect.objectContaining({
        op: 'application.transition',
        entityId: x!,
        applicationNumber: number,
        reason: 'reassigned',
      }),
    ]);
    expect(b.engine.status().rejectedCount).toBe(1);

    // Retry: queued as a new change at the end; the server refuses it again (still reassigned).
    const first = details.rejected[0]!.seq;
    const retried = b.engine.retry(first);
    expect(retried.rejected).toEqual([]);
    expect(b.engine.status().queueDepth).toBe(1);
    await b.engine.runOnce();
    const again = b.engine.details().rejected;
    expect(again).toHaveLength(1);
    expect(again[0]!.seq).toBeGreaterThan(first);

    // Discard: recorded here and sent, as the head's own change (it carries her proof).
    const after = b.engine.discard(again[0]!.seq, 'given to another executor', EMPLOYMENT.head);
    expect(after.rejected).toEqual([]);
    await b.engine.runOnce();
    const rows = outboxRows(b.sqlite);
    expect(rows.map((r) => r.state)).toEqual(['retried', 'sent', 'discarded', 'sent']);
    expect(rows[3]).toMatchObject({ op: 'change.discard' });
    const onServer = await deviceChanges(b.engine.deviceId()!);
    expect(onServer.map((c) => [c.seq, c.op, c.outcome])).toEqual([
      [1, 'application.transition', 'rejected'],
      [2, 'application.transition', 'applied'],
      [3, 'application.transition', 'rejected'],
      [4, 'change.discard', 'applied'],
    ]);
  });

  it('on 401 gets a new token and sends again, the outbox untouched', async () => {
    const a = await synced();
    takeIn(a.sqlite, Date.now());
    const mark = proxy.log.length;
    proxy.add({
      method: 'POST',
      path: '/v1/push',
      fault: { kind: 'answer', status: 401, body: JSON.stringify({ error: 'unauthorized', message: 'expired' }) },
      times: 1,
    });
    await a.engine.runOnce();
    expect(a.engine.lastFailure()).toBeNull();
    expect(requests('POST', '/v1/push', mark)).toEqual(['answer', 'pass:200']);
    expect(requests('POST', '/v1/devices/token', mark)).toEqual(['pass:200']);
    // Both sendings counted (the first could have reached the server, for all this workstation knows).
    expect(outboxRows(a.sqlite)).toMatchObject([{ state: 'sent', attempts: 2, deviceSeq: 1 }]);
    expect(a.engine.enrolled()).toBe(true);
  });

  it('backs off with jitter after 5xx and network errors, and the timer retries with no new local write', async () => {
    const random = [0.5, 0.25];
    const a = await synced({
      backoff: { baseMs: 400, capMs: 10_000 },
      random: () => random.shift() ?? 0,
      intervalMs: 60_000,
    });
    takeIn(a.sqlite, Date.now());
    const mark = proxy.log.length;
    proxy.add({ method: 'POST', path: '/v1/push', fault: serverError(503), times: 1 });
    proxy.add({ method: 'POST', path: '/v1/push', fault: { kind: 'dropBeforeForward' }, times: 2 });
    const failures: number[] = [];
    a.engine.onChange(() => {
      const { activity } = a.engine.details();
      if (activity.phase === 'waiting' && activity.retryAt !== null && failures.at(-1) !== activity.failures) {
        failures.push(activity.failures);
      }
    });
    a.engine.start();
    await eventually(() => outboxRows(a.sqlite)[0]?.state === 'sent', 20_000, 'the change sent by the retry timer');
    expect(requests('POST', '/v1/push', mark)).toEqual([
      'answer',
      'dropBeforeForward',
      'dropBeforeForward',
      'pass:200',
    ]);
    expect(failures).toEqual([1, 2]);
    // Full jitter: the random share of 400 ms, then of 800 ms.
    const waits = a.logs.map((l) => /retry in (\d+) ms/.exec(l)?.[1]).filter((m) => m !== undefined);
    expect(waits).toEqual(['200', '200']);
    await eventually(() => a.engine.details().activity.failures === 0, 5_000, 'the failures reset');
    expect(a.engine.status().lastError).toBeNull();
  });

  it('refuses a truncated and a non-JSON answer as malformed and applies nothing of them', async () => {
    const a = await synced();
    const created = await createElsewhere(3);
    const before = a.sqlite.prepare('SELECT cursor, version FROM sync_state WHERE partition = ?').get(PARTITION);
    for (const fault of [{ kind: 'truncate' as const, bytes: 40 }, notJson()]) {
      proxy.add({ method: 'GET', path: '/v1/pull', fault, times: 1 });
      await a.engine.runOnce();
      const failure = a.engine.lastFailure();
      expect(failure).toBeInstanceOf(SyncError);
      expect((failure as SyncError).kind).toBe('malformed');
      expect(a.engine.status().lastError).toMatch(/^malformed/);
      expect(a.sqlite.prepare('SELECT cursor, version FROM sync_state WHERE partition = ?').get(PARTITION)).toEqual(
        before,
      );
    }
    // The global partition's page was the one cut: the office's news are not here yet.
    for (const id of created) expect(applicationOf(a.sqlite, id)).toBeUndefined();
    await a.engine.runOnce();
    expect(a.engine.lastFailure()).toBeNull();
    for (const id of created) expect(applicationOf(a.sqlite, id)?.status).toBe('received');
  });

  it('starts a cut snapshot again and takes nothing half as done', async () => {
    const w = await workstation({ snapshotBatchRows: 10 });
    await w.enrol();
    const mark = proxy.log.length;
    // The global snapshot is about 180 kB (services and calendars first, their definitions whole): cut in the users.
    proxy.add({ method: 'GET', path: '/v1/snapshot', fault: { kind: 'truncate', bytes: 150_000 }, times: 1 });
    await w.engine.runOnce();
    expect((w.engine.lastFailure() as SyncError).kind).toBe('malformed');
    const state = () => w.sqlite.prepare('SELECT partition, cursor FROM sync_state ORDER BY partition').all();
    expect(state()).toEqual([
      { partition: 'global', cursor: null },
      { partition: PARTITION, cursor: null },
    ]);
    const [counts] = await server.sql.query<{ users: string | number; staff: string | number }>(
      `SELECT ${OFFICE_USERS} AS users, (SELECT count(*) FROM provider_staff WHERE provider_id = $1) AS staff`,
      [EMPLOYMENT.provider],
    );
    expect(w.sqlite.prepare('SELECT count(*) FROM users').pluck().get()).toBeLessThan(Number(counts!.users));

    await w.engine.runOnce();
    expect(w.engine.lastFailure()).toBeNull();
    expect(requests('GET', '/v1/snapshot', mark)).toEqual(['truncate:200', 'pass:200', 'pass:200']);
    expect(w.sqlite.prepare('SELECT count(*) FROM users').pluck().get()).toBe(Number(counts!.users));
    expect(w.sqlite.prepare('SELECT count(*) FROM provider_staff').pluck().get()).toBe(Number(counts!.staff));
    expect((state() as { cursor: string | null }[]).every((s) => s.cursor !== null)).toBe(true);
  });

  it('does not let a pull overwrite a local change until the pull has passed its version', async () => {
    const a = await synced();
    const b = await synced();
    const [x] = await createElsewhere(1);
    await a.engine.runOnce();
    await b.engine.runOnce();

    // A assigns X while its pushes fail; B has meanwhile given X to executor 2.
    a.service.assignOne(x!, applicationOf(a.sqlite, x!)!.version, EMPLOYMENT.executor, head);
    b.service.assignOne(x!, applicationOf(b.sqlite, x!)!.version, EMPLOYMENT.executor2, head);
    await b.engine.runOnce();
    const theirs = (await serverApp(x!))!.serverVersion;
    const known = applicationOf(a.sqlite, x!)!.serverVersion!;
    proxy.add({ method: 'POST', path: '/v1/push', fault: serverError(503), times: 1 });
    await a.engine.runOnce();
    expect((a.engine.lastFailure() as SyncError).kind).toBe('server');
    // The pull ran and brought B's version; A's own change is still what A sees.
    expect(
      a.sqlite.prepare('SELECT version FROM sync_state WHERE partition = ?').pluck().get(PARTITION),
    ).toBeGreaterThanOrEqual(theirs);
    expect(applicationOf(a.sqlite, x!)).toMatchObject({ responsible: EMPLOYMENT.executor });
    const held = a.sqlite
      .prepare("SELECT reason, version FROM sync_deferred WHERE entity = 'application' AND id = ?")
      .get(x!) as { reason: string; version: number };
    expect(held.reason).toBe('local');
    expect(held.version).toBeGreaterThan(known);
    expect(held.version).toBeLessThanOrEqual(theirs);

    await a.engine.runOnce();
    expect(a.engine.lastFailure()).toBeNull();
    const [change] = outboxRows(a.sqlite);
    expect(change).toMatchObject({ state: 'sent' });
    expect(change!.serverVersion).toBeGreaterThan(theirs);
    const now = applicationOf(a.sqlite, x!)!;
    expect(now.responsible).toBe(EMPLOYMENT.executor);
    expect(now.serverVersion).toBeGreaterThan(theirs);
    expect(a.sqlite.prepare('SELECT count(*) FROM sync_deferred').pluck().get()).toBe(0);
  });

  it('works with a clock a day off, and shows it', async () => {
    const w = await synced({ now: () => Date.now() + DAY });
    const id = takeIn(w.sqlite, Date.now() + DAY);
    await w.engine.runOnce();
    expect(w.engine.lastFailure()).toBeNull();
    expect(outboxRows(w.sqlite)[0]).toMatchObject({ state: 'sent' });
    expect(await serverApp(id)).toBeDefined();
    const status = w.engine.status();
    expect(status.clockOff).toBe(true);
    const skew = w.engine.details().clockSkewMs!;
    expect(Math.abs(skew - DAY)).toBeLessThan(60_000);
    expect(w.sqlite.prepare('SELECT clock_skew_ms FROM sync_state LIMIT 1').pluck().get()).toBe(skew);
    // Tokens are kept by their life on the server's clock: a second run asks for none.
    const mark = proxy.log.length;
    await w.engine.runOnce();
    expect(requests('POST', '/v1/devices/token', mark)).toEqual([]);
  });

  it('stops as not enrolled when the device is revoked, keeps the outbox, and goes on once enrolled again', async () => {
    const a = await synced();
    const id = takeIn(a.sqlite, Date.now());
    expect(await revokeDevice(server.sql, a.engine.deviceId()!, Date.now())).toBe(true);
    await a.engine.runOnce();
    expect(a.engine.enrolled()).toBe(false);
    expect(a.engine.status()).toMatchObject({ enrolled: false, queueDepth: 1 });
    expect(a.engine.status().lastError).toMatch(/revoked/);
    expect(outboxRows(a.sqlite)).toMatchObject([{ state: 'pending' }]);
    expect(await serverApp(id)).toBeUndefined();

    await a.enrol();
    await a.engine.runOnce();
    expect(a.engine.lastFailure()).toBeNull();
    expect(outboxRows(a.sqlite)).toMatchObject([{ state: 'sent', deviceSeq: 1 }]);
    expect(await serverApp(id)).toBeDefined();
  });

  // Last: it makes the office large for every workstation after it.
  it('takes a large office by the bulk snapshot path (the bench of the initial pull, small)', async () => {
    const [office] = await server.sql.query<{ kato: string; locality: string }>(
      'SELECT region_kato AS kato, locality_ru AS locality FROM providers WHERE id = $1',
      [EMPLOYMENT.provider],
    );
    await addBulkApplications(server.sql, {
      providerId: EMPLOYMENT.provider,
      count: 6_000,
      serviceCode: 'unemployed-certificate',
      regionKato: office!.kato,
      locality: office!.locality,
      batch: 2_500,
    });
    const [total] = await server.sql.query<{ n: string | number }>(
      'SELECT count(*) AS n FROM applications WHERE provider_id = $1',
      [EMPLOYMENT.provider],
    );
    const figures = await measureInitialPull({
      serverUrl: server.url,
      providerId: EMPLOYMENT.provider,
      login: 'admin.demo',
      password: DEMO_PASSWORD,
    });
    expect(figures.applications).toBe(Number(total!.n));
    expect(figures.rows).toBeGreaterThan(figures.applications);
    expect(figures.rowsPerS).toBeGreaterThan(0);
    expect(figures.baselineRowsPerS).toBeGreaterThan(0);
    expect(figures.peakRssMb).toBeGreaterThan(0);
    console.log(
      `initial pull of ${figures.rows} rows: ${Math.round(figures.rowsPerS)} rows/s, ${Math.round(figures.cpuMs)} ms CPU`,
    );
  });
});
