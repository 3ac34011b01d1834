/**
 * The composition root of the main process, in plain Node: opens the local
 * database, loads the service catalogue, builds the services and the one
 * handler per contract call. Electron (main/shell) and the loopback bridge
 * (main/bridge) both serve what this returns.
 */
import { delimiter, join } from 'node:path';
import { DEMO_HEAD, generateDemo } from '../db/demo/generate.js';
import { openDatabase, type OpenedDatabase } from '../db/connection.js';
import { loadCalendars } from './calendar/loader.js';
import { loadCatalogue, syncCatalogueToDb } from './catalogue/loader.js';
import type { ServiceDefinition } from './catalogue/schema.js';
import { Journal } from './journal/journal.js';
import { PreferencesStore } from './preferences/preferences.js';
import { ProfileService } from './profile/profile.js';
import { createWorkflowHandlers } from './workflow/handlers.js';
import { guard, type Handlers } from './rpc.js';
import { AdminService } from './auth/admin.js';
import { setDemoPasswords } from './auth/demo.js';
import { AuthGate } from './auth/gate.js';
import { scopeSql } from './auth/permissions.js';
import { authHandlers } from './auth/handlers.js';
import type { AuthPolicy } from './auth/policy.js';
import { AuthService } from './auth/service.js';
import { Signer, type SigningConfig } from './signing/backend.js';
import { ensureDemoKit } from './signing/demo-kit.js';
import { Pkcs11Client } from './signing/pkcs11/client.js';
import { SigningService } from './signing/service.js';
import { SyncStatusService, type HealthProbe } from './sync/status.js';

export interface AppOptions {
  dataDir: string;
  resourcesDir: string;
  migrationsFolder?: string;
  /** The central server; null when none is configured (the workstation works offline). */
  serverUrl: string | null;
  version: string;
  transport: 'ipc' | 'bridge';
  /** Fill an empty database with this many demo applications (0: none). */
  demoApplications?: number;
  demoSeed?: number;
  healthProbe?: HealthProbe;
  /** How often the server is probed (ms); 0 turns the timer off. */
  healthEveryMs?: number;
  now?: () => number;
  log?: (message: string) => void;
  signing?: AppSigningOptions;
  /** Login policy overrides (offline window, idle lock…); the demo start lifts the offline window. */
  authPolicy?: Partial<AuthPolicy>;
}

/** How the signer is set up; the defaults suit a provider's desktop. */
export interface AppSigningOptions {
  /** PKCS#11 libraries to try before the built-in locations of the Kazakh tokens. */
  modules?: readonly string[];
  includeDefaultModules?: boolean;
  /** More folders of trusted CA certificates (besides resources/trusted and <data>/trusted). */
  trustDirs?: readonly string[];
  tsaUrl?: string | null;
  ocsp?: boolean;
  pkcs11?: SigningConfig['pkcs11'];
}

/** Signing settings from the environment (QYZMET_PKCS11_MODULES, QYZMET_TRUST_DIRS: path lists; QYZMET_TSA_URL). */
export function signingOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): AppSigningOptions {
  const list = (v: string | undefined) => (v ? v.split(delimiter).filter((p) => p.length > 0) : undefined);
  const modules = list(env.QYZMET_PKCS11_MODULES);
  const trustDirs = list(env.QYZMET_TRUST_DIRS);
  return {
    ...(modules ? { modules } : {}),
    ...(trustDirs ? { trustDirs } : {}),
    ...(env.QYZMET_TSA_URL ? { tsaUrl: env.QYZMET_TSA_URL } : {}),
  };
}

export interface AppServices {
  handlers: Handlers;
  database: OpenedDatabase;
  catalogue: { services: ServiceDefinition[]; problems: { file: string; field: string; message: string }[] };
  sync: SyncStatusService;
  signer: Signer;
  signing: SigningService;
  auth: AuthService;
  close(): Promise<void>;
}

export const DEMO_USER_ID = 'user-head-demo';

export async function createApp(options: AppOptions): Promise<AppServices> {
  const now = options.now ?? Date.now;
  const log = options.log ?? ((m: string) => console.log(m));
  const databasePath = join(options.dataDir, 'qyzmet.db');
  const database = await openDatabase(databasePath, {
    ...(options.migrationsFolder ? { migrationsFolder: options.migrationsFolder } : {}),
    now,
  });
  if (database.applied.length > 0) log(`database: applied ${database.applied.join(', ')}`);
  if (database.backupPath) log(`database: backup ${database.backupPath}`);

  const catalogue = loadCatalogue(join(options.resourcesDir, 'services'));
  for (const p of catalogue.problems) log(`catalogue: ${p.file}: ${p.field}: ${p.message}`);
  syncCatalogueToDb(database.db, catalogue.services, now());
  const calendars = loadCalendars(join(options.resourcesDir, 'calendars'));
  for (const p of calendars.problems) log(`calendar: ${p.file}: ${p.field}: ${p.message}`);
  for (const y of calendars.years) if (!y.confirmed) log(`calendar: ${y.year} (${y.file}) is not final`);
  const calendar = calendars.calendar;
  const names = new Map(catalogue.services.map((s) => [s.code, s.name]));
  const serviceName = (code: string) => names.get(code) ?? { kk: code, ru: code, en: code };

  const demo = options.demoApplications ?? 0;
  if (demo > 0) {
    const empty = (database.sqlite.prepare('SELECT count(*) AS n FROM applications').get() as { n: number }).n === 0;
    if (empty) {
      const counts = generateDemo(database.sqlite, {
        applications: demo,
        seed: options.demoSeed ?? 1,
        now: now(),
        services: catalogue.services,
        calendar,
      });
      log(`demo: ${counts.applications} applications`);
    }
    // The demo users log in with the demo password (main/auth/demo.ts).
    if (setDemoPasswords(database.sqlite, now()) > 0) log('demo: the demo users log in with the demo password');
  }

  const journal = new Journal(database.sqlite, serviceName, { now });
  const preferences = new PreferencesStore(database.db, now);
  const sync = new SyncStatusService(database.sqlite, options.serverUrl, options.healthProbe);
  const every = options.healthEveryMs ?? 15_000;
  if (every > 0) sync.start(every);
  else void sync.check();

  if (demo > 0) {
    // The demo start can sign too: a demo CA trusted in this data folder only, and the demo head's key file.
    const org = database.sqlite
      .prepare(
        `SELECT p.bin, p.name_ru AS name FROM user_roles r JOIN providers p ON p.id = r.provider_id
          WHERE r.user_id = ? LIMIT 1`,
      )
      .get(DEMO_USER_ID) as { bin: string; name: string } | undefined;
    const kit = await ensureDemoKit(options.dataDir, {
      ...DEMO_HEAD,
      ...(org ? { bin: org.bin, organisation: org.name } : {}),
    });
    if (kit.created)
      log(`demo: key file ${kit.keyFile} (password "${kit.password}"), trusted in this data folder only`);
  }

  const so = options.signing ?? {};
  const signer = await Signer.create({
    ...(so.modules ? { modules: so.modules } : {}),
    ...(so.includeDefaultModules === false ? { includeDefaultModules: false } : {}),
    trustDirs: [join(options.resourcesDir, 'trusted'), join(options.dataDir, 'trusted'), ...(so.trustDirs ?? [])],
    crlDir: join(options.dataDir, 'crl'),
    tsaUrl: so.tsaUrl ?? null,
    ocsp: so.ocsp ?? true,
    online: () => sync.status().online,
    pkcs11: so.pkcs11 ?? new Pkcs11Client(),
  });
  const auth = new AuthService({
    sqlite: database.sqlite,
    signer,
    isOnline: () => sync.status().online,
    // A demo database is not refreshed by a central server: no offline window there.
    policy: { ...(demo > 0 ? { offlineWindowDays: null } : {}), ...options.authPolicy },
    now,
    log,
  });
  const gate = new AuthGate(auth, database.sqlite);
  const admin = new AdminService(auth.directory, { now });

  const signing = new SigningService({
    sqlite: database.sqlite,
    backend: signer,
    now,
    currentUser: () => {
      const user = auth.current();
      if (!user) return null;
      const row = database.sqlite.prepare('SELECT iin FROM users WHERE id = ?').get(user.id) as
        { iin: string } | undefined;
      return row ? { id: user.id, iin: row.iin } : null;
    },
  });

  const workflow = createWorkflowHandlers({
    sqlite: database.sqlite,
    services: catalogue.services,
    calendar,
    currentUser: () => auth.current(),
    now,
  });
  const profiles = new ProfileService(database.sqlite, () => auth.current()?.id ?? null, now);

  // Logout and lock forget the keys opened for signing.
  auth.onEnd(() => void signing.closeAll());

  // Every call passes the gate (session, role, provider/region) before its handler: main/auth/permissions.ts.
  const handlers: Handlers = guard(
    {
      'app.info': () => ({ version: options.version, transport: options.transport, databasePath }),
      'session.current': () => ({ user: auth.sessionUser() }),
      'preferences.get': () => preferences.get(),
      'preferences.set': (input) => preferences.set(input),
      'catalogue.list': () => ({
        services: catalogue.services.map((s) => ({ code: s.code, name: s.name })),
        problems: catalogue.problems,
      }),
      'journal.list': (q, ctx) => journal.list(q, scopeSql(gate.scopeFor(ctx.principal, 'journal.list'))),
      'sync.status': () => sync.status(),
      'profile.get': () => profiles.get(),
      'profile.update': (input) => profiles.update(input),
      'signing.tokens': () => signing.tokens(),
      'signing.open': (input) => signing.open(input.source),
      'signing.start': (input) => signing.start(input.handle, input.applicationIds, input.format),
      'signing.progress': (input) => signing.progress(input.batchId),
      'signing.cancel': (input) => signing.cancel(input.batchId),
      'signing.close': (input) => signing.close(input.handle),
      ...workflow,
      ...authHandlers(auth, admin),
    },
    gate,
  );

  return {
    handlers,
    database,
    catalogue,
    sync,
    signer,
    signing,
    auth,
    close: async () => {
      sync.stop();
      await auth.logout();
      await signing.closeAll();
      await signer.close();
      database.close();
    },
  };
}
