// `npm run build`: the renderer (Vite), the Electron main and preload bundles and the browser harness's bundle
// (esbuild), every part.
// `node scripts/build.mjs --if-stale`: only the parts that are missing or have a source changed since they were
// built (`npm start`, the e2e harness and the bench run this first; when nothing changed it only reads the mtimes).
//
// Each part's sources are the files its build actually read (esbuild's metafile, the modules Rollup loaded), kept
// in dist/build-inputs.json with the time its build started.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const STAMP = join(ROOT, 'dist', 'build-inputs.json');

/** The browser harness (scripts/dev-web.ts): `node dist/main/harness.cjs [dev-web options]`. */
export const HARNESS_BUNDLE = join(ROOT, 'dist', 'main', 'harness.cjs');

/**
 * dist/main/harness.cjs starts the bundle (harness-bundle.cjs) with V8's code cache, as Electron does for its own
 * code and Node 22's module.enableCompileCache() would (Node 20 has none): compiling the bundle's functions is a
 * good part of its start. The cache is written beside the bundle a few seconds after a start that had none (so the
 * functions that start compiled are in it), and is used while the bundle is unchanged: the bundle's size and mtime
 * name the file, and V8 rejects a cache that does not fit (a new one is written then).
 */
const HARNESS_LAUNCHER = `'use strict';
// Written by scripts/build.mjs: starts harness-bundle.cjs with V8's code cache (see there).
const { readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { join } = require('node:path');
const vm = require('node:vm');
const file = join(__dirname, 'harness-bundle.cjs');
const info = statSync(file);
const cacheFile = join(__dirname, \`.harness-bundle.\${info.size}-\${Math.trunc(info.mtimeMs)}.v8cache\`);
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), {
  filename: file,
  cachedData,
  importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
});
if (cachedData === undefined || script.cachedDataRejected) {
  setTimeout(() => {
    try {
      const partial = \`\${cacheFile}.\${process.pid}\`;
      writeFileSync(partial, script.createCachedData());
      renameSync(partial, cacheFile);
    } catch {
      // No cache then: the next start compiles again.
    }
  }, 5000).unref();
}
const bundle = new Module(file, module);
bundle.filename = file;
script.runInThisContext().call(bundle.exports, bundle.exports, Module.createRequire(file), bundle, file, __dirname);
`;

// Modules written as ESM ask for import.meta.url; in a CommonJS bundle it is the bundle's own file.
const bundleUrl = {
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__bundleUrl' },
};
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  metafile: true,
  absWorkingDir: ROOT,
};

/**
 * The harness runs from the repository, not from a package: its modules find their data (resources/, the
 * migrations of db/ and server/, the renderer's build) where they are in the source tree, so each module's
 * import.meta.url, dirname and filename are its own source file's. The two worker locators are the exception: they
 * take the bundle's URL, to start the bundled workers beside it (dist/main/*-worker.cjs) instead of the TypeScript.
 */
const WORKER_LOCATORS = [join(ROOT, 'db', 'check.ts'), join(ROOT, 'signing', 'pkcs11', 'client.ts')];
const sourceLocations = {
  name: 'source-locations',
  setup(build) {
    build.onLoad({ filter: /\.tsx?$/ }, (args) => {
      if (args.path.includes('node_modules') || WORKER_LOCATORS.includes(args.path)) return undefined;
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.')) return undefined;
      const contents = text
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
        .replaceAll('import.meta.filename', JSON.stringify(args.path));
      return { contents, loader: args.path.endsWith('x') ? 'tsx' : 'ts' };
    });
  },
};

/** esbuild's inputs (relative to ROOT) as absolute paths. */
const esbuildInputs = (result) => Object.keys(result.metafile.inputs).map((p) => resolve(ROOT, p));

async function esbuildPart(options) {
  const { build } = await import('esbuild');
  return esbuildInputs(await build({ ...common, ...options }));
}

/** The parts of the build: each one's output file (its presence) and how it is built (returning its sources). */
const PARTS = {
  renderer: {
    output: join(ROOT, 'dist', 'renderer', 'index.html'),
    async build() {
      const { build } = await import('vite');
      const inputs = new Set([join(ROOT, 'renderer', 'index.html'), join(ROOT, 'renderer', 'vite.config.ts')]);
      const collect = {
        name: 'qyzmet-build-inputs',
        generateBundle() {
          for (const id of this.getModuleIds()) {
            const file = id.split('?')[0];
            if (isAbsolute(file) && !file.startsWith('\0')) inputs.add(file);
          }
        },
      };
      await build({ configFile: join(ROOT, 'renderer', 'vite.config.ts'), logLevel: 'warn', plugins: [collect] });
      return [...inputs];
    },
  },
  // Native modules and Electron stay outside the bundle (electron-builder rebuilds them for Electron).
  main: {
    output: join(ROOT, 'dist', 'main', 'main.cjs'),
    build: () =>
      esbuildPart({
        ...bundleUrl,
        entryPoints: ['main/shell/main.ts'],
        outfile: 'dist/main/main.cjs',
        external: ['electron', 'better-sqlite3', 'pkcs11js'],
      }),
  },
  // PKCS#11 runs in a worker thread beside the main bundle (signing/pkcs11/client.ts finds it there).
  pkcs11Worker: {
    output: join(ROOT, 'dist', 'main', 'pkcs11-worker.cjs'),
    build: () =>
      esbuildPart({
        ...bundleUrl,
        entryPoints: ['signing/pkcs11/worker.ts'],
        outfile: 'dist/main/pkcs11-worker.cjs',
        external: ['pkcs11js'],
      }),
  },
  // The integrity check of the local database runs in a worker thread beside the main bundle (db/check.ts finds it).
  checkWorker: {
    output: join(ROOT, 'dist', 'main', 'db-check-worker.cjs'),
    build: () =>
      esbuildPart({
        ...bundleUrl,
        entryPoints: ['db/check-worker.ts'],
        outfile: 'dist/main/db-check-worker.cjs',
        external: ['better-sqlite3'],
      }),
  },
  // The preload runs sandboxed: one file, nothing but 'electron' required at run time.
  preload: {
    output: join(ROOT, 'dist', 'preload', 'preload.cjs'),
    build: () =>
      esbuildPart({
        entryPoints: ['preload/index.ts'],
        outfile: 'dist/preload/preload.cjs',
        external: ['electron'],
        platform: 'browser',
      }),
  },
  // The browser harness (npm start without Electron, the e2e tests, the bench) runs bundled, as Electron runs
  // main.cjs: plain Node loads one file instead of the TypeScript loader and a few thousand modules. Beside
  // main.cjs, so that it starts the same bundled workers. PGlite loads its WebAssembly from its own package, and
  // Vite (the renderer's build, `--rebuild`) is a tool: both stay in node_modules.
  harness: {
    output: HARNESS_BUNDLE,
    async build() {
      const inputs = await esbuildPart({
        ...bundleUrl,
        entryPoints: ['scripts/dev-web.ts'],
        outfile: 'dist/main/harness-bundle.cjs',
        external: ['better-sqlite3', 'pkcs11js', '@electric-sql/pglite', 'vite'],
        plugins: [sourceLocations],
      });
      const dir = join(ROOT, 'dist', 'main');
      for (const name of readdirSync(dir)) if (name.endsWith('.v8cache')) rmSync(join(dir, name), { force: true });
      writeFileSync(HARNESS_BUNDLE, HARNESS_LAUNCHER);
      return inputs;
    },
  },
};

function readStamp() {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return {};
  }
}

/** Why `name` needs building, or null when it is up to date. */
function staleness(name, stamp) {
  const part = PARTS[name];
  const entry = stamp[name];
  if (!existsSync(part.output)) return 'missing';
  if (!entry) return 'not built by this script';
  for (const file of entry.inputs) {
    let mtime;
    try {
      mtime = statSync(file).mtimeMs;
    } catch {
      return `${file} is gone`;
    }
    if (mtime > entry.builtAt) return `${file.startsWith(ROOT) ? file.slice(ROOT.length) : file} changed`;
  }
  return null;
}

/** Builds the parts named (all by default), or with `ifStale` only those that need it; returns the names built. */
export async function buildParts({ ifStale = false, only = Object.keys(PARTS), quiet = false } = {}) {
  const stamp = readStamp();
  const todo = only.filter((name) => {
    const why = ifStale ? staleness(name, stamp) : 'asked';
    if (why && ifStale && !quiet) console.error(`build: ${name} (${why})`);
    return why !== null;
  });
  if (todo.length === 0) return [];
  const builtAt = Date.now();
  // The renderer first (Vite empties its folder), then the bundles side by side.
  if (todo.includes('renderer')) stamp.renderer = { builtAt, inputs: await PARTS.renderer.build() };
  await Promise.all(
    todo
      .filter((name) => name !== 'renderer')
      .map(async (name) => {
        stamp[name] = { builtAt, inputs: await PARTS[name].build() };
      }),
  );
  // Every part depends on this script too (its options).
  for (const name of todo) stamp[name].inputs.push(SELF);
  mkdirSync(dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, JSON.stringify(stamp));
  return todo;
}

if (process.argv[1] && resolve(process.argv[1]) === SELF) {
  const ifStale = process.argv.includes('--if-stale');
  const built = await buildParts({ ifStale });
  if (!ifStale || built.length > 0) console.log(`built ${built.join(', ') || 'nothing'} into dist/`);
}
