/**
 * `npm start` where Electron's binary is present: the embedded central server
 * (unless QYZMET_SERVER_URL names one), then Electron with the built app.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startServer } from '#server/src/server.js';
import { ROOT } from './harness.js';

const require = createRequire(import.meta.url);
const electron = require('electron') as unknown as string;
const demo = process.env.QYZMET_DEMO ?? '5000';
// The embedded central server keeps its data in .data/server; `npm start` is the demo, so it asks for the
// demo seed (a server never seeds it unless told: its users share a published password).
const server = process.env.QYZMET_SERVER_URL
  ? null
  : await startServer({ dataDir: join(ROOT, '.data', 'server'), seed: 'demo', demoApplications: Number(demo) });
const child = spawn(electron, [ROOT], {
  stdio: 'inherit',
  env: {
    ...process.env,
    QYZMET_SERVER_URL: process.env.QYZMET_SERVER_URL ?? server?.url ?? '',
    QYZMET_DEMO: demo,
  },
});
child.on('exit', (code) => {
  void server?.close().then(() => process.exit(code ?? 0));
});
