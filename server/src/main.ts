/** `npm run server [-- --port N --host H]`: the central server on its own. */
import { parseArgs } from 'node:util';
import { startServer } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '8787' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
const server = await startServer({ port: Number(values.port), host: values.host });
console.log(`Qyzmet central server listening on ${server.url}`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
