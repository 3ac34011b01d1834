/**
 * A worker thread from a script that may be TypeScript source: under tsx
 * (tests, the development harness) a `.ts` script is started through tsx's
 * ESM API; a built `.cjs` (the bundles beside dist/main/main.cjs) is started
 * as it is. Used by the integrity check's worker and the PKCS#11 worker.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** tsx's ESM API module (its package exports' "./esm/api" import target), as a file URL. */
function tsxApiUrl(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    exports: Record<string, { import?: { default?: string } }>;
  };
  const target = manifest.exports['./esm/api']?.import?.default;
  if (!target) throw new Error('tsx does not export ./esm/api');
  return new URL(target, pathToFileURL(manifestPath)).href;
}

export function startWorker(script: URL, options: WorkerOptions = {}): Worker {
  if (/\.[cm]?tsx?$/.test(script.pathname)) {
    const bootstrap =
      `import(${JSON.stringify(tsxApiUrl())})` +
      `.then((tsx) => { tsx.register(); return import(${JSON.stringify(script.href)}); })`;
    return new Worker(bootstrap, { ...options, eval: true });
  }
  return new Worker(script, options);
}
