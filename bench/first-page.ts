/**
 * `journal.first_page_ms` of `npm run bench`: the app started on the journal
 * bench's database of 1,000,000 applications (bench/journal.ts) in the
 * browser harness (scripts/dev-web.ts, the real services over the loopback
 * bridge, offline; run from its bundle dist/main/harness.cjs in plain Node,
 * as `npm start` runs it, built before the clock starts when it is stale),
 * Debian's Chromium driven by Playwright, to the first journal page painted
 * for the demo head (her office holds 200,000 of them).
 *
 * The figure is the app's time, not the person's: from the harness process's
 * spawn to the login screen ready (form visible), plus from the login
 * submitted to the first journal rows in the DOM and a frame painted
 * (requestAnimationFrame). The typing in between is left out. Printed with
 * its parts: the harness up (bridge listening), the page to the login screen,
 * the login call itself, the journal after it.
 *
 * Each start follows a clean close of the previous one, as on a provider's
 * desktop; the first start of a fresh data folder (demo key file, demo
 * passwords, the daily backup after the integrity check) is a warm-up and
 * waits until the background check has finished. It also leaves V8's code
 * cache of the harness's bundle (scripts/build.mjs), which the next starts
 * use, as an installed app's second start does. The browser is started
 * once, before the harness (it is not the app).
 *
 * Baseline: the same on the copy of the database without the journal's
 * indexes (bench/journal.ts baselineCopy).
 *
 * QYZMET_BENCH_TRACE=1 prints every request of the page with its time.
 */
import { CHROMIUM } from '../playwright.config.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser } from '@playwright/test';
import { median, type Report } from './report.js';

const ROOT = join(import.meta.dirname, '..');
const LOGIN = 'head.demo';
const PASSWORD = 'Qyzmet2026';

interface Harness {
  child: ChildProcess;
  url: string;
  openUrl: string;
  secret: string;
  /** ms from spawn to the harness's first line (bridge listening). */
  upMs: number;
  stop(): Promise<void>;
}

function startHarness(dataDir: string, t0: number): Promise<Harness> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'dist', 'main', 'harness.cjs'),
      '--json',
      '--no-server',
      '--demo',
      '1', // the demo start (demo passwords); the database is not empty, so nothing is generated
      '--data-dir',
      dataDir,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise<Harness>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const onExit = (code: number | null) => reject(new Error(`the harness exited with ${code}`));
    child.once('exit', onExit);
    lines.once('line', (line) => {
      child.off('exit', onExit);
      const info = JSON.parse(line) as { url: string; openUrl: string; secret: string };
      resolve({
        child,
        ...info,
        upMs: performance.now() - t0,
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

/** Waits until the background integrity check (and the daily backup after it) has finished. */
async function checkFinished(h: Harness): Promise<string> {
  const until = performance.now() + 15 * 60_000;
  while (performance.now() < until) {
    const r = await fetch(`${h.url}/rpc/app.info`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.secret}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const body = (await r.json()) as { ok: boolean; value?: { database: { check: string } } };
    const state = body.value?.database.check ?? 'unknown';
    if (state !== 'running') return state;
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error('bench: the integrity check did not finish within 15 minutes');
}

export interface FirstPageRun {
  total: number;
  up: number;
  loginScreen: number;
  loginCall: number;
  afterLogin: number;
  rows: number;
}

async function oneStart(browser: Browser, dataDir: string, warmUp: boolean): Promise<FirstPageRun> {
  // The browser's own start (context, tab) is not the app's: it is ready before the clock starts.
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const t0 = performance.now();
  const harness = await startHarness(dataDir, t0);
  try {
    let loginSent = 0;
    let loginAnswered = 0;
    page.on('request', (r) => {
      if (r.url().endsWith('/rpc/auth.loginPassword')) loginSent = performance.now();
    });
    page.on('requestfinished', (r) => {
      if (r.url().endsWith('/rpc/auth.loginPassword')) loginAnswered = performance.now();
      if (process.env.QYZMET_BENCH_TRACE) {
        const t = r.timing();
        console.log(
          `# trace ${(performance.now() - t0).toFixed(0)} ms ${r.url().replace(/^.*\/\/[^/]+/, '')} ${t.responseEnd.toFixed(0)} ms`,
        );
      }
    });
    await page.goto(harness.openUrl);
    await page.getByTestId('login-form').waitFor({ state: 'visible', timeout: 120_000 });
    const loginReady = performance.now();

    // The person types (not the app's time).
    await page.getByTestId('login-name').fill(LOGIN);
    await page.getByTestId('login-password').fill(PASSWORD);

    const submitted = performance.now();
    await page.getByTestId('login-submit').click();
    await page.locator('[data-testid="journal-row"]').first().waitFor({ state: 'attached', timeout: 120_000 });
    await page.evaluate('new Promise((done) => requestAnimationFrame(() => done()))');
    const painted = performance.now();
    const rows = await page.locator('[data-testid="journal-row"]').count();
    if (warmUp) await checkFinished(harness);
    return {
      total: loginReady - t0 + (painted - submitted),
      up: harness.upMs,
      loginScreen: loginReady - t0 - harness.upMs,
      loginCall: loginAnswered - loginSent,
      afterLogin: painted - submitted,
      rows,
    };
  } finally {
    await context.close();
    await harness.stop();
  }
}

/** Starts the app `runs` times on a copy of `database` (after a warm-up start) and returns the median run. */
export async function firstPagePainted(database: string, dir: string, runs: number): Promise<FirstPageRun> {
  const dataDir = join(dir, `first-page-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dataDir, { recursive: true });
  copyFileSync(database, join(dataDir, 'qyzmet.db'));
  // The renderer and the harness's bundle, when missing or older than their sources (not timed).
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--if-stale'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (built.status !== 0) throw new Error('bench: scripts/build.mjs --if-stale failed');
  const browser = await chromium.launch(CHROMIUM);
  try {
    await oneStart(browser, dataDir, true);
    const samples: FirstPageRun[] = [];
    for (let i = 0; i < runs; i++) samples.push(await oneStart(browser, dataDir, false));
    const pick = (k: keyof FirstPageRun) => median(samples.map((s) => s[k]));
    return {
      total: pick('total'),
      up: pick('up'),
      loginScreen: pick('loginScreen'),
      loginCall: pick('loginCall'),
      afterLogin: pick('afterLogin'),
      rows: pick('rows'),
    };
  } finally {
    await browser.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function describe(r: FirstPageRun): string {
  return (
    `harness up ${r.up.toFixed(0)} ms + login screen ready ${r.loginScreen.toFixed(0)} ms; ` +
    `login submitted → ${r.rows} rows painted ${r.afterLogin.toFixed(0)} ms (the login call ${r.loginCall.toFixed(0)} ms of it)`
  );
}

/** `journal.first_page_ms`: on the journal bench's database, baseline on its copy without the journal indexes. */
export async function benchFirstPage(
  report: Report,
  dir: string,
  database: string,
  baselineDatabase: string,
  runs: number,
): Promise<void> {
  const fast = await firstPagePainted(database, dir, runs);
  console.log(`# journal.first_page_ms: ${describe(fast)}`);
  const slow = await firstPagePainted(baselineDatabase, dir, Math.min(runs, 3));
  console.log(`# journal.first_page_ms without the journal indexes: ${describe(slow)}`);
  report.add('journal.first_page_ms', fast.total, 'ms', slow.total);
}
