/**
 * `npm run server [-- --port N --host H --data-dir D --seed demo|none --demo-applications N]`:
 * the central server on its own. DATABASE_URL (or --database-url) selects a
 * PostgreSQL server; without it the embedded PGlite keeps its data in
 * --data-dir (default `.qyzmet-server` in the working folder) and seeds the
 * demo on the first start. SIGTERM and SIGINT close it cleanly: the
 * listener first, then the database.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '8787' },
    host: { type: 'string', default: '127.0.0.1' },
    'data-dir': { type: 'string', default: join(process.cwd(), '.qyzmet-server') },
    'database-url': { type: 'string' },
    seed: { type: 'string' },
    'demo-applications': { type: 'string', default: '2000' },
  },
});

const seed = values.seed;
if (seed !== undefined && seed !== 'demo' && seed !== 'none') {
  console.error(`--seed is demo or none, not ${seed}`);
  process.exit(2);
}
const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
const server = await startServer({
  port: Number(values.port),
  host: values.host,
  ...(databaseUrl ? { databaseUrl } : { dataDir: values['data-dir'] }),
  ...(seed ? { seed } : {}),
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
