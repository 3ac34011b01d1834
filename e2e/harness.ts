/**
 * Starts the browser harness (scripts/dev-web.ts) as a child process for the
 * e2e tests: its own temporary data folder, demo data, the embedded central
 * server; reads the address and secret from its first line of output. It runs
 * the harness's bundle (dist/main/harness.cjs) in plain Node, as `npm start`
 * does, built first when it is missing or older than its sources.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface RunningHarness {
  url: string;
  openUrl: string;
  secret: string;
  serverUrl: string | null;
  dataDir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export const ROOT = join(import.meta.dirname, '..');
/** scripts/dev-web.ts bundled by scripts/build.mjs. */
export const HARNESS_BUNDLE = join(ROOT, 'dist', 'main', 'harness.cjs');

/** Builds what is missing or stale (`node scripts/build.mjs --if-stale`: the renderer, the bundles). */
export function buildIfStale(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--if-stale'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`scripts/build.mjs --if-stale failed (${r.status ?? r.signal})`);
}

export function startHarness(args: string[] = [], dataDir = mkdtempSync(join(tmpdir(), 'qyzmet-e2e-'))) {
  buildIfStale();
  const child = spawn(process.execPath, [HARNESS_BUNDLE, '--json', '--data-dir', dataDir, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise<RunningHarness>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error('the harness did not start within 120 s')), 120_000);
    child.once('exit', (code) => reject(new Error(`the harness exited with ${code}`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      const info = JSON.parse(line) as Omit<RunningHarness, 'child' | 'stop'>;
      resolve({
        ...info,
        child,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
