/**
 * Test support for the login, attachment, reference and look-up routes:
 * the databases they run against (PGlite in memory, and a throwaway
 * PostgreSQL cluster when one can start), migrated, with a small directory
 * (regions, providers, users with roles, devices); the central server
 * started on such a database; devices enrolled and given access tokens the
 * way workstations get them. Test code only.
 */
import { hashPassword, type ScryptParams } from '#core/auth/passwords.js';
import { migrate } from '../postgres/migrate.js';
import { pgliteSql, postgresSql, type Sql } from '../postgres/sql.js';
import { enrolAnswer, PROTOCOL_VERSION, tokenAnswer } from '#core/protocol.js';
import type { AuthRoutesOptions } from '../routes/auth.js';
import { startServer, type RunningServer } from '../server.js';
import { requirePostgres, startPostgres, type TestPostgres } from '../testing/postgres.js';

/** Cheap scrypt costs for tests (the format and the code path are the real ones). */
export const TEST_SCRYPT: ScryptParams = { ln: 10, r: 8, p: 1 };

export interface TestDatabase {
  name: 'pglite' | 'postgres';
  /** A fresh migrated database. */
  open(): Promise<Sql>;
  /**
   * Another handle on the database `sql` is (a second server instance's
   * pool on PostgreSQL; PGlite is one embedded database, so the same handle).
   */
  another(sql: Sql): Sql;
  /** Closes what `open` made and the cluster. */
  close(): Promise<void>;
}

/** PGlite always; PostgreSQL when a cluster can start here (else the reason is printed). */
export function testDatabases(): TestDatabase[] {
  const out: TestDatabase[] = [];
  const opened: Sql[] = [];
  const closeAll = async () => {
    for (const sql of opened.splice(0)) await sql.close().catch(() => undefined);
  };
  out.push({
    name: 'pglite',
    open: async () => {
      const sql = await pgliteSql(null);
      opened.push(sql);
      await migrate(sql);
      return sql;
    },
    another: (sql) => sql,
    close: closeAll,
  });
  if (requirePostgres()) {
    let cluster: Promise<TestPostgres> | null = null;
    const pgOpened: Sql[] = [];
    const urls = new Map<Sql, string>();
    out.push({
      name: 'postgres',
      open: async () => {
        cluster ??= startPostgres();
        const url = await (await cluster).createDatabase();
        const sql = postgresSql(url);
        pgOpened.push(sql);
        urls.set(sql, url);
        await migrate(sql);
        return sql;
      },
      another: (sql) => {
        const url = urls.get(sql);
        if (!url) throw new Error('not a database this opened');
        const more = postgresSql(url);
        pgOpened.push(more);
        return more;
      },
      close: async () => {
        for (const sql of pgOpened.splice(0)) await sql.close().catch(() => undefined);
        if (cluster) await (await cluster).stop();
        cluster = null;
      },
    });
  }
  return out;
}

export const PROVIDER_ID = 'prov-almaty';
export const PROVIDER_BIN = '050140000011';
export const OTHER_PROVIDER_ID = 'prov-astana';
export const OTHER_PROVIDER_BIN = '060240000017';
export const DEVICE_A = '0b0c1d6e-5d7a-4c53-9a43-6b1de0b6c001';
export const DEVICE_B = '0b0c1d6e-5d7a-4c53-9a43-6b1de0b6c002';

export interface TestUser {
  id: string;
  login: string;
  fullName: string;
  iin: string;
  password: string | null;
  blocked?: boolean;
  roles: { role: string; providerId: string }[];
}

/** Regions, two providers, and `users` with their roles. */
export async function seedDirectory(sql: Sql, users: readonly TestUser[], now = Date.now()): Promise<void> {
  await sql.query(
    `INSERT INTO regions (kato, name_kk, name_ru, name_en) VALUES
       ('750000000', 'Алматы', 'Алматы', 'Almaty'), ('710000000', 'Астана', 'Астана', 'Astana')`,
  );
  await sql.query(
    `INSERT INTO providers (id, bin, name_kk, name_ru, name_en, region_kato, locality_kk, locality_ru, locality_en) VALUES
       ($1, $2, 'Жұмыспен қамту бөлімі', 'Отдел занятости', 'Employment office', '750000000', 'Алматы', 'Алматы', 'Almaty'),
       ($3, $4, 'Білім бөлімі', 'Отдел образования', 'Education office', '710000000', 'Астана', 'Астана', 'Astana')`,
    [PROVIDER_ID, PROVIDER_BIN, OTHER_PROVIDER_ID, OTHER_PROVIDER_BIN],
  );
  for (const u of users) {
    const hash = u.password === null ? null : await hashPassword(u.password, TEST_SCRYPT);
    await sql.query(
      `INSERT INTO users (id, login, full_name, iin, password_hash, blocked, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [u.id, u.login, u.fullName, u.iin, hash, u.blocked ?? false, now],
    );
    for (const r of u.roles) {
      await sql.query('INSERT INTO user_roles (user_id, role, provider_id) VALUES ($1, $2, $3)', [
        u.id,
        r.role,
        r.providerId,
      ]);
    }
  }
}

export const ADMIN_PASSWORD = 'Qyzmet2026';

/** A system administrator: put first in `seedDirectory`'s users, it enrols the test devices. */
export const TEST_ADMIN: TestUser = {
  id: 'u-admin',
  login: 'admin',
  fullName: 'Әкімов Әкім',
  iin: '920704300019',
  password: ADMIN_PASSWORD,
  roles: [{ role: 'admin', providerId: '' }],
};

/**
 * The central server (startServer) on `sql` as it is: migrated, no demo
 * seed, access tokens good for a year (tests move their clock by days).
 */
export function startTestServer(
  sql: Sql,
  options: { now?: () => number; auth?: Partial<AuthRoutesOptions> } = {},
): Promise<RunningServer> {
  return startServer({
    sql,
    seed: 'none',
    accessTokenTtlMs: 365 * 86_400_000,
    log: () => undefined,
    ...(options.now ? { now: options.now } : {}),
    // The test users' hashes are TEST_SCRYPT: a server at the full cost would redo each at its first login.
    auth: { scrypt: TEST_SCRYPT, ...options.auth },
  });
}

async function postJson(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer: unknown = await res.json();
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** Enrols `deviceId` in PROVIDER_ID with the administrator's credentials, as a workstation does; its access token. */
export async function deviceToken(serverUrl: string, deviceId: string, admin: TestUser = TEST_ADMIN): Promise<string> {
  const enrolled = enrolAnswer.parse(
    await postJson(`${serverUrl}/v1/devices/enrol`, {
      deviceId,
      name: `Desk ${deviceId.slice(-4)}`,
      providerId: PROVIDER_ID,
      login: admin.login,
      password: admin.password,
      protocolVersion: PROTOCOL_VERSION,
    }),
  );
  const token = tokenAnswer.parse(
    await postJson(`${serverUrl}/v1/devices/token`, { deviceId, deviceSecret: enrolled.deviceSecret }),
  );
  return token.accessToken;
}
