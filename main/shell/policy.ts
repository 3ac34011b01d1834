/**
 * The security rules of the Electron shell as small pure functions, so each
 * is unit-tested without Electron. main/shell/main.ts wires them in.
 */
import { fileInside } from '../common/paths.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'qyzmet';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

/** webPreferences of every window: isolated, sandboxed, no Node, no remote content tricks. */
export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
    safeDialogs: true,
  } as const;
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** True only for pages of the app itself; any other navigation is refused. */
export function isAppUrl(url: string): boolean {
  const u = parse(url);
  return u !== null && u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && u.username === '' && u.password === '';
}

/** will-navigate / will-redirect: stay inside the app (a reload of an app page is fine). */
export function isAllowedNavigation(url: string): boolean {
  return isAppUrl(url);
}

/** setWindowOpenHandler: the app opens no windows; http(s) links go to the system browser. */
export function windowOpenDecision(url: string): { action: 'deny'; openExternally: string | null } {
  const u = parse(url);
  const external = u !== null && u.protocol === 'https:' ? u.toString() : null;
  return { action: 'deny', openExternally: external };
}

/** Permission requests (camera, geolocation, notifications, ...): all denied. */
export function decidePermission(_permission: string, _requestingUrl: string): boolean {
  return false;
}

/** The part of Electron's WebFrameMain the sender check reads. */
export interface SenderFrame {
  readonly url: string;
  /** null for a top-level frame. */
  readonly parent: unknown;
}

/** Every IPC message must come from the app's own top frame (not a subframe, not another origin). */
export function isTrustedSender(frame: SenderFrame | null | undefined): boolean {
  return frame != null && frame.parent === null && isAppUrl(frame.url);
}

/**
 * Map an app:// URL to a file under `root` (the built renderer), or null when
 * it is not an app URL or would leave the folder.
 */
export function resolveAppFile(url: string, root: string): string | null {
  const u = isAppUrl(url) ? parse(url) : null;
  return u ? fileInside(root, u.pathname) : null;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

export function mimeType(file: string): string {
  const dot = file.lastIndexOf('.');
  return (dot >= 0 && MIME[file.slice(dot).toLowerCase()]) || 'application/octet-stream';
}

/** Headers of every app:// answer. */
export function responseHeaders(file: string, csp: string): Record<string, string> {
  return {
    'Content-Type': mimeType(file),
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Referrer-Policy': 'no-referrer',
  };
}
