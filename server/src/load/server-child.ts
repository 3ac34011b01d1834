/**
 * The central server as a child process of a load run or a fault test:
 * `node --import tsx server/src/load/server-child.ts '<options JSON>'`. Starts
 * the server with those options (startServer's), prints one line
 * `listening <url>` when it serves, and closes on SIGTERM. A test that
 * SIGKILLs it gets a server that died wherever it was.
 */
import { startServer, type ServerOptions } from '../server.js';

const options = JSON.parse(process.argv[2] ?? '{}') as ServerOptions;
const server = await startServer(options);
process.stdout.write(`listening ${server.url}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
