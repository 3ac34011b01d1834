#!/usr/bin/env node
// The two commands of the README, in plain Node so they work before `npm ci`:
//   npm start   set up what is missing, then run the app (Electron where its
//               binary is present, else the browser harness) with the embedded
//               central server
//   npm test    set up what is missing, then typecheck, lint, format check,
//               unit tests and the e2e tests in Chromium
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const command = process.argv[2];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  return r.status ?? 1;
}

function must(title, cmd, args, opts) {
  console.log(`\n== ${title}`);
  const started = Date.now();
  const status = run(cmd, args, opts);
  console.log(`== ${title}: ${status === 0 ? 'ok' : 'FAILED'} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  if (status !== 0) process.exit(status);
}

/** Debian packages the tests need; installed when missing and we may (root). */
function ensureApt(packages) {
  const missing = packages.filter(({ probe }) => !probe());
  if (missing.length === 0) return;
  const names = missing.map((p) => p.name);
  if (!isRoot) {
    console.error(
      `qyzmet: missing system packages: ${names.join(' ')}. Install them: sudo apt-get install -y ${names.join(' ')}`,
    );
    process.exit(1);
  }
  must('apt-get update', 'apt-get', ['update', '-qq']);
  must(`apt-get install ${names.join(' ')}`, 'apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...names], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/** `npm ci` when node_modules does not match package-lock.json. */
function ensureNodeModules() {
  const lock = readFileSync(join(root, 'package-lock.json'));
  const want = createHash('sha256').update(lock).digest('hex');
  const marker = join(root, 'node_modules', '.qyzmet-lock-hash');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === want) return;
  must('npm ci', 'npm', ['ci', '--no-audit', '--no-fund']);
  writeFileSync(marker, want);
}

function electronBinaryPresent() {
  return existsSync(join(root, 'node_modules', 'electron', 'path.txt'));
}

const chromium = { name: 'chromium', probe: () => existsSync('/usr/bin/chromium') };
// The signer's tests: a real PKCS#11 token (SoftHSM2, written with OpenSC's pkcs11-tool),
// and third-party verifiers of what the app signs (xmlsec1; openssl is part of the base system).
const signingTools = [
  { name: 'softhsm2', probe: () => existsSync('/usr/bin/softhsm2-util') },
  { name: 'opensc', probe: () => existsSync('/usr/bin/pkcs11-tool') },
  { name: 'xmlsec1', probe: () => existsSync('/usr/bin/xmlsec1') },
  { name: 'openssl', probe: () => existsSync('/usr/bin/openssl') },
];

// The central server's tests run against a real PostgreSQL (throwaway clusters in temp dirs) besides PGlite.
const postgresql = {
  name: 'postgresql',
  probe: () => {
    try {
      return readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
    } catch {
      return false;
    }
  },
};

// Outside checks of the documents people receive: the PDF's text and fonts (poppler-utils), its codes (zbar-tools).
const documentTools = [
  { name: 'poppler-utils', probe: () => existsSync('/usr/bin/pdftotext') },
  { name: 'zbar-tools', probe: () => existsSync('/usr/bin/zbarimg') },
];

if (command === 'test') {
  ensureApt([chromium, ...signingTools, ...documentTools, postgresql]);
  ensureNodeModules();
  must('typecheck', 'npm', ['run', '-s', 'typecheck']);
  must('lint', 'npm', ['run', '-s', 'lint']);
  must('format', 'npm', ['run', '-s', 'format:check']);
  must('unit tests', 'npm', ['run', '-s', 'test:unit']);
  must('build', 'npm', ['run', '-s', 'build']);
  must('e2e (Chromium)', 'npm', ['run', '-s', 'test:e2e']);
  console.log('\nall tests passed');
} else if (command === 'start') {
  ensureNodeModules();
  // What is missing or older than its sources: the renderer, Electron's main and preload, the harness's bundle.
  must('build', process.execPath, ['scripts/build.mjs', '--if-stale']);
  const extra = process.argv.slice(3);
  if (electronBinaryPresent() && !extra.includes('--web')) {
    process.exit(run('npx', ['tsx', 'scripts/start-electron.ts', ...extra]));
  }
  console.log('\nqyzmet: no Electron binary here; starting the browser harness.');
  // scripts/dev-web.ts bundled (dist/main/harness.cjs), in plain Node as Electron runs main.cjs.
  process.exit(run(process.execPath, ['dist/main/harness.cjs', ...extra.filter((a) => a !== '--web')]));
} else {
  console.error('usage: node scripts/qyzmet.mjs start|test');
  process.exit(2);
}
