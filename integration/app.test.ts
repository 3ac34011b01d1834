/**
 * The services as the renderer reaches them (createApp + dispatch) with a central server: what needs the
 * server. The rest of the app's calls are tested offline in main/app.test.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '#server/src/server.js';
import { DEMO_USERS } from '#demo/generate.js';
import { createApp, type AppServices } from '#main/app.js';
import { DEMO_PASSWORD } from '#main/auth/demo.js';
import { dispatch } from '#main/rpc.js';
import { EMPLOYMENT } from '#main/workflow/testing.js';

const ROOT = join(import.meta.dirname, '..');
let app: AppServices;
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ seed: 'demo' });
  app = await createApp({
    dataDir: mkdtempSync(join(tmpdir(), 'qyzmet-app-')),
    resourcesDir: join(ROOT, 'resources'),
    serverUrl: server.url,
    version: '0.1.0',
    transport: 'bridge',
    demoApplications: 3000,
    healthEveryMs: 0,
    log: () => {},
  });
  // Every call but the login screen's needs a session.
  await call('auth.loginPassword', { login: DEMO_USERS.head.login, password: DEMO_PASSWORD });
});
afterAll(async () => {
  await app.close();
  await server.close();
});

const call = async <T>(channel: Parameters<typeof dispatch>[1], input: unknown): Promise<T> => {
  const r = await dispatch(app.handlers, channel, input, { transport: 'bridge' });
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value as T;
};

describe('the frame’s calls with a central server', () => {
  it('shows sync online while the central server answers, offline when it stops', async () => {
    await app.sync.check();
    expect(await call('sync.status', {})).toMatchObject({ online: true, queueDepth: 0, lastError: null });
    const other = await startServer();
    await other.close();
    const offline = await createApp({
      dataDir: mkdtempSync(join(tmpdir(), 'qyzmet-app-')),
      resourcesDir: join(ROOT, 'resources'),
      serverUrl: other.url,
      version: '0.1.0',
      transport: 'bridge',
      healthEveryMs: 0,
      log: () => {},
    });
    await offline.sync.check();
    expect(offline.sync.status()).toMatchObject({ online: false, lastError: 'server_unreachable' });
    await offline.close();
  });
});

describe('who made a change, proved to the central server', () => {
  it('an online login keeps a sealed user key; an administrator online blocks a user and it reaches the server at once', async () => {
    await app.sync.check();
    await call('sync.enrol', {
      providerId: EMPLOYMENT.provider,
      login: DEMO_USERS.admin.login,
      password: DEMO_PASSWORD,
    });
    await app.engine.runOnce();
    await call('auth.logout', {});
    // Enrolled and the server answering: an online login, which brings the head's key.
    const session = await call<{ offline: boolean }>('auth.loginPassword', {
      login: DEMO_USERS.head.login,
      password: DEMO_PASSWORD,
    });
    expect(session.offline).toBe(false);
    const keys = app.database.sqlite.prepare('SELECT user_id AS userId, secret FROM sync_user_keys').all() as {
      userId: string;
      secret: Buffer;
    }[];
    expect(keys.map((k) => k.userId)).toEqual([DEMO_USERS.head.id]);
    expect(app.engine.hasUserKey(DEMO_USERS.head.id)).toBe(true);

    // The head administers her office: blocking the executor goes to the server right away, with her proof.
    await call('admin.blockUser', { userId: EMPLOYMENT.executor2, blocked: true });
    await app.engine.runNow();
    const [row] = await server.sql.query<{ blocked: boolean }>('SELECT blocked FROM users WHERE id = $1', [
      EMPLOYMENT.executor2,
    ]);
    expect(row?.blocked).toBe(true);
    expect(app.engine.status()).toMatchObject({ queueDepth: 0, rejectedCount: 0 });
  });
});
