/**
 * `npm run dev:web [-- --data-dir D --demo N --server URL --server-ca FILE --no-server --port P --json --rebuild]`
 * Runs the whole app in a browser: prints the address to open. --server-ca (QYZMET_SERVER_CA_FILE): the PEM
 * CA the central server's certificate must chain to (pinned).
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { buildRenderer, ROOT, startHarness } from './harness.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: process.env.QYZMET_DATA_DIR ?? join(ROOT, '.data', 'web') },
    demo: { type: 'string', default: '5000' },
    server: { type: 'string' },
    'server-ca': { type: 'string', default: process.env.QYZMET_SERVER_CA_FILE },
    'no-server': { type: 'boolean', default: false },
    port: { type: 'string' },
    json: { type: 'boolean', default: false },
    rebuild: { type: 'boolean', default: false },
  },
});

async function main(): Promise<void> {
  if (values.rebuild) await buildRenderer();
  const harness = await startHarness({
    dataDir: values['data-dir'],
    serverUrl: values.server ?? null,
    serverCaFile: values['server-ca'] || null,
    noServer: values['no-server'],
    demoApplications: Number(values.demo),
    quiet: values.json,
    ...(values.port ? { port: Number(values.port) } : {}),
  });
  // Before the address is printed: whoever reads it may stop the harness at once.
  const stop = () => void harness.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  if (values.json) {
    console.log(
      JSON.stringify({
        url: harness.bridge.url,
        openUrl: harness.bridge.openUrl,
        secret: harness.bridge.secret,
        serverUrl: harness.serverUrl,
        dataDir: values['data-dir'],
      }),
    );
  } else {
    console.log('');
    console.log('Qyzmet is running in the browser harness (the real services over a loopback bridge).');
    console.log(`Central server: ${harness.serverUrl ?? 'none (offline)'}`);
    console.log(`Local database: ${join(values['data-dir'], 'qyzmet.db')}`);
    console.log('');
    console.log(`Open: ${harness.bridge.openUrl}`);
    console.log('');
    console.log('Stop with Ctrl+C.');
  }
}

void main();
