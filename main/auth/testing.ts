/**
 * For the auth tests: a real local database (migrations, demo data), users
 * with one role each and known passwords, a clock the test moves. Test code
 * only: nothing here ships in the app.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase, type OpenedDatabase } from '#db/connection.js';
import { generateDemo } from '#demo/generate.js';
import type { Role } from '#core/vocabulary.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { makeIin } from '#core/identity/iin.js';
import { CHANNELS, type CallError, type CallOutput, type CallResult, type Channel } from '#preload/api.js';
import { dispatch, guard, ServiceError, type Handlers } from '../rpc.js';
import { AdminService, type AdminServiceOptions } from './admin.js';
import { AuthGate } from './gate.js';
import { authHandlers } from './handlers.js';
import { hashPasswordSync } from '#core/auth/passwords.js';
import { TEST_SCRYPT } from '#core/testing.js';
import { AuthService, type AuthServiceOptions } from './service.js';

const ROOT = join(import.meta.dirname, '..', '..');

export { TEST_SCRYPT };
export const TEST_PASSWORD = 'Sapar2026kz';
export const DAY = 86_400_000;

export class TestClock {
  constructor(public t = Date.UTC(2026, 4, 20, 7, 30)) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface TestDb {
  database: OpenedDatabase;
  sqlite: Database.Database;
  dir: string;
  clock: TestClock;
  /** Two providers of one region and one of another: [first, second (same region), other region]. */
  providers: { id: string; regionKato: string }[];
  close(): void;
}

/** A fresh database with the demo's regions, providers, staff and `applications` applications. */
export async function testDatabase(applications = 60): Promise<TestDb> {
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-auth-'));
  const clock = new TestClock(Date.now());
  const database = await openDatabase(join(dir, 'qyzmet.db'), { now: clock.now });
  generateDemo(database.sqlite, {
    applications,
    seed: 7,
    now: clock.now(),
    services: loadCatalogue(join(ROOT, 'resources', 'services')).services,
  });
  const rows = database.sqlite
    .prepare('SELECT id, region_kato AS regionKato FROM providers ORDER BY region_kato, id')
    .all() as { id: string; regionKato: string }[];
  const byRegion = new Map<string, { id: string; regionKato: string }[]>();
  for (const r of rows) byRegion.set(r.regionKato, [...(byRegion.get(r.regionKato) ?? []), r]);
  const pair = [...byRegion.values()].find((list) => list.length >= 2);
  const other = rows.find((r) => r.regionKato !== pair?.[0]?.regionKato);
  if (!pair || !other) throw new Error('the demo data have no region with two providers');
  return {
    database,
    sqlite: database.sqlite,
    dir,
    clock,
    providers: [pair[0]!, pair[1]!, other],
    close: () => database.close(),
  };
}

export interface NewUser {
  id: string;
  login: string;
  iin: string;
  fullName?: string;
  roles: { role: Role; providerId: string }[];
  /** null: no password (EDS only). */
  password?: string | null;
  /** Last online login here; default: an hour ago. null: never. */
  lastOnlineLoginAt?: number | null;
  blocked?: boolean;
  mustChangePassword?: boolean;
}

export function addUser(db: TestDb, u: NewUser): void {
  const now = db.clock.now();
  const password = u.password === undefined ? TEST_PASSWORD : u.password;
  db.sqlite
    .prepare(
      `INSERT INTO users (id, login, full_name, iin, password_hash, must_change_password, blocked,
         last_online_login_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      u.id,
      u.login,
      u.fullName ?? `Test ${u.login}`,
      u.iin,
      password === null ? null : hashPasswordSync(password, TEST_SCRYPT),
      u.mustChangePassword ? 1 : 0,
      u.blocked ? 1 : 0,
      u.lastOnlineLoginAt === undefined ? now - 3_600_000 : u.lastOnlineLoginAt,
      now,
      now,
    );
  const ins = db.sqlite.prepare('INSERT INTO user_roles (user_id, role, provider_id) VALUES (?, ?, ?)');
  for (const r of u.roles) ins.run(u.id, r.role, r.providerId);
}

/** One application id of `providerId`. */
export function applicationOf(db: TestDb, providerId: string): string {
  const row = db.sqlite.prepare('SELECT id FROM applications WHERE provider_id = ? LIMIT 1').get(providerId) as
    { id: string } | undefined;
  if (!row) throw new Error(`no demo application of ${providerId}`);
  return row.id;
}

/** A valid IIN for test user `n` (its checksum holds; tests that map IINs to users check it is not taken). */
export function testIin(n: number): string {
  return makeIin(new Date(Date.UTC(1970 + (n % 40), n % 12, 1 + (n % 27))), n % 2 ? 'male' : 'female', 9000 + n);
}

export interface Harness {
  auth: AuthService;
  admin: AdminService;
  gate: AuthGate;
  handlers: Handlers;
  /** The calls that reached a stub handler (every channel but auth.*, admin.* and session.current), in order. */
  reached: Channel[];
  log: string[];
  /** Dispatches like the transports do; resolves to the call's result. */
  dispatch(channel: Channel, input?: unknown): Promise<CallResult<Channel>>;
  /** The value of a call that must succeed. */
  call<C extends Channel>(channel: C, input?: unknown): Promise<CallOutput<C>>;
  /** The error of a call that must fail. */
  fail(channel: Channel, input?: unknown): Promise<CallError>;
}

/**
 * The auth service and the admin service behind the gate, as the composition
 * root wires them; every other channel is a stub that records being reached
 * (and answers the ServiceError 'reached').
 */
export function harness(
  db: TestDb,
  options: Partial<AuthServiceOptions> = {},
  /** The admin service's link to the central server (presence, push), given the auth service; default: none. */
  adminOptions: (auth: AuthService) => Partial<AdminServiceOptions> = () => ({}),
): Harness {
  const log: string[] = [];
  const auth = new AuthService({
    sqlite: db.sqlite,
    signer: null,
    scrypt: TEST_SCRYPT,
    now: db.clock.now,
    log: (m) => log.push(m),
    ...options,
  });
  const admin = new AdminService(auth.directory, { scrypt: TEST_SCRYPT, now: db.clock.now, ...adminOptions(auth) });
  const gate = new AuthGate(auth, db.sqlite);
  const reached: Channel[] = [];
  const stubs = Object.fromEntries(
    CHANNELS.map((c) => [
      c,
      () => {
        reached.push(c);
        throw new ServiceError('reached', 'test.reached');
      },
    ]),
  ) as unknown as Handlers;
  const handlers = guard(
    { ...stubs, ...authHandlers(auth, admin), 'session.current': () => ({ user: auth.sessionUser() }) },
    gate,
  );
  const run = (channel: Channel, input?: unknown) =>
    dispatch(
      handlers,
      channel,
      input ?? {},
      { transport: 'bridge' },
      { error: (m, f) => log.push(`${m} ${JSON.stringify(f)}`) },
    );
  return {
    auth,
    admin,
    gate,
    handlers,
    reached,
    log,
    dispatch: run,
    call: async <C extends Channel>(channel: C, input?: unknown) => {
      const r = await run(channel, input);
      if (!r.ok) throw new Error(`${channel} failed: ${JSON.stringify(r.error)}`);
      return r.value as CallOutput<C>;
    },
    fail: async (channel, input) => {
      const r = await run(channel, input);
      if (r.ok) throw new Error(`${channel} succeeded, a failure was expected`);
      return r.error;
    },
  };
}
