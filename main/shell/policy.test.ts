import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../common/csp.js';
import {
  APP_ENTRY,
  decidePermission,
  isAllowedNavigation,
  isTrustedSender,
  resolveAppFile,
  responseHeaders,
  secureWebPreferences,
  windowOpenDecision,
} from './policy.js';

describe('secureWebPreferences', () => {
  it('isolates and sandboxes the renderer, without Node', () => {
    const prefs = secureWebPreferences('/app/preload.cjs');
    expect(prefs).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });
});

describe('navigation', () => {
  it('allows the app itself', () => {
    expect(isAllowedNavigation(APP_ENTRY)).toBe(true);
    expect(isAllowedNavigation('app://qyzmet/index.html#/journal')).toBe(true);
  });
  it.each([
    'https://example.com/',
    'http://127.0.0.1:8080/',
    'file:///etc/passwd',
    'app://other/index.html',
    'app://user:pw@qyzmet/index.html',
    'javascript:alert(1)',
    'not a url',
  ])('refuses %s', (url) => {
    expect(isAllowedNavigation(url)).toBe(false);
  });
});

describe('new windows', () => {
  it('are always denied; https links go to the system browser', () => {
    expect(windowOpenDecision('https://egov.kz/')).toEqual({ action: 'deny', openExternally: 'https://egov.kz/' });
    expect(windowOpenDecision('http://egov.kz/')).toEqual({ action: 'deny', openExternally: null });
    expect(windowOpenDecision('file:///c:/windows')).toEqual({ action: 'deny', openExternally: null });
    expect(windowOpenDecision(APP_ENTRY)).toEqual({ action: 'deny', openExternally: null });
  });
});

describe('permissions', () => {
  it.each(['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen'])(
    'denies %s',
    (p) => {
      expect(decidePermission(p, APP_ENTRY)).toBe(false);
    },
  );
});

describe('IPC sender check', () => {
  it('trusts only the top frame of the app', () => {
    expect(isTrustedSender({ url: APP_ENTRY, parent: null })).toBe(true);
    expect(isTrustedSender({ url: APP_ENTRY, parent: {} })).toBe(false);
    expect(isTrustedSender({ url: 'https://evil.example/', parent: null })).toBe(false);
    expect(isTrustedSender({ url: 'file:///index.html', parent: null })).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
    expect(isTrustedSender(undefined)).toBe(false);
  });
});

describe('app:// protocol', () => {
  const root = '/opt/qyzmet/renderer';
  it('maps app URLs into the renderer folder', () => {
    expect(resolveAppFile('app://qyzmet/', root)).toBe(join(root, 'index.html'));
    expect(resolveAppFile('app://qyzmet/index.html', root)).toBe(join(root, 'index.html'));
    expect(resolveAppFile('app://qyzmet/assets/app-1.js', root)).toBe(join(root, 'assets', 'app-1.js'));
  });
  it.each(['app://qyzmet/../../etc/passwd', 'app://qyzmet/%2e%2e/%2e%2e/etc/passwd'])(
    'keeps %s inside the folder (the URL parser folds the dots)',
    (url) => {
      expect(resolveAppFile(url, root)).toBe(join(root, 'etc', 'passwd'));
    },
  );
  it.each([
    'app://qyzmet/assets/..%2f..%2f..%2fetc%2fpasswd',
    'app://qyzmet/a%00.js',
    'app://qyzmet/..%5c..%5cwindows',
    'app://qyzmet/%E0%A4%A',
    'app://other/index.html',
    'file:///opt/qyzmet/renderer/index.html',
  ])('refuses %s', (url) => {
    expect(resolveAppFile(url, root)).toBeNull();
  });
  it('answers with the CSP and nosniff', () => {
    const csp = contentSecurityPolicy();
    const h = responseHeaders('/x/index.html', csp);
    expect(h['Content-Type']).toBe('text/html; charset=utf-8');
    expect(h['Content-Security-Policy']).toBe(csp);
    expect(h['X-Content-Type-Options']).toBe('nosniff');
    expect(responseHeaders('/x/a.js', csp)['Content-Type']).toMatch(/^text\/javascript/);
  });
});

describe('CSP', () => {
  it('allows only the app’s own scripts and styles, no inline, no eval, no objects, no frames', () => {
    const csp = contentSecurityPolicy();
    const d = Object.fromEntries(csp.split('; ').map((x) => [x.split(' ')[0], x.split(' ').slice(1).join(' ')]));
    expect(d['default-src']).toBe("'none'");
    expect(d['script-src']).toBe("'self'");
    expect(d['style-src']).toBe("'self'");
    expect(d['object-src']).toBe("'none'");
    expect(d['frame-ancestors']).toBe("'none'");
    expect(d['base-uri']).toBe("'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });
  it('adds the bridge socket to connect-src only when asked', () => {
    expect(contentSecurityPolicy(['ws://127.0.0.1:5000'])).toContain("connect-src 'self' ws://127.0.0.1:5000");
  });
});
