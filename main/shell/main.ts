/**
 * Electron's main process: the only file set that imports 'electron'. It
 * hardens the app, serves the renderer over app://, registers one IPC
 * handler per contract call and opens the one window. Everything it runs is
 * built in plain Node services (main/app.ts), so this stays thin.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { app, BrowserWindow, dialog, ipcMain, protocol, safeStorage, session, shell } from 'electron';
import { createApp, signingOptionsFromEnv, type AppServices } from '../app.js';
import { Pkcs11Client } from '#signing/index.js';
import { DEMO_ENROLMENT } from '../auth/demo.js';
import type { SecretBox } from '../sync/credentials.js';
import { contentSecurityPolicy } from '../common/csp.js';
import { registerContract } from './ipc.js';
import { electronPrinter } from './pdf-window.js';
import {
  APP_ENTRY,
  APP_SCHEME,
  decidePermission,
  isAllowedNavigation,
  resolveAppFile,
  responseHeaders,
  secureWebPreferences,
  windowOpenDecision,
} from './policy.js';

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);
app.enableSandbox();

/** Where the built files are: beside the bundle in development, in resources when packaged. */
function paths() {
  const root = app.isPackaged ? process.resourcesPath : app.getAppPath();
  return {
    renderer: join(app.getAppPath(), 'dist', 'renderer'),
    preload: join(app.getAppPath(), 'dist', 'preload', 'preload.cjs'),
    migrations: join(root, 'db', 'migrations'),
    resources: join(root, 'resources'),
    data: process.env.QYZMET_DATA_DIR ?? app.getPath('userData'),
    // Worker threads cannot start from inside app.asar: the worker is unpacked beside it.
    pkcs11Worker: join(
      app.getAppPath().replace(/app\.asar$/, 'app.asar.unpacked'),
      'dist',
      'main',
      'pkcs11-worker.cjs',
    ),
  };
}

function harden(): void {
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback, details) =>
    callback(decidePermission(permission, details.requestingUrl)),
  );
  session.defaultSession.setPermissionCheckHandler((_wc, permission, origin) => decidePermission(permission, origin));
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAllowedNavigation(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAllowedNavigation(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      const decision = windowOpenDecision(url);
      if (decision.openExternally) void shell.openExternal(decision.openExternally);
      return { action: decision.action };
    });
  });
}

function serveRenderer(root: string): void {
  const csp = contentSecurityPolicy();
  protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppFile(request.url, root);
    if (!file) return new Response('Not found', { status: 404 });
    try {
      return new Response(await readFile(file), { headers: responseHeaders(file, csp) });
    } catch {
      return new Response('Not found', { status: 404 });
    }
  });
}

function openWindow(preload: string): BrowserWindow {
  const win = new BrowserWindow({
    width: 1360,
    height: 860,
    minWidth: 1024,
    minHeight: 640,
    show: false,
    title: 'Qyzmet',
    webPreferences: secureWebPreferences(preload),
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_ENTRY);
  return win;
}

/** The device secret through Electron's safeStorage (DPAPI, Keychain, libsecret). */
function safeStorageBox(): SecretBox {
  return {
    encrypt: (plain) => safeStorage.encryptString(plain.toString('base64')),
    decrypt: (sealed) => Buffer.from(safeStorage.decryptString(sealed), 'base64'),
  };
}

async function start(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  const p = paths();
  harden();
  serveRenderer(p.renderer);
  let services: AppServices;
  const serverUrl = process.env.QYZMET_SERVER_URL || null;
  const demo = process.env.QYZMET_DEMO ? Number(process.env.QYZMET_DEMO) : 0;
  try {
    services = await createApp({
      dataDir: p.data,
      resourcesDir: p.resources,
      documentPrinter: electronPrinter,
      // The journal's Excel export asks where to save, over the focused window.
      chooseSavePath: async (suggestedName) => {
        const options = { defaultPath: suggestedName, filters: [{ name: 'Excel', extensions: ['xlsx'] }] };
        const owner = BrowserWindow.getFocusedWindow();
        const r = owner ? await dialog.showSaveDialog(owner, options) : await dialog.showSaveDialog(options);
        return r.canceled || !r.filePath ? null : r.filePath;
      },
      migrationsFolder: p.migrations,
      serverUrl,
      // The CA the central server's certificate must chain to (pinned); unset: the system roots.
      serverCaFile: process.env.QYZMET_SERVER_CA_FILE || null,
      version: app.getVersion(),
      transport: 'ipc',
      // With a central server the demo comes with the first sync (the demo workstation enrols itself).
      demoApplications: serverUrl ? 0 : demo,
      demoMode: demo > 0,
      ...(demo > 0 && serverUrl ? { demoEnrolment: { ...DEMO_ENROLMENT } } : {}),
      // The device secret sealed by the OS (DPAPI on Windows) where it can be.
      ...(safeStorage.isEncryptionAvailable() ? { secretBox: safeStorageBox() } : {}),
      signing: { ...signingOptionsFromEnv(), pkcs11: new Pkcs11Client({ workerScript: p.pkcs11Worker }) },
    });
  } catch (err) {
    dialog.showErrorBox('Qyzmet', err instanceof Error ? err.message : String(err));
    app.exit(1);
    return;
  }
  registerContract(ipcMain, services.handlers);
  let win = openWindow(p.preload);
  app.on('second-instance', () => {
    if (win.isMinimized()) win.restore();
    win.focus();
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) win = openWindow(p.preload);
  });
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', () => void services.close());
}

void start();
