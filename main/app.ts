/**
 * The composition root of the main process, in plain Node: opens the local
 * database, loads the service catalogue, builds the services and the one
 * handler per contract call. Electron (main/shell) and the loopback bridge
 * (main/bridge) both serve what this returns.
 */
import { delimiter, join } from 'node:path';
import { DEMO_HEAD, generateDemo } from '#demo/generate.js';
import { openDatabase, type OpenedDatabase } from '#db/connection.js';
import { databaseCheckInfo, refuseWritesWhenDamaged } from './database-check.js';
import { loadCalendars } from '#core/node/calendar-loader.js';
import { loadCatalogue, syncCatalogueToDb } from '#core/node/catalogue-loader.js';
import type { ServiceDefinition } from '#core/catalogue/schema.js';
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
import { Signer, type SigningConfig } from '#signing/backend.js';
import { ensureDemoKit } from '#demo/kit.js';
import { Pkcs11Client } from '#signing/pkcs11/client.js';
import { SigningService } from './signing/service.js';
import { SyncStatusService, type HealthProbe } from './sync/status.js';
import { SyncEngine, type SyncEngineOptions } from './sync/engine.js';
import { HttpOnlineAuth } from './auth/online-http.js';
import { ServiceError, type Principal } from './rpc.js';
import type { SyncStatus } from '#preload/api.js';
import type { SecretBox } from './sync/credentials.js';

export interface AppOptions {
  dataDir: string;
  resourcesDir: string;
  migrationsFolder?: string;
  /** How long after the start the database's integrity check begins (ms; default 3,000). */
  databaseCheckDelayMs?: number;
  /** The central server; null when none is configured (the workstation works offline). */
  serverUrl: string | null;
  version: string;
  transport: 'ipc' | 'bridge';
  /** Fill an empty database with this many demo applications (0: none). */
  demoApplications?: number;
  /**
   * The demo start (default: demoApplications > 0): demo passwords, the demo
   * head's key file, no offline window. With a central server the demo data
   * comes with the first sync (see demoEnrolment), not from demoApplications.
   */
  demoMode?: boolean;
  demoSeed?: number;
  healthProbe?: HealthProbe;
  /** How often the server is probed (ms); 0 turns the timer off. */
  healthEveryMs?: number;
  now?: () => number;
  log?: (message: string) => void;
  signing?: AppSigningOptions;
  /** Login policy overrides (offline window, idle lock…); the demo start lifts the offline window. */
  authPolicy?: Partial<AuthPolicy>;
  /** Start the sync engine's timers (default: when healthEveryMs > 0). Tests drive `engine.runOnce()` themselves. */
  syncTimers?: boolean;
  /** Tuning of the sync engine (intervals, backoff, page sizes), for tests and the bench. */
  syncEngine?: Partial<Omit<SyncEngineOptions, 'sqlite' | 'serverUrl' | 'dataDir'>>;
  /** Seals the device secret (the Electron shell passes one over safeStorage). */
  secretBox?: SecretBox;
  /**
   * The demo start only: enrol this workstation with these credentials when it
   * is not enrolled yet, and take the first sync before the window opens.
   */
  demoEnrolment?: { providerId: string; login: string; password: string };
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
  /** The health probe of the central server (GET /health). */
  sync: SyncStatusService;
  /** The outbox pusher and feed puller. */
  engine: SyncEngine;
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
  // The integrity check runs in a worker thread; once it fails, writes are refused (main/database-check.ts).
  const database = await openDatabase(databasePath, {
    ...(options.migrationsFolder ? { migrationsFolder: options.migrationsFolder } : {}),
    now,
    check: 'background',
    // The first screens come first: the check begins a few seconds later (writes are allowed meanwhile, as
    // during the check itself; a damaged file found then refuses them from that moment).
    checkDelayMs: options.databaseCheckDelayMs ?? 3_000,
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
    // One row looked at, not a count of them all (a million rows take a tenth of a second to count).
    const empty = database.sqlite.prepare('SELECT 1 FROM applications LIMIT 1').get() === undefined;
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
  }
  const demoMode = options.demoMode ?? demo > 0;

  const journal = new Journal(database.sqlite, serviceName, {
    now,
    daysWaiting: (from, to) => calendar.daysWaiting(from, to),
  });
  const preferences = new PreferencesStore(database.db, now);
  const sync = new SyncStatusService(database.sqlite, options.serverUrl, options.healthProbe);
  const every = options.healthEveryMs ?? 15_000;
  if (every > 0) sync.start(every);
  else void sync.check();
  const engine = new SyncEngine({
    sqlite: database.sqlite,
    serverUrl: options.serverUrl,
    dataDir: options.dataDir,
    now,
    log: (_level, message) => log(message),
    ...(options.secretBox ? { secretBox: options.secretBox } : {}),
    ...options.syncEngine,
  });
  /** The top bar's state: the engine's, online while either the engine's last request or the health probe got through. */
  const syncStatus = (): SyncStatus => {
    const e = engine.status();
    const h = sync.status();
    return { ...e, online: e.online || h.online, lastError: e.lastError ?? (e.enrolled ? null : h.lastError) };
  };

  if (options.demoEnrolment && options.serverUrl && !engine.enrolled()) {
    try {
      await engine.enrol({ ...options.demoEnrolment, name: 'Qyzmet demo workstation' });
      await engine.runOnce();
      log(`demo: enrolled in ${options.demoEnrolment.providerId} and took the first sync`);
    } catch (err) {
      log(`demo: could not enrol with the central server: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  // The demo users log in with the demo password (main/auth/demo.ts), offline too.
  if (demoMode && database.check.current().state !== 'failed' && setDemoPasswords(database.sqlite, now()) > 0)
    log('demo: the demo users log in with the demo password');

  if (demoMode) {
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
    online: () => syncStatus().online,
    pkcs11: so.pkcs11 ?? new Pkcs11Client(),
  });
  const auth = new AuthService({
    sqlite: database.sqlite,
    signer,
    isOnline: () => syncStatus().online,
    ...(options.serverUrl
      ? {
          online: new HttpOnlineAuth({
            baseUrl: options.serverUrl,
            accessToken: () => (engine.enrolled() ? engine.accessToken().catch(() => null) : Promise.resolve(null)),
            refreshToken: () => (engine.enrolled() ? engine.refreshToken().catch(() => null) : Promise.resolve(null)),
          }),
        }
      : {}),
    // A demo database is not refreshed by a central server: no offline window there.
    policy: { ...(demoMode ? { offlineWindowDays: null } : {}), ...options.authPolicy },
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
    refuseWritesWhenDamaged(
      {
        'app.info': () => ({
          version: options.version,
          transport: options.transport,
          databasePath,
          database: databaseCheckInfo(database.check),
        }),
        'session.current': () => ({ user: auth.sessionUser() }),
        'preferences.get': () => preferences.get(),
        'preferences.set': (input) => preferences.set(input),
        'catalogue.list': () => ({
          services: catalogue.services.map((s) => ({ code: s.code, name: s.name })),
          problems: catalogue.problems,
        }),
        'journal.list': (q, ctx) => journal.list(q, scopeSql(gate.scopeFor(ctx.principal, 'journal.list'))),
        'sync.status': () => syncStatus(),
        'sync.details': () => engine.details(),
        'sync.now': async () => {
          await engine.runNow();
          return engine.details();
        },
        'sync.retry': (input, ctx) => {
          mayResolve(database.sqlite, input.seq, ctx.principal);
          return engine.retry(input.seq);
        },
        'sync.discard': (input, ctx) => {
          mayResolve(database.sqlite, input.seq, ctx.principal);
          return engine.discard(input.seq, input.comment, ctx.principal?.userId ?? null);
        },
        'sync.enrol': async (input) => {
          try {
            return await engine.enrol(input);
          } catch (err) {
            throw enrolmentError(err);
          }
        },
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
      database.check,
    ),
    gate,
  );

  if (options.syncTimers ?? every > 0) engine.start();
  void database.check.done.then((s) => {
    if (s.state === 'failed') {
      log(`database: ${s.error.message}`);
      void engine.stop(); // nothing more is pulled into, or pushed from, a damaged file
    } else if (s.state === 'ok') {
      log(`database: ${s.mode} integrity check passed in ${Math.round(s.ms)} ms`);
      if (s.backupPath) log(`database: backup ${s.backupPath}`);
    }
  });

  return {
    handlers,
    database,
    catalogue,
    sync,
    signer,
    signing,
    auth,
    engine,
    close: async () => {
      sync.stop();
      await engine.stop();
      await auth.logout();
      await signing.closeAll();
      await signer.close();
      database.close();
    },
  };
}

/**
 * Who may retry or discard a rejected change: its author (the actor the
 * change names), or a head or administrator of this workstation's user.
 */
function mayResolve(
  sqlite: AppServices['database']['sqlite'],
  seq: number,
  principal: Principal | null | undefined,
): void {
  if (!principal) throw new ServiceError('forbidden', 'errors.auth.forbidden');
  const row = sqlite.prepare('SELECT payload FROM outbox WHERE seq = ?').get(seq) as { payload: string } | undefined;
  if (!row) throw new ServiceError('notFound', 'errors.sync.notFound');
  if (principal.roles.some((r) => r.role === 'head' || r.role === 'admin')) return;
  let author: unknown;
  try {
    const p = JSON.parse(row.payload) as Record<string, unknown>;
    const event = p.event as Record<string, unknown> | undefined;
    author = event?.actorUserId ?? p.actorUserId ?? p.by ?? p.userId ?? null;
  } catch {
    author = null;
  }
  if (author !== principal.userId) throw new ServiceError('forbidden', 'errors.sync.notYourChange');
}

/** An enrolment failure in the user's words: wrong credentials, not an administrator, no server. */
function enrolmentError(err: unknown): unknown {
  if (err instanceof ServiceError) return err;
  const e = err as { kind?: unknown; details?: { code?: unknown } };
  const kind = e.kind;
  const code = e.details?.code;
  if (code === 'wrong_credentials' || kind === 'unauthorized')
    return new ServiceError('wrongCredentials', 'errors.sync.enrolWrongCredentials');
  if (code === 'forbidden') return new ServiceError('forbidden', 'errors.sync.enrolForbidden');
  if (code === 'not_found') return new ServiceError('notFound', 'errors.sync.enrolUnknownOffice');
  return new ServiceError('unreachable', 'errors.sync.unreachable');
}
