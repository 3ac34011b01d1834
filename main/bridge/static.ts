/** Map a request path to a file of the built renderer; unknown paths fall back to index.html (one-page app). */
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { fileInside } from '../common/paths.js';

export function resolveStaticFile(pathname: string, root: string): string | null {
  const full = fileInside(root, pathname);
  if (full === null) return null;
  if (existsSync(full)) return full;
  // A path without an extension is a route of the app: serve the app.
  return extname(pathname) === '' ? resolve(root, 'index.html') : null;
}
