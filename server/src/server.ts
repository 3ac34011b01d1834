/**
 * The reference central server: node:http over one database, PostgreSQL
 * when a URL is given (option or DATABASE_URL), else the embedded PGlite
 * (in a data folder, or in memory). At start it applies the migrations,
 * loads the reference files (catalogue, calendars) and, on an empty
 * database when asked (`seed: 'demo'`, never by default), seeds the demo;
 * then it serves.
 *
 * It serves HTTPS when given a certificate and its key (`tls`); plain HTTP
 * only on a loopback address (a TLS-terminating reverse proxy on the same
 * host, tests, the embedded demo server) unless `plainHttp: 'any-host'` says
 * a proxy elsewhere terminates TLS. Passwords, device secrets and personal
 * data never cross a network in clear by default.
 *
 * It keeps nothing of a client in memory: tokens are verified with a key
 * kept in the database, cursors carry their own position, every push takes
 * the device's row lock. So any number of instances on one database serve
 * the same workstations.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP, type AddressInfo } from 'node:net';
import { ServiceDefinitions } from './apply/common.js';
import { syncReference } from './catalogue.js';
import { migrate } from './postgres/migrate.js';
import { pgliteSql, postgresSql, type Sql } from './postgres/sql.js';
import { DEFAULT_ACCESS_TOKEN_TTL_MS, tokenKey } from './devices.js';
import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from '#core/protocol.js';
import { createRouter } from './router.js';
import { allRoutes, type RouteConfig } from './routes/index.js';
import { seedDemo, type DemoSeedResult } from './seed.js';

export { PROTOCOL_VERSION };

/** Applications the demo seed makes when nobody says: few, so `startServer()` starts fast. */
export const DEFAULT_DEMO_APPLICATIONS = 200;

export interface ServerTlsOptions {
  /** PEM: the server's certificate (then its chain), and its private key. */
  cert: string | Buffer;
  key: string | Buffer;
}

export interface ServerOptions {
  port?: number;
  host?: string;
  /** Serve HTTPS with this certificate and key. Absent: plain HTTP, on a loopback host only (see plainHttp). */
  tls?: ServerTlsOptions | null;
  /**
   * Without `tls`: 'loopback-only' (default) refuses to listen elsewhere than 127.0.0.0/8, ::1 or localhost;
   * 'any-host' allows it, for a TLS-terminating reverse proxy on another machine of a closed network.
   */
  plainHttp?: 'loopback-only' | 'any-host';
  /** The server build's version (GET /version). */
  version?: string;
  /** postgres://…; default process.env.DATABASE_URL; neither: the embedded PGlite. */
  databaseUrl?: string;
  /** The embedded database's folder; null or absent: in memory. */
  dataDir?: string | null;
  /** A database handle to use as it is (tests; two servers on one database). Not closed by `close()`. */
  sql?: Sql;
  /** 'demo' seeds an empty database with the demo (published logins and password): only when asked. Default 'none'. */
  seed?: 'demo' | 'none';
  demoApplications?: number;
  demoSeed?: number;
  now?: () => number;
  /** The protocol this server speaks, and the oldest it still accepts (a server upgrade in tests). */
  protocolVersion?: number;
  minProtocolVersion?: number;
  accessTokenTtlMs?: number;
  /** Rows per database read of a snapshot (small in tests, to stream in many batches). */
  snapshotBatchRows?: number;
  /** Trusted CA folders and the CRL folder of the EDS login checks (routes/auth.ts). */
  trustDirs?: string[];
  crlDir?: string | null;
  /** Further options of the login checks (failure delays in tests…). */
  auth?: RouteConfig['auth'];
  resourcesDir?: string;
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  sql: Sql;
  /** What the demo seed made this start; null when it did not run. */
  seeded: DemoSeedResult | null;
  close(): Promise<void>;
}

async function openDatabase(options: ServerOptions): Promise<{ sql: Sql; owned: boolean; embedded: boolean }> {
  if (options.sql) return { sql: options.sql, owned: false, embedded: options.sql.kind === 'pglite' };
  const url = options.databaseUrl ?? process.env.DATABASE_URL;
  if (url) return { sql: postgresSql(url), owned: true, embedded: false };
  return { sql: await pgliteSql(options.dataDir ?? null), owned: true, embedded: true };
}

/** 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.split('.')[0] === '127';
  return h === '::1';
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.error(line));
  const host = options.host ?? '127.0.0.1';
  const tls = options.tls ?? null;
  if (!tls && options.plainHttp !== 'any-host' && !isLoopbackHost(host)) {
    throw new Error(
      `refusing plain HTTP on ${host}: give a TLS certificate and key, listen on 127.0.0.1 behind a ` +
        `TLS-terminating reverse proxy, or say plainHttp 'any-host' (--plain-http any-host) for a proxy on another host`,
    );
  }
  const { sql, owned } = await openDatabase(options);
  try {
    await migrate(sql, undefined, now);
    const reference = await syncReference(sql, options.resourcesDir);
    for (const p of reference.problems) log(`reference ${p.file} ${p.field}: ${p.message}`);
    // The demo's users have a published password: a server seeds it only when told to.
    const seed = options.seed ?? 'none';
    const seeded =
      seed === 'demo'
        ? await seedDemo(sql, {
            applications: options.demoApplications ?? DEFAULT_DEMO_APPLICATIONS,
            seed: options.demoSeed ?? 1,
            now: now(),
            ...(options.resourcesDir ? { resourcesDir: options.resourcesDir } : {}),
            ...(options.auth?.scrypt ? { scrypt: options.auth.scrypt } : {}),
          })
        : null;

    const auth = {
      ...(options.trustDirs ? { trustDirs: options.trustDirs } : {}),
      ...(options.crlDir !== undefined ? { crlDir: options.crlDir } : {}),
      ...options.auth,
    };
    const key = await tokenKey(sql, now());
    const routes = allRoutes({
      protocolVersion: options.protocolVersion ?? PROTOCOL_VERSION,
      minProtocolVersion: options.minProtocolVersion ?? MIN_PROTOCOL_VERSION,
      accessTokenTtlMs: options.accessTokenTtlMs ?? DEFAULT_ACCESS_TOKEN_TTL_MS,
      tokenKey: key,
      services: new ServiceDefinitions(),
      version: options.version ?? '0.1.0',
      ...(options.snapshotBatchRows ? { snapshotBatchRows: options.snapshotBatchRows } : {}),
      auth,
    });
    const handler = createRouter(routes, { sql, now, tokenKey: key, log });
    // An https.Server is an http.Server to everything below (listen, close, keep-alive).
    const server: Server = tls
      ? (createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, handler) as unknown as Server)
      : createServer(handler);
    server.keepAliveTimeout = 5_000;
    await listen(server, options.port ?? 0, host);
    const port = (server.address() as AddressInfo).port;
    let closing: Promise<void> | null = null;
    return {
      url: `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
      port,
      sql,
      seeded,
      close: () =>
        (closing ??= new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }).then(() => (owned ? sql.close() : undefined))),
    };
  } catch (err) {
    if (owned) await sql.close().catch(() => undefined);
    throw err;
  }
}
