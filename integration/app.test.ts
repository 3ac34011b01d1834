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

const ROOT = join(import.meta.dirname, '..');
let app: AppServices;
let server: RunningServer;

beforeAll(async () => {
  server = await startServer();
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
