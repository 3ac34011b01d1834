/**
 * The composition root of the main process, in plain Node: opens the local
 * database, loads the service catalogue, builds the services and the one
 * handler per contract call. Electron (main/shell) and the loopback bridge
 * (main/bridge) both serve what this returns.
 */
import { delimiter, join } from 'node:path';
import { fillDemoDatabase, startDemo } from '#demo/bootstrap.js';
import { openDatabase, type OpenedDatabase } from '#db/connection.js';
import { refuseWritesWhenDamaged } from './database-check.js';
import { loadCalendars } from '#core/node/calendar-loader.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { syncCatalogueToDb } from './catalogue/store.js';
import type { ServiceDefinition } from '#core/catalogue/schema.js';
import { appInfoHandlers } from './app-info.js';
import { catalogueHandlers } from './catalogue/handlers.js';
import { Journal } from './journal/journal.js';
import { journalHandlers } from './journal/handlers.js';
import { monitoringHandlers } from './monitoring/handlers.js';
import { LocalMonitoring } from './monitoring/report.js';
import { loadRegions } from '#core/node/region-loader.js';
import { PreferencesStore } from './preferences/preferences.js';
import { preferencesHandlers } from './preferences/handlers.js';
import { ProfileService } from './profile/profile.js';
import { profileHandlers } from './profile/handlers.js';
import { createWorkflowHandlers, createWorkflowService } from './workflow/handlers.js';
import { guard, type Handlers } from './rpc.js';
import { AdminService } from './auth/admin.js';
import { setDemoPasswords } from './auth/demo.js';
import { AuthGate } from './auth/gate.js';
import { authHandlers } from './auth/handlers.js';
import type { AuthPolicy } from './auth/policy.js';
import { AuthService } from './auth/service.js';
import { Pkcs11Client, Signer, type SigningConfig } from '#signing/index.js';
import { signingHandlers } from './signing/handlers.js';
import { SigningService } from './signing/service.js';
import { loadDocumentAssets } from './documents/assets.js';
import { documentsHandlers } from './documents/handlers.js';
import { paperCheckHandlers } from './documents/check-handlers.js';
import { chromiumPrinter, type PdfPrinter } from './documents/pdf.js';
import { DocumentsService } from './documents/service.js';
import { SyncStatusService, type HealthProbe } from './sync/status.js';
import { SyncEngine, type SyncEngineOptions } from './sync/engine.js';
import { combinedSyncStatus, syncHandlers } from './sync/handlers.js';
import { HttpOnlineAuth } from './auth/online-http.js';
import type { SecretBox } from './sync/credentials.js';
import { insecureUrlMessage, serverHealthProbe, serverTransportFromFile, serverUrlProblem } from './net/transport.js';

export interface AppOptions {
  dataDir: string;
  resourcesDir: string;
  /** Prints output documents to PDF: Electron's printToPDF in the app; Debian's Chromium by default (harness, tests). */
  documentPrinter?: () => PdfPrinter;
  migrationsFolder?: string;
  /** How long after the start the database's integrity check begins (ms; default 3,000). */
  databaseCheckDelayMs?: number;
  /** The central server; null when none is configured (the workstation works offline). */
  serverUrl: string | null;
  /**
   * The save dialog of the journal's Excel export (main/shell: Electron's), given a suggested file name; null when
   * closed. Absent (the harness): the call names the file.
   */
  chooseSavePath?: (suggestedName: string) => Promise<string | null>;
  /**
   * PEM file of the CA the central server's certificate must chain to: pinned, the system roots are then not
   * trusted for the server. Null or absent: the system roots. (QYZMET_SERVER_CA_FILE in the shell and harness.)
   */
  serverCaFile?: string | null;
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

export async function createApp(options: AppOptions): Promise<AppServices> {
  const now = options.now ?? Date.now;
  const log = options.log ?? ((m: string) => console.log(m));
  // One transport to the central server (the pinned CA) for sync, online login and the health probe.
  const transport = serverTransportFromFile(options.serverCaFile);
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
  fillDemoDatabase(
    database.sqlite,
    { applications: demo, seed: options.demoSeed ?? 1, now: now(), services: catalogue.services, calendar },
    log,
  );
  const demoMode = options.demoMode ?? demo > 0;

  const journal = new Journal(database.sqlite, serviceName, {
    now,
    daysWaiting: (from, to) => calendar.daysWaiting(from, to),
  });
  const preferences = new PreferencesStore(database.db, now);
  if (options.serverUrl && serverUrlProblem(options.serverUrl)) log(`sync: ${insecureUrlMessage(options.serverUrl)}`);
  const sync = new SyncStatusService(
    database.sqlite,
    options.serverUrl,
    options.healthProbe ?? serverHealthProbe(transport.fetch),
  );
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
    fetch: transport.fetch,
    ...options.syncEngine,
  });
  const syncStatus = () => combinedSyncStatus(engine, sync);

  const demoEnrolment = options.demoEnrolment && options.serverUrl && !engine.enrolled() ? options.demoEnrolment : null;
  await startDemo({
    db: database.db,
    dataDir: options.dataDir,
    now,
    log,
    ...(demoEnrolment
      ? {
          enrolment: {
            providerId: demoEnrolment.providerId,
            enrolAndSync: async () => {
              await engine.enrol({ ...demoEnrolment, name: 'Qyzmet demo workstation' });
              await engine.runOnce();
            },
          },
        }
      : {}),
    demoMode,
    writable: () => database.check.current().state !== 'failed',
    // The demo users' passwords are kept by the login rules (main/auth/demo.ts).
    setPasswords: (at) => setDemoPasswords(database.sqlite, at),
  });

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
            fetch: transport.fetch,
            accessToken: () => (engine.enrolled() ? engine.accessToken().catch(() => null) : Promise.resolve(null)),
            refreshToken: () => (engine.enrolled() ? engine.refreshToken().catch(() => null) : Promise.resolve(null)),
          }),
        }
      : {}),
    // A demo database is not refreshed by a central server: no offline window there.
    policy: { ...(demoMode ? { offlineWindowDays: null } : {}), ...options.authPolicy },
    now,
    log,
    // The user key an online login brings: kept sealed by sync, the user's changes are pushed with it.
    keepUserKey: (userId, key) => engine.keepUserKey(userId, key),
  });
  const gate = new AuthGate(auth, database.sqlite);
  // With a central server, user management needs the administrator online there, and goes at once.
  const admin = new AdminService(auth.directory, {
    now,
    ...(options.serverUrl
      ? { presence: (maxAgeMs: number) => auth.provePresence(maxAgeMs), pushNow: () => engine.pushSoon() }
      : {}),
  });

  const workflowDeps = {
    sqlite: database.sqlite,
    services: catalogue.services,
    calendar,
    currentUser: () => auth.current(),
    now,
  };
  // One workflow service: the signing batch completes applications through its sign transition.
  const workflowService = createWorkflowService(workflowDeps);
  const signing = new SigningService({
    sqlite: database.sqlite,
    backend: signer,
    workflow: workflowService.commands,
    now,
    currentUser: () => {
      const user = auth.current();
      const row = user ? auth.directory.byId(user.id) : null;
      return row ? { id: row.id, iin: row.iin } : null;
    },
  });

  const workflow = createWorkflowHandlers(workflowDeps, workflowService);
  const profiles = new ProfileService(database.sqlite, () => auth.current()?.id ?? null, now);
  const documentAssets = loadDocumentAssets(options.resourcesDir);
  for (const p of documentAssets.templates.problems) log(`documents: ${p.file}: ${p.field}: ${p.message}`);
  const documents = new DocumentsService({
    sqlite: database.sqlite,
    services: catalogue.services,
    assets: documentAssets,
    printer: options.documentPrinter ?? (() => chromiumPrinter()),
  });

  // Logout and lock forget the keys opened for signing.
  auth.onEnd(() => void signing.closeAll());

  // Every call passes the gate (session, role, provider/region) before its handler: main/auth/permissions.ts.
  const handlers: Handlers = guard(
    refuseWritesWhenDamaged(
      {
        ...appInfoHandlers({
          version: options.version,
          transport: options.transport,
          databasePath,
          check: database.check,
        }),
        ...preferencesHandlers(preferences),
        ...catalogueHandlers(catalogue),
        ...journalHandlers(journal, (principal) => gate.scopeFor(principal, 'journal.list'), {
          chooseSavePath: options.chooseSavePath,
        }),
        ...monitoringHandlers(
          new LocalMonitoring(database.sqlite, {
            regions: loadRegions(join(options.resourcesDir, 'regions')).regions,
            utcOffsetMinutes: calendar.utcOffsetMinutes,
            now,
          }),
          (principal) => gate.scopeFor(principal, 'monitoring.report'),
          options.serverUrl
            ? { serverUrl: options.serverUrl, fetch: transport.fetch, accessToken: () => engine.accessToken() }
            : null,
        ),
        ...syncHandlers(engine, sync, database.sqlite),
        ...profileHandlers(profiles),
        ...signingHandlers(signing),
        ...documentsHandlers(documents, () => auth.current()),
        ...paperCheckHandlers(signer, () => auth.current()),
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
      await documents.close();
      await signer.close();
      transport.close();
      database.close();
    },
  };
}
