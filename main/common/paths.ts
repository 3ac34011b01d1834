import { isAbsolute, relative, resolve } from 'node:path';

/**
 * The file a URL path names inside `root`, or null when the path is malformed
 * or would leave the folder ("..", encoded slashes, NUL bytes, absolute paths).
 */
export function fileInside(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const base = resolve(root);
  const wanted = decoded === '/' || decoded === '' ? '/index.html' : decoded;
  const full = resolve(base, '.' + (wanted.startsWith('/') ? wanted : '/' + wanted));
  const rel = relative(base, full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return null;
  return full;
}
