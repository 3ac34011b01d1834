/**
 * The browser harness: the real services (main/app.ts) behind the loopback
 * bridge, serving the built renderer, with the embedded central server unless
 * one is given. Used by `npm run dev:web` (under tsx), and bundled with
 * dev-web.ts into dist/main/harness.cjs (scripts/build.mjs) by `npm start`
 * where Electron is absent, the e2e tests and the bench. In the bundle each
 * module keeps its source location (ROOT, resources/, the migrations).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBridge, type Bridge } from '#main/bridge/bridge.js';
import { createApp, signingOptionsFromEnv, type AppServices } from '#main/app.js';
import type { RunningServer } from '#server/src/server.js';
import { DEMO_ENROLMENT } from '#main/auth/demo.js';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface HarnessOptions {
  dataDir: string;
  /** Central server URL; null starts the embedded one. */
  serverUrl?: string | null;
  /** The PEM CA the central server's certificate must chain to (pinned); null: the system roots. */
  serverCaFile?: string | null;
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
  const demo = options.demoApplications ?? 0;
  mkdirSync(options.dataDir, { recursive: true });
  const signing = signingOptionsFromEnv();
  // The embedded central server keeps its data next to the workstation's and
  // seeds the demo on its first start; the workstation then enrols and takes
  // its first sync from it instead of making demo data of its own.
  // The embedded server's code (PGlite, the protocol) is loaded only when it runs: an offline start does not wait for it.
  const server =
    options.noServer || options.serverUrl
      ? null
      : await (
          await import('#server/src/server.js')
        ).startServer({
          dataDir: join(options.dataDir, 'server'),
          seed: demo > 0 ? 'demo' : 'none',
          demoApplications: demo,
          trustDirs: [
            join(ROOT, 'resources', 'trusted'),
            join(options.dataDir, 'trusted'),
            ...(signing.trustDirs ?? []),
          ],
          crlDir: join(options.dataDir, 'crl'),
          ...(options.quiet ? { log: () => {} } : {}),
        });
  const serverUrl = options.serverUrl ?? server?.url ?? null;
  const interval = Number(process.env.QYZMET_SYNC_INTERVAL_MS ?? '') || undefined;
  const app = await createApp({
    dataDir: options.dataDir,
    resourcesDir: join(ROOT, 'resources'),
    serverUrl,
    serverCaFile: options.serverCaFile ?? null,
    version: '0.1.0',
    transport: 'bridge',
    // Offline (no server): demo data made here; with a server: the demo comes with the first sync.
    demoApplications: serverUrl ? 0 : demo,
    demoMode: demo > 0,
    ...(demo > 0 && serverUrl ? { demoEnrolment: { ...DEMO_ENROLMENT } } : {}),
    ...(interval ? { syncEngine: { intervalMs: interval } } : {}),
    signing,
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
