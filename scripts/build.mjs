// `npm run build`: the renderer (Vite) and the Electron main and preload bundles (esbuild).
import { build as esbuild } from 'esbuild';
import { build as vite } from 'vite';

await vite({ configFile: 'renderer/vite.config.ts', logLevel: 'warn' });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
};
// Native modules and Electron stay outside the bundle (electron-builder rebuilds them for Electron).
await esbuild({
  ...common,
  entryPoints: ['main/shell/main.ts'],
  outfile: 'dist/main/main.cjs',
  external: ['electron', 'better-sqlite3', 'pkcs11js'],
  // Modules written as ESM ask for import.meta.url; in the CommonJS bundle it is the bundle's own file.
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__bundleUrl' },
});
// PKCS#11 runs in a worker thread beside the main bundle (main/signing/pkcs11/client.ts finds it there).
await esbuild({
  ...common,
  entryPoints: ['main/signing/pkcs11/worker.ts'],
  outfile: 'dist/main/pkcs11-worker.cjs',
  external: ['pkcs11js'],
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__bundleUrl' },
});
// The integrity check of the local database runs in a worker thread beside the main bundle (db/check.ts finds it there).
await esbuild({
  ...common,
  entryPoints: ['db/check-worker.ts'],
  outfile: 'dist/main/db-check-worker.cjs',
  external: ['better-sqlite3'],
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__bundleUrl' },
});
// The preload runs sandboxed: one file, nothing but 'electron' required at run time.
await esbuild({
  ...common,
  entryPoints: ['preload/index.ts'],
  outfile: 'dist/preload/preload.cjs',
  external: ['electron'],
  platform: 'browser',
});
console.log(
  'built dist/renderer, dist/main/main.cjs, dist/main/pkcs11-worker.cjs, dist/main/db-check-worker.cjs, dist/preload/preload.cjs',
);
