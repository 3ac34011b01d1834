/**
 * Stateless: two server instances on one real PostgreSQL database, started
 * at the same moment on an empty database (migrations and the demo seed
 * take turns), serve the same workstations: tokens from one work on the
 * other, pushes go through either (the same batch to both at once is
 * applied once), and pulls through either read the same feed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '#server/src/postgres/migrate.js';
import { bump, partitionVersion, writeFeed } from '#server/src/feed.js';
import { postgresSql, type Sql } from '#server/src/postgres/sql.js';
import { providerPartition } from '#core/protocol.js';
import { startServer, type RunningServer } from '#server/src/server.js';
import { loginsOf } from '#server/src/testing/keys.js';
import { ok, TestClient, type EnrolledDevice } from '#server/src/testing/client.js';
import { requirePostgres, startPostgres, type TestPostgres } from '#server/src/testing/postgres.js';
import { openWorkstation, type TestWorkstation } from './workstation.js';

const NOW = Date.UTC(2026, 4, 20, 7, 30);
const APPLICATIONS = 30;
const EMPLOYMENT = 'prov-astana-employment';

describe.runIf(requirePostgres())('two server instances on one PostgreSQL database', () => {
  let postgres: TestPostgres;
  let url: string;
  let one: RunningServer;
  let two: RunningServer;
  let sql: Sql;
  let office: TestWorkstation;

  beforeAll(async () => {
    postgres = await startPostgres();
    url = await postgres.createDatabase();
    const options = {
      databaseUrl: url,
      seed: 'demo' as const,
      demoApplications: APPLICATIONS,
      now: () => NOW,
      log: () => {},
    };
    [one, two] = await Promise.all([startServer(options), startServer(options)]);
    sql = postgresSql(url);
    office = await openWorkstation({ applications: APPLICATIONS, now: NOW });
  });

  afterAll(async () => {
    office?.close();
    await one?.close();
    await two?.close();
    await sql?.close();
    await postgres?.stop();
  });

  it('migrate and seed once when they start together', async () => {
    expect([one.seeded, two.seeded].filter((s) => s !== null)).toHaveLength(1);
    const applied = await sql.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
    expect(applied.map((m) => m.name)).toEqual(readMigrations().map((m) => m.name));
    const [apps] = await sql.query<{ n: number }>('SELECT count(*) AS n FROM applications');
    expect(apps?.n).toBe(APPLICATIONS);
    // A third run finds nothing to do.
    expect(await migrate(sql)).toEqual([]);
  });

  it('serve the same device through either: tokens, pushes (once, even sent to both at once) and pulls', async () => {
    const c1 = new TestClient(one.url);
    const c2 = new TestClient(two.url);
    const enrolled: EnrolledDevice = await c1.enrol(EMPLOYMENT);
    // The office's people log in online there: their keys prove their changes.
    await c1.login(enrolled, await loginsOf(sql, ['user-clerk-demo', 'user-head-demo']));
    // The token the first issued is good on the second, and the other way round.
    const token2 = ok(await c2.token(enrolled.deviceId, enrolled.secret)).accessToken;
    expect(ok(await c1.pull(token2, 'global', undefined, 1)).rows).toHaveLength(1);
    expect(ok(await c2.pull(enrolled.token, 'global', undefined, 1)).rows).toHaveLength(1);

    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = office.intake({
        providerId: EMPLOYMENT,
        serviceCode: 'unemployed-certificate',
        clerkId: 'user-clerk-demo',
      });
      office.workflow.assignOne(id, null, i % 2 ? 'user-executor-demo' : 'user-astana-employment-executor-2', {
        id: 'user-head-demo',
      });
      ids.push(id);
    }
    const changes = office.changes();
    expect(changes).toHaveLength(12);

    // Alternately through one and two.
    const first = ok(await c1.push(enrolled, changes.slice(0, 4)));
    const second = ok(await c2.push(enrolled, changes.slice(4, 8)));
    expect([...first.results, ...second.results].map((r) => r.outcome)).toEqual(Array(8).fill('applied'));

    // The rest to both at once, several times over.
    const rest = changes.slice(8);
    const answers = await Promise.all([
      c1.push(enrolled, rest),
      c2.push(enrolled, rest),
      c1.push(enrolled, rest),
      c2.push(enrolled, rest),
    ]);
    const results = answers.flatMap((a) => ok(a).results);
    for (const c of rest) {
      expect(results.filter((r) => r.seq === c.seq && r.outcome === 'applied')).toHaveLength(1);
    }
    const recorded = await sql.query<{ n: number }>('SELECT count(*) AS n FROM device_changes WHERE device_id = $1', [
      enrolled.deviceId,
    ]);
    expect(recorded[0]?.n).toBe(12);
    const events = await sql.query<{ n: number }>(
      'SELECT count(*) AS n FROM application_events WHERE application_id = ANY($1::text[])',
      [ids],
    );
    expect(events[0]?.n).toBe(12); // received + assign each

    // Both read the same feed, page by page, with each other's cursors.
    const partition = providerPartition(EMPLOYMENT);
    const through1 = await c1.pullAll(enrolled.token, partition, undefined, 25);
    const through2 = await c2.pullAll(token2, partition, undefined, 40);
    expect(through2.rows).toEqual(through1.rows);
    expect(through2.version).toBe(through1.version);
    const half = through1.pages[1]!.cursor;
    const mixed = [
      ...through1.pages[0]!.rows,
      ...through1.pages[1]!.rows,
      ...(await c2.pullAll(token2, partition, half, 25)).rows,
    ];
    expect(mixed).toEqual(through1.rows);
    for (const id of ids) expect(through1.rows.some((r) => r.entity === 'application' && r.id === id)).toBe(true);
  });

  it("commit a partition's versions in order: a writer waits for the one before it, and no reader sees a later version first", async () => {
    const partition = 'test:order';
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((r) => (releaseFirst = r));
    let firstBumped!: () => void;
    const bumped = new Promise<void>((r) => (firstBumped = r));
    const first = sql.tx(async (tx) => {
      const v = await bump(tx, partition);
      await writeFeed(tx, partition, 'region', 'first', 'upsert', {}, v);
      firstBumped();
      await firstHolds;
      return v;
    });
    await bumped;
    let secondDone = false;
    const second = sql
      .tx(async (tx) => {
        const v = await bump(tx, partition);
        await writeFeed(tx, partition, 'region', 'second', 'upsert', {}, v);
        return v;
      })
      .finally(() => (secondDone = true));
    await new Promise((r) => setTimeout(r, 300));
    // The second writer waits on the first's row lock; a reader sees nothing of either yet.
    expect(secondDone).toBe(false);
    expect(await partitionVersion(sql, partition)).toBe(0);
    releaseFirst();
    const [v1, v2] = await Promise.all([first, second]);
    expect(v2).toBe(v1 + 1);
    const rows = await sql.query<{ id: string; version: number }>(
      'SELECT id, version FROM feed WHERE partition = $1 ORDER BY version',
      [partition],
    );
    expect(rows).toEqual([
      { id: 'first', version: v1 },
      { id: 'second', version: v2 },
    ]);
    await expect(bump(sql, partition)).rejects.toThrow('inside a transaction');
  });
});
