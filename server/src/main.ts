/**
 * `npm run server [-- --port N --host H --data-dir D --demo --demo-applications N]`:
 * the central server on its own. DATABASE_URL (or --database-url) selects a
 * PostgreSQL server; without it the embedded PGlite keeps its data in
 * --data-dir (default `.qyzmet-server` in the working folder). It seeds
 * nothing unless asked: `--demo` (or `--seed demo`, or QYZMET_DEMO set to
 * anything but 0) seeds the demo, whose users share a published password,
 * into an empty database. SIGTERM and SIGINT close it cleanly: the listener
 * first, then the database.
 *
 * TLS: --tls-cert FILE --tls-key FILE (or QYZMET_TLS_CERT / QYZMET_TLS_KEY),
 * PEM, serve HTTPS. Without them it serves plain HTTP on a loopback host only
 * (behind a TLS-terminating reverse proxy on the same machine); `--plain-http
 * any-host` (QYZMET_PLAIN_HTTP=any-host) lets it listen elsewhere for a proxy
 * on another machine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '8787' },
    host: { type: 'string', default: '127.0.0.1' },
    'data-dir': { type: 'string', default: join(process.cwd(), '.qyzmet-server') },
    'database-url': { type: 'string' },
    'tls-cert': { type: 'string', default: process.env.QYZMET_TLS_CERT },
    'tls-key': { type: 'string', default: process.env.QYZMET_TLS_KEY },
    'plain-http': { type: 'string', default: process.env.QYZMET_PLAIN_HTTP },
    seed: { type: 'string' },
    demo: { type: 'boolean', default: false },
    'demo-applications': { type: 'string', default: '2000' },
  },
});

if (values.seed !== undefined && values.seed !== 'demo' && values.seed !== 'none') {
  console.error(`--seed is demo or none, not ${values.seed}`);
  process.exit(2);
}
const demoEnv = process.env.QYZMET_DEMO;
const askedDemo = values.demo || values.seed === 'demo' || (demoEnv !== undefined && demoEnv !== '' && demoEnv !== '0');
const seed: 'demo' | 'none' = values.seed === 'none' ? 'none' : askedDemo ? 'demo' : 'none';
const certFile = values['tls-cert'] || undefined;
const keyFile = values['tls-key'] || undefined;
if (Boolean(certFile) !== Boolean(keyFile)) {
  console.error('--tls-cert and --tls-key (QYZMET_TLS_CERT, QYZMET_TLS_KEY) come together');
  process.exit(2);
}
const plainHttp = values['plain-http'] || undefined;
if (plainHttp !== undefined && plainHttp !== 'loopback-only' && plainHttp !== 'any-host') {
  console.error(`--plain-http is loopback-only or any-host, not ${plainHttp}`);
  process.exit(2);
}
const tls = certFile && keyFile ? { cert: readFileSync(certFile), key: readFileSync(keyFile) } : null;
const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
const server = await startServer({
  tls,
  ...(plainHttp ? { plainHttp } : {}),
  port: Number(values.port),
  host: values.host,
  ...(databaseUrl ? { databaseUrl } : { dataDir: values['data-dir'] }),
  seed,
  demoApplications: Number(values['demo-applications']),
});
const where = databaseUrl ? 'PostgreSQL' : `PGlite in ${values['data-dir']}`;
console.log(`Qyzmet central server listening on ${server.url} (${where})`);
if (server.seeded) console.log(`Seeded the demo: ${server.seeded.applications} applications in ${server.seeded.ms} ms`);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: closing`);
  server.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
