/**
 * The load run, reduced (20 workstations × 50 changes) to fit the normal
 * test run: every change applied exactly once, and the figures it reports
 * are there. `npm run load` is the full run (200 × 500).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { TEST_SCRYPT } from '../auth/testing.js';
import { startServer, type RunningServer } from '../server.js';
import { checkLoad, Limiter, percentile, runLoad } from './run.js';

let server: RunningServer;

beforeAll(async () => {
  // The users' password hashes at the tests' cost (the same code path): the run measures pushes, not scrypt.
  server = await startServer({
    dataDir: null,
    seed: 'demo',
    demoApplications: 50,
    auth: { scrypt: TEST_SCRYPT },
    log: () => undefined,
  });
});
afterAll(async () => {
  await server?.close();
});

describe('load run', () => {
  it('20 workstations × 50 queued changes, pushed concurrently: every change applied exactly once', async () => {
    const result = await runLoad({
      serverUrl: server.url,
      workstations: 20,
      changesPerWorkstation: 50,
      concurrency: 8,
      batch: 20,
      deadlineMs: 60_000,
      admin: { login: 'admin.demo', password: DEMO_PASSWORD },
      seed: 5,
    });
    expect(result.timedOut).toBe(false);
    expect(result.rejections).toEqual([]);
    expect(result.outcomes).toEqual({ applied: 1000, duplicate: 0, rejected: 0, deferred: 0 });
    expect(result.pushes).toBeGreaterThanOrEqual(20 * 3);
    expect(result.pushLatencyMs.p95).toBeGreaterThan(0);
    expect(result.changesPerSecond).toBeGreaterThan(0);

    const check = await checkLoad(server.sql, result);
    expect(check.problems).toEqual([]);
    expect(check.counts.deviceChanges).toBe(1000);
    expect(check.counts.devicesAtLastSeq).toBe(20);
    // A third of the changes create applications; each device's 50 make 17.
    expect(check.counts.applications).toBe(20 * 17);
  }, 120_000);

  it('finds a change applied twice or missing', async () => {
    const result = await runLoad({
      serverUrl: server.url,
      workstations: 2,
      changesPerWorkstation: 6,
      concurrency: 2,
      batch: 6,
      deadlineMs: 30_000,
      admin: { login: 'admin.demo', password: DEMO_PASSWORD },
      seed: 6,
    });
    expect((await checkLoad(server.sql, result)).ok).toBe(true);
    // The record of one change gone: the check says so.
    const victim = result.devices[0]!.deviceId;
    await server.sql.query('DELETE FROM device_changes WHERE device_id = $1 AND seq = 6', [victim]);
    const check = await checkLoad(server.sql, result);
    expect(check.ok).toBe(false);
    expect(check.problems.join('\n')).toMatch(/device_changes holds 11 changes of the run, expected 12/);
  });

  it('limits the work in flight and reads percentiles', async () => {
    const limiter = new Limiter(3);
    let active = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        limiter.run(async () => {
          most = Math.max(most, ++active);
          await new Promise((r) => setTimeout(r, 5));
          active--;
        }),
      ),
    );
    expect(most).toBe(3);
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 95)).toBe(95);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile([], 95)).toBe(0);
  });
});
