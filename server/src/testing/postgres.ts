/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temporary folder,
 * the server on a free port of 127.0.0.1 (its unix socket in the same
 * folder), no fsync, gone after `stop()`. Under root (CI containers) the
 * cluster belongs to the `postgres` user, as initdb refuses root.
 *
 * When the binaries are absent, `postgresUnavailable()` says why: tests
 * that need PostgreSQL fail in CI (process.env.CI) and may skip locally with
 * that reason printed (see `requirePostgres`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface TestPostgres {
  /** postgres://… of the cluster's `postgres` database. */
  url: string;
  port: number;
  dataDir: string;
  /** A new empty database in this cluster; its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server now (as a crash would: no shutdown checkpoint) and removes its folder. */
  stop(): Promise<void>;
}

/** The folder of initdb/pg_ctl: $PG_BIN, or the newest /usr/lib/postgresql/<n>/bin. */
export function postgresBinDir(): string | null {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv && existsSync(join(fromEnv, 'initdb'))) return fromEnv;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : null;
}

/** Why a test cluster cannot start here, or null when it can. */
export function postgresUnavailable(): string | null {
  const bin = postgresBinDir();
  if (!bin) return 'PostgreSQL binaries not found (install the postgresql package or set PG_BIN)';
  if (userInfo().uid === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0) {
    return 'running as root and there is no postgres user to own the cluster';
  }
  return null;
}

/**
 * Whether PostgreSQL tests run: true when a cluster can start. Otherwise
 * throws in CI, and locally prints the reason and returns false (skip).
 */
export function requirePostgres(): boolean {
  const reason = postgresUnavailable();
  if (reason === null) return true;
  if (process.env.CI) throw new Error(`PostgreSQL tests cannot run in CI: ${reason}`);
  console.warn(`Skipping the PostgreSQL tests: ${reason}`);
  return false;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

let databases = 0;

export async function startPostgres(): Promise<TestPostgres> {
  const reason = postgresUnavailable();
  if (reason) throw new Error(reason);
  const bin = postgresBinDir()!;
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-pg-'));
  const dataDir = join(dir, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const run = (tool: string, args: string[]) => {
    const command = asRoot ? 'runuser' : join(bin, tool);
    const argv = asRoot ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args;
    const r = spawnSync(command, argv, { encoding: 'utf8', cwd: dir });
    if (r.status !== 0) throw new Error(`${tool} failed (${r.status}): ${r.stderr || r.stdout}`);
  };

  run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const settings = [
    'listen_addresses=127.0.0.1',
    `unix_socket_directories=${dir}`,
    'fsync=off',
    'synchronous_commit=off',
    'full_page_writes=off',
    'max_connections=200',
    'shared_buffers=64MB',
  ];

  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      run('pg_ctl', [
        '-D',
        dataDir,
        '-o',
        [...settings.map((x) => `-c ${x}`), `-p ${port}`].join(' '),
        '-l',
        join(dir, 'server.log'),
        '-w',
        '-t',
        '60',
        'start',
      ]);
      break;
    } catch (err) {
      // Another process took the port between the probe and the start: try another one.
      if (attempt >= 3) throw err;
    }
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    port,
    dataDir,
    async createDatabase(name?: string) {
      const db = name ?? `t${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${db.replace(/"/g, '')}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${db}`;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
