/**
 * The wiring of the Electron entry, with Electron replaced by recording
 * fakes: one window with the secure preferences, permissions denied,
 * navigation and new windows refused, app:// served, the contract registered.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';

const appPath = mkdtempSync(join(tmpdir(), 'qyzmet-shell-'));
mkdirSync(join(appPath, 'dist', 'renderer'), { recursive: true });
writeFileSync(join(appPath, 'dist', 'renderer', 'index.html'), '<!doctype html><title>Q</title>');

const rec = vi.hoisted(() => ({
  windows: [] as { options: Record<string, unknown>; url?: string }[],
  appEvents: new Map<string, (...a: unknown[]) => void>(),
  ipc: new Map<string, unknown>(),
  protocolHandler: null as null | ((req: { url: string }) => Promise<Response>),
  privileged: [] as unknown[],
  permissionRequest: null as null | ((...a: unknown[]) => void),
  permissionCheck: null as null | ((...a: unknown[]) => boolean),
  sandboxed: false,
  external: [] as string[],
  ready: Promise.resolve(),
}));

vi.mock('electron', () => {
  class BrowserWindow {
    static getAllWindows = () => rec.windows;
    constructor(options: Record<string, unknown>) {
      rec.windows.push({ options });
    }
    once() {}
    loadURL(url: string) {
      rec.windows.at(-1)!.url = url;
      return Promise.resolve();
    }
  }
  return {
    app: {
      enableSandbox: () => (rec.sandboxed = true),
      requestSingleInstanceLock: () => true,
      whenReady: () => rec.ready,
      isPackaged: false,
      getAppPath: () => appPath,
      getPath: () => join(appPath, 'userData'),
      getVersion: () => '0.1.0',
      on: (event: string, fn: (...a: unknown[]) => void) => rec.appEvents.set(event, fn),
      quit: vi.fn(),
      exit: vi.fn(),
    },
    BrowserWindow,
    dialog: { showErrorBox: vi.fn() },
    ipcMain: {
      handle: (c: string, fn: unknown) => rec.ipc.set(c, fn),
      removeHandler: (c: string) => rec.ipc.delete(c),
    },
    protocol: {
      registerSchemesAsPrivileged: (s: unknown[]) => rec.privileged.push(...s),
      handle: (_scheme: string, fn: (req: { url: string }) => Promise<Response>) => (rec.protocolHandler = fn),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (fn: (...a: unknown[]) => void) => (rec.permissionRequest = fn),
        setPermissionCheckHandler: (fn: (...a: unknown[]) => boolean) => (rec.permissionCheck = fn),
      },
    },
    shell: { openExternal: (url: string) => rec.external.push(url) },
    // A reversible stand-in for the OS keystore: enough to see the secret box is wired through it.
    safeStorage: {
      isEncryptionAvailable: () => true,
      encryptString: (s: string) => Buffer.from(s.split('').reverse().join(''), 'utf8'),
      decryptString: (b: Buffer) => b.toString('utf8').split('').reverse().join(''),
    },
  };
});

vi.mock('../app.js', () => ({
  createApp: vi.fn(async () => ({ handlers: {}, close: vi.fn() })),
  signingOptionsFromEnv: () => ({}),
}));

beforeAll(async () => {
  await import('./main.js');
  await vi.waitFor(() => expect(rec.windows).toHaveLength(1));
});

describe('Electron shell wiring', () => {
  it('opens one window, isolated and sandboxed, on app://', () => {
    expect(rec.sandboxed).toBe(true);
    const prefs = rec.windows[0]!.options.webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false });
    expect(String(prefs.preload)).toMatch(/preload\.cjs$/);
    expect(rec.windows[0]!.url).toBe('app://qyzmet/index.html');
    expect(rec.privileged).toEqual([expect.objectContaining({ scheme: 'app' })]);
  });

  it('seals the device secret with the OS keystore (safeStorage), round trip', async () => {
    const { createApp } = await import('../app.js');
    const options = vi.mocked(createApp).mock.calls[0]![0];
    const box = options.secretBox!;
    const sealed = box.encrypt(Buffer.from('device-secret'));
    expect(sealed.toString('utf8')).not.toContain('device-secret');
    expect(box.decrypt(sealed).toString('utf8')).toBe('device-secret');
  });

  it('registers a handler for every contract call', async () => {
    const { CHANNELS } = await import('#preload/api.js');
    expect([...rec.ipc.keys()].sort()).toEqual([...CHANNELS].sort());
  });

  it('denies every permission request and check', () => {
    const answers: boolean[] = [];
    rec.permissionRequest!({}, 'media', (ok: boolean) => answers.push(ok), { requestingUrl: 'app://qyzmet/' });
    rec.permissionRequest!({}, 'notifications', (ok: boolean) => answers.push(ok), { requestingUrl: 'app://qyzmet/' });
    expect(answers).toEqual([false, false]);
    expect(rec.permissionCheck!({}, 'clipboard-read', 'app://qyzmet')).toBe(false);
  });

  it('refuses navigation away from the app, webviews and new windows', () => {
    const handlers = new Map<string, (event: { preventDefault: () => void }, url?: string) => void>();
    let openHandler: ((d: { url: string }) => { action: string }) | null = null;
    const contents = {
      on: (e: string, fn: (event: { preventDefault: () => void }, url?: string) => void) => handlers.set(e, fn),
      setWindowOpenHandler: (fn: (d: { url: string }) => { action: string }) => (openHandler = fn),
    };
    rec.appEvents.get('web-contents-created')!({}, contents);
    const prevented = (event: string, url?: string) => {
      const e = { preventDefault: vi.fn() };
      handlers.get(event)!(e, url);
      return e.preventDefault.mock.calls.length > 0;
    };
    expect(prevented('will-navigate', 'https://evil.example/')).toBe(true);
    expect(prevented('will-navigate', 'app://qyzmet/index.html')).toBe(false);
    expect(prevented('will-redirect', 'http://127.0.0.1:1/')).toBe(true);
    expect(prevented('will-attach-webview')).toBe(true);
    expect(openHandler!({ url: 'https://egov.kz/' })).toEqual({ action: 'deny' });
    expect(rec.external).toEqual(['https://egov.kz/']);
    expect(openHandler!({ url: 'app://qyzmet/index.html' })).toEqual({ action: 'deny' });
  });

  it('serves the renderer over app:// with the CSP, and nothing outside it', async () => {
    const ok = await rec.protocolHandler!({ url: 'app://qyzmet/index.html' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await ok.text()).toContain('<title>Q</title>');
    expect((await rec.protocolHandler!({ url: 'app://qyzmet/missing.js' })).status).toBe(404);
    expect((await rec.protocolHandler!({ url: 'app://qyzmet/..%2f..%2fpackage.json' })).status).toBe(404);
  });
});
