/**
 * GET /v1/monitoring on a real database (PGlite, and PostgreSQL when a
 * cluster can start): the device's provider's figures per region and column,
 * the period's bounds, the service filter, the date of the data, and never
 * another provider's applications.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitoringReport } from '#core/monitoring/report.js';
import { userProofHeaders } from '#core/lookup-proof.js';
import { checkAnswer } from '#core/protocol.js';
import {
  DEVICE_A,
  deviceToken,
  OTHER_PROVIDER_ID,
  PROVIDER_ID,
  seedDirectory,
  startTestServer,
  TEST_ADMIN,
  testDatabases,
  type TestUser,
} from '../auth/testing.js';
import type { Sql } from '../postgres/sql.js';
import type { RunningServer } from '../server.js';

const H = 3_600_000;
const kzDay = (date: string) => Date.parse(`${date}T00:00:00+05:00`);
const MID = kzDay('2026-03-10') + 10 * H;
const NOW = kzDay('2026-04-02');

const person = (id: string, iin: string, roles: TestUser['roles']): TestUser => ({
  id,
  login: id,
  fullName: `Test ${id}`,
  iin,
  password: 'Qyzmet2026!',
  roles,
});
/** The ministry's monitoring officer: bound to no provider. */
const MINISTRY = person('u-ministry', '850202400011', [{ role: 'monitoring', providerId: '' }]);
/** A regional officer: bound to the device's provider, so its region (750000000). */
const REGIONAL = person('u-regional', '860202400012', [{ role: 'monitoring', providerId: PROVIDER_ID }]);
const EXECUTOR = person('u-executor', '870202300013', [{ role: 'executor', providerId: PROVIDER_ID }]);

describe.each(testDatabases())('monitoring figures on $name', (db) => {
  let sql: Sql;
  let server: RunningServer;
  let token: string;
  let n = 0;

  async function add(
    provider: string,
    region: string,
    status: string,
    decision: string,
    at: number,
    service = 'svc-a',
  ) {
    n++;
    await sql.query(
      `INSERT INTO applications (id, number, provider_id, service_code, channel, applicant_iin, applicant_name,
         region_kato, locality, status, decision, current_step, submitted_at, status_changed_at, due_at, form_data,
         server_version)
       VALUES ($1, $2, $3, $4, 'office', '900101300123', 'Test', $5, 'X', $6, $7, 'review', $8, $8, $9, '{}', 1)`,
      [`m-${n}`, `${n}-01-01-26`, provider, service, region, status, decision, at, status === 'completed' ? null : 1],
    );
  }

  beforeAll(async () => {
    sql = await db.open();
    await seedDirectory(sql, [TEST_ADMIN, MINISTRY, REGIONAL, EXECUTOR]);
    const [p] = await sql.query<{ region_kato: string }>('SELECT region_kato FROM providers WHERE id = $1', [
      PROVIDER_ID,
    ]);
    const own = p!.region_kato;
    await add(PROVIDER_ID, own, 'received', 'none', MID);
    await add(PROVIDER_ID, own, 'in_processing', 'none', MID);
    await add(PROVIDER_ID, own, 'completed', 'positive', MID);
    await add(PROVIDER_ID, own, 'completed', 'negative', MID, 'svc-b');
    await add(PROVIDER_ID, '110000000', 'external_processing', 'none', MID);
    await add(PROVIDER_ID, own, 'received', 'none', kzDay('2026-04-01')); // the day after the period
    await add(OTHER_PROVIDER_ID, own, 'received', 'none', MID);
    server = await startTestServer(sql, { now: () => NOW });
    token = await deviceToken(server.url, DEVICE_A);
  });

  afterAll(async () => {
    await server?.close();
    await db.close();
  });

  async function get(query: string) {
    const res = await fetch(`${server.url}/v1/monitoring?${query}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as unknown };
  }

  it("answers the device's provider's figures per region and column, with the server's time", async () => {
    const res = await get('from=2026-03-01&to=2026-03-31');
    expect(res.status).toBe(200);
    const r = monitoringReport.parse(res.body);
    expect(r.source).toBe('server');
    expect(r.reach).toBe('provider');
    expect(r.dataAt).toBe(NOW);
    expect(r.totals.counts).toEqual({
      received: 1,
      inProcessing: 1,
      onSigning: 0,
      positive: 1,
      negative: 1,
      transferred: 1,
    });
    expect(r.rows.find((x) => x.kato === '110000000')?.counts.transferred).toBe(1);
    // Open and past the deadline: received, in processing, transferred (the journal's "overdue" too).
    expect(r.overdue).toEqual([{ serviceCode: 'svc-a', step: 'review', count: 3 }]);
  });

  it('includes the last day of the period whole, filters by service', async () => {
    const april = monitoringReport.parse((await get('from=2026-03-01&to=2026-04-01')).body);
    expect(april.totals.total).toBe(6);
    const b = monitoringReport.parse((await get('from=2026-03-01&to=2026-03-31&service=svc-b')).body);
    expect(b.totals.total).toBe(1);
    expect(b.totals.counts.negative).toBe(1);
  });

  it("attack: a device asks for the country's figures — another provider's applications are never counted", async () => {
    const r = monitoringReport.parse((await get('from=2026-01-01&to=2026-12-31')).body);
    expect(r.totals.total).toBe(6);
  });

  it('refuses a bad period and an anonymous call', async () => {
    expect((await get('from=2026-03-31&to=2026-03-01')).status).toBe(400);
    expect((await get('from=march')).status).toBe(400);
    const anonymous = await fetch(`${server.url}/v1/monitoring?from=2026-03-01&to=2026-03-31`);
    expect(anonymous.status).toBe(401);
  });

  /** The user's key at this device: an online password login, as a workstation's. */
  async function login(user: TestUser): Promise<{ id: string; secret: Buffer }> {
    const res = await fetch(`${server.url}/v1/auth/check`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'password', login: user.login, password: user.password }),
    });
    const answer = checkAnswer.parse(await res.json());
    if (!answer.ok || !answer.key) throw new Error(`no key for ${user.login}`);
    return { id: answer.key.id, secret: Buffer.from(answer.key.secret, 'base64') };
  }

  let tick = 0;
  async function proved(
    user: TestUser | { id: string; secret: Buffer },
    query: string,
    headers?: Record<string, string>,
  ) {
    const key = 'secret' in user ? user : await login(user);
    const target = `/v1/monitoring?${query}`;
    const proof = headers ?? userProofHeaders(key, DEVICE_A, 'GET', target, NOW - ++tick);
    const res = await fetch(server.url + target, { headers: { authorization: `Bearer ${token}`, ...proof } });
    return { status: res.status, body: (await res.json()) as unknown, proof };
  }

  it("with the ministry officer's proof: the whole country, every region of the classifier", async () => {
    const res = await proved(MINISTRY, 'from=2026-01-01&to=2026-12-31');
    expect(res.status).toBe(200);
    const r = monitoringReport.parse(res.body);
    expect(r.reach).toBe('country');
    expect(r.totals.total).toBe(7);
    expect(r.rows.length).toBeGreaterThanOrEqual(20);
  });

  it("with a regional officer's proof: the applications of their provider's region, whichever provider has them", async () => {
    const r = monitoringReport.parse((await proved(REGIONAL, 'from=2026-01-01&to=2026-12-31')).body);
    expect(r.reach).toBe('region');
    expect(r.rows.map((x) => [x.kato, x.total])).toEqual([['750000000', 6]]);
  });

  it('attack: an executor proves who they are to get wider figures — refused', async () => {
    expect((await proved(EXECUTOR, 'from=2026-01-01&to=2026-12-31')).status).toBe(403);
  });

  it("attack: a ministry officer's proof replayed, or put on another request — refused", async () => {
    const key = await login(MINISTRY);
    const first = await proved(key, 'from=2026-01-01&to=2026-12-31');
    expect(first.status).toBe(200);
    expect((await proved(key, 'from=2026-01-01&to=2026-12-31', first.proof)).status).toBe(403);
    const other = userProofHeaders(key, DEVICE_A, 'GET', '/v1/monitoring?from=2026-01-01&to=2026-01-31', NOW - ++tick);
    expect((await proved(key, 'from=2026-01-01&to=2026-12-31', other)).status).toBe(403);
  });
});
