/**
 * The browser harness: the real services (main/app.ts) behind the loopback
 * bridge, serving the built renderer, with the embedded central server unless
 * one is given. Used by `npm run dev:web`, `npm start` where Electron is
 * absent, and the e2e tests.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBridge, type Bridge } from '../main/bridge/bridge.js';
import { createApp, signingOptionsFromEnv, type AppServices } from '../main/app.js';
import { startServer, type RunningServer } from '../server/src/server.js';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface HarnessOptions {
  dataDir: string;
  /** Central server URL; null starts the embedded one. */
  serverUrl?: string | null;
  /** Do not start the embedded server (the workstation is offline). */
  noServer?: boolean;
  demoApplications?: number;
  staticDir?: string;
  port?: number;
  quiet?: boolean;
}

export interface Harness {
  bridge: Bridge;
  app: AppServices;
  server: RunningServer | null;
  serverUrl: string | null;
  close(): Promise<void>;
}

export async function buildRenderer(): Promise<string> {
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'renderer', 'vite.config.ts'), logLevel: 'warn' });
  return join(ROOT, 'dist', 'renderer');
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const staticDir = options.staticDir ?? join(ROOT, 'dist', 'renderer');
  if (!existsSync(join(staticDir, 'index.html'))) await buildRenderer();
  const server = options.noServer || options.serverUrl ? null : await startServer();
  const serverUrl = options.serverUrl ?? server?.url ?? null;
  const app = await createApp({
    dataDir: options.dataDir,
    resourcesDir: join(ROOT, 'resources'),
    serverUrl,
    version: '0.1.0',
    transport: 'bridge',
    demoApplications: options.demoApplications ?? 0,
    signing: signingOptionsFromEnv(),
    ...(options.quiet ? { log: () => {} } : {}),
  });
  const bridge = await startBridge({
    handlers: app.handlers,
    staticDir,
    ...(options.port ? { port: options.port } : {}),
  });
  return {
    bridge,
    app,
    server,
    serverUrl,
    close: async () => {
      await bridge.close();
      await app.close();
      await server?.close();
    },
  };
}
