/**
 * `npm start` where Electron's binary is present: the embedded central server
 * (unless QYZMET_SERVER_URL names one), then Electron with the built app.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { startServer } from '../server/src/server.js';
import { ROOT } from './harness.js';

const require = createRequire(import.meta.url);
const electron = require('electron') as unknown as string;
const server = process.env.QYZMET_SERVER_URL ? null : await startServer();
const child = spawn(electron, [ROOT], {
  stdio: 'inherit',
  env: {
    ...process.env,
    QYZMET_SERVER_URL: process.env.QYZMET_SERVER_URL ?? server?.url ?? '',
    QYZMET_DEMO: process.env.QYZMET_DEMO ?? '5000',
  },
});
child.on('exit', (code) => {
  void server?.close().then(() => process.exit(code ?? 0));
});
