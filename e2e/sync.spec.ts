/**
 * Sync through the real app: a central server (the embedded one, seeded with
 * the demo office), the office's own workstation ("office", driven through
 * its bridge as a second device) and the workstation under test ("desk", in
 * Chromium), which reaches the server through a fault proxy on loopback that
 * the test cuts to take it offline. Both workstations start empty: their
 * users and applications come from the server.
 *
 * The desk is enrolled from the login screen (a wrong administrator's password
 * first: refused, and the password field emptied); the head logs in, sees it
 * enrolled in her office in the sync panel, and "Sync now" moves the last
 * sync. Then a conflict: while the desk is offline, the head reassigns an
 * application on the office workstation, and the executor, still responsible
 * in the desk's copy, accepts it there. Back online, the server rejects the
 * accept ("reassigned"): the top bar's badge and the panel show it with its
 * reason; retried, it is rejected again as a new change at the end of the
 * queue; discarded (with a comment), it leaves the list and the queue, the
 * discard itself sent to the server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { CallInput, CallOutput, CallResult, Channel } from '#preload/api.js';
import { pgliteSql, type Sql } from '#server/src/postgres/sql.js';
import { startServer, type RunningServer } from '#server/src/server.js';
import { startFaultProxy, type FaultProxy } from '#server/src/testing/fault-proxy.js';
import { ROOT, startHarness, type RunningHarness } from './harness';
import { DEMO_PASSWORD } from './login';

/** The demo head's office (demo/generate.ts: its first provider). */
const OFFICE = 'prov-astana-employment';
const EXECUTOR_ID = 'user-executor-demo';
/** Applications the central server's demo seed makes: enough for a few at the office still "received" (4 at 3,000). */
const SERVER_APPLICATIONS = 3000;

type Catalogue = Record<string, string>;
const catalogue = (lang: string): Catalogue =>
  JSON.parse(readFileSync(join(ROOT, 'renderer', 'src', 'i18n', `${lang}.json`), 'utf8')) as Catalogue;

/** A main call over a workstation's loopback bridge, as its renderer makes it. */
async function rpc<C extends Channel>(ws: RunningHarness, channel: C, input: CallInput<C>): Promise<CallOutput<C>> {
  const res = await fetch(`${ws.url}/rpc/${channel}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ws.secret}` },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as CallResult<C>;
  if (!body.ok) throw new Error(`${channel} failed: ${body.error.code} (${body.error.messageKey})`);
  return body.value;
}

/** Logs `login` in on the desk through the login screen (whoever was in logs out first). */
async function loginOnDesk(page: Page, desk: RunningHarness, login: string): Promise<void> {
  await page.goto(desk.openUrl);
  const logout = page.getByTestId('session-logout');
  const form = page.getByTestId('login-form');
  await expect(logout.or(form).first()).toBeVisible({ timeout: 30_000 });
  if (await logout.isVisible()) await logout.click();
  await expect(form).toBeVisible();
  await page.getByTestId('login-name').fill(login);
  await page.getByTestId('login-password').fill(DEMO_PASSWORD);
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('journal')).toBeVisible({ timeout: 30_000 });
}

async function openPanel(page: Page): Promise<void> {
  await page.getByTestId('nav-sync').click();
  await expect(page.getByTestId('sync-panel')).toBeVisible();
  await expect(page.getByTestId('sync-enrolment')).toBeVisible();
}

/** Presses "Sync now" and waits for its run to end. */
async function syncNow(page: Page): Promise<void> {
  const button = page.getByTestId('sync-now');
  await expect(button).toBeEnabled({ timeout: 30_000 });
  await button.click();
  await expect(button).toBeEnabled({ timeout: 30_000 });
}

/** The exact moment a panel time stands for (its `datetime`), or null for "never". */
async function momentOf(page: Page, testId: string): Promise<number | null> {
  const iso = await page.getByTestId(testId).getAttribute('datetime');
  return iso ? Date.parse(iso) : null;
}

/** Fills and sends an enrolment form (the login screen's or the panel's). */
async function enrol(form: ReturnType<Page['getByTestId']>, password: string): Promise<void> {
  const office = form.getByTestId('sync-enrol-provider');
  if ((await office.evaluate((el) => el.tagName)) === 'SELECT') await office.selectOption(OFFICE);
  else await office.fill(OFFICE);
  await form.getByTestId('sync-enrol-name').fill('E2E desk');
  await form.getByTestId('sync-enrol-login').fill('head.demo');
  await form.getByTestId('sync-enrol-password').fill(password);
  await form.getByTestId('sync-enrol-submit').click();
}

/** Runs sync on the office workstation and fails when the server rejected any of its changes. */
async function officeSync(office: RunningHarness, why: string): Promise<void> {
  const details = await rpc(office, 'sync.now', {});
  const refused = details.rejected.map((r) => `${r.op} ${r.entityId}: ${r.reason} ${r.message ?? ''}`);
  expect(refused, `the central server refused the office's changes (${why})`).toEqual([]);
}

test.describe.configure({ mode: 'serial' });

let database: Sql;
let server: RunningServer;
let proxy: FaultProxy;
let office: RunningHarness;
let desk: RunningHarness;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  // A database of its own (never a DATABASE_URL the environment may name): this test changes it.
  database = await pgliteSql(null);
  server = await startServer({ sql: database, seed: 'demo', demoApplications: SERVER_APPLICATIONS, log: () => {} });
  proxy = await startFaultProxy(server.url);
  office = await startHarness(['--demo', '0', '--server', server.url]);
  desk = await startHarness(['--demo', '0', '--server', proxy.url]);
});

test.afterAll(async () => {
  await desk?.stop();
  await office?.stop();
  await proxy?.close();
  await server?.close();
  await database?.close();
});

test('the desk is enrolled in the office; the panel shows it; "Sync now" syncs', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto(desk.openUrl);
  await expect(page.getByTestId('login-form')).toBeVisible({ timeout: 30_000 });

  // A fresh workstation has nobody to log in: it is enrolled from the login screen.
  const start = page.getByTestId('sync-prelogin-enrol');
  await expect(start).toBeVisible({ timeout: 15_000 });
  await start.click();
  const dialog = page.getByTestId('sync-prelogin-dialog');
  const form = dialog.getByTestId('sync-enrol-form');
  await enrol(form, 'not-the-password-1');
  await expect(form.getByTestId('sync-enrol-error')).toBeVisible({ timeout: 30_000 });
  await expect(form.getByTestId('sync-enrol-password')).toHaveValue('');
  await form.getByTestId('sync-enrol-password').fill(DEMO_PASSWORD);
  await form.getByTestId('sync-enrol-submit').click();
  await expect(dialog).toHaveCount(0, { timeout: 30_000 });
  await expect(page.getByTestId('sync-prelogin-enrolled')).toBeVisible();

  // The head logs in (checked by the server) and finds the workstation enrolled in her office.
  await loginOnDesk(page, desk, 'head.demo');
  await page.getByTestId('lang-ru').click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru');
  await openPanel(page);
  await expect(page.getByTestId('sync-enrolment').locator('[data-enrolled]')).toHaveAttribute('data-enrolled', 'true');
  await expect(page.getByTestId('sync-enrol-form')).toHaveCount(0);
  await expect(page.getByTestId('sync-office')).toContainText(OFFICE);
  // Named as the synced directory names it, in the interface's language.
  await expect(page.getByTestId('sync-office')).toContainText(/[А-Яа-яӘәҚқ]{3,}/);
  await expect(page.getByTestId('sync-not-enrolled')).toHaveCount(0, { timeout: 15_000 });

  // The first sync brought both partitions: the global one and the office's.
  await expect(page.getByTestId('sync-partition')).toHaveCount(2, { timeout: 120_000 });
  await expect(page.locator(`[data-testid="sync-partition"][data-partition="provider:${OFFICE}"]`)).toBeVisible();
  await expect.poll(() => momentOf(page, 'sync-last-sync'), { timeout: 120_000 }).not.toBeNull();

  const before = await momentOf(page, 'sync-last-sync');
  await page.waitForTimeout(1_100);
  await syncNow(page);
  await expect.poll(() => momentOf(page, 'sync-last-sync'), { timeout: 30_000 }).toBeGreaterThan(before ?? 0);
  await expect(page.getByTestId('sync-action-error')).toHaveCount(0);
  await expect(page.getByTestId('sync-state')).toHaveAttribute('data-connection', 'online', { timeout: 30_000 });
});

test('a change the server rejected is shown with its reason, retried, and discarded', async ({ page }) => {
  test.setTimeout(300_000);

  // The office workstation: enrolled (before anyone can log in there), then the head logs in.
  if (!(await rpc(office, 'sync.status', {})).enrolled) {
    await rpc(office, 'sync.enrol', {
      providerId: OFFICE,
      login: 'head.demo',
      password: DEMO_PASSWORD,
      name: 'E2E office',
    });
  }
  await expect
    .poll(
      async () => (await rpc(office, 'auth.loginPassword', { login: 'head.demo', password: DEMO_PASSWORD })).user?.id,
      {
        timeout: 60_000,
      },
    )
    .toBe('user-head-demo');
  // The desk's head (logged in by the first test) reads cards over its bridge.
  await rpc(desk, 'auth.loginPassword', { login: 'head.demo', password: DEMO_PASSWORD });

  // The office workstation picks a fresh application and another executor to reassign it to.
  await officeSync(office, 'first sync');
  const received = await rpc(office, 'journal.list', {
    page: 0,
    pageSize: 20,
    status: 'received',
    sort: 'submittedAt',
    direction: 'desc',
  });
  const target = received.rows[0];
  if (!target) throw new Error('the office has no application in "received" to work on');
  const executors = (await rpc(office, 'staff.list', { providerId: OFFICE })).staff.filter((s) =>
    s.roles.includes('executor'),
  );
  const other = executors.find((s) => s.userId !== EXECUTOR_ID);
  if (!other) throw new Error(`${OFFICE} has no second executor to reassign to`);

  // The demo executor becomes responsible; the server takes it and the desk pulls it.
  const first = await rpc(office, 'application.assign', {
    applications: [{ id: target.id }],
    responsibleUserId: EXECUTOR_ID,
  });
  expect(
    first.results.every((r) => r.ok),
    JSON.stringify(first.results),
  ).toBe(true);
  await officeSync(office, `assigning ${target.number} to the demo executor`);
  const responsibleOnDesk = async () => {
    await rpc(desk, 'sync.now', {});
    return (await rpc(desk, 'application.card', { id: target.id })).header.responsible?.userId ?? null;
  };
  await expect.poll(responsibleOnDesk, { timeout: 60_000 }).toBe(EXECUTOR_ID);

  // The executor logs in on the desk (checked by the server); then the desk goes offline, and
  // meanwhile the head reassigns the application on the office workstation.
  await loginOnDesk(page, desk, 'executor.demo');
  await page.getByTestId('lang-ru').click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru');
  proxy.setDefault({ kind: 'dropBeforeForward' });
  const second = await rpc(office, 'application.assign', {
    applications: [{ id: target.id }],
    responsibleUserId: other.userId,
  });
  expect(
    second.results.every((r) => r.ok),
    JSON.stringify(second.results),
  ).toBe(true);
  await officeSync(office, `reassigning ${target.number}`);

  // On the desk, still responsible in its copy, the executor accepts it: queued, not sent.
  await page.getByTestId('journal-search').fill(target.number);
  const link = page.getByTestId('journal-open').filter({ hasText: target.number });
  await expect(link).toHaveCount(1);
  await link.click();
  await expect(page.getByTestId('card')).toHaveAttribute('data-status', 'received');
  await page.getByTestId('action-accept').click();
  await expect(page.getByTestId('card')).toHaveAttribute('data-status', 'in_processing');
  await openPanel(page);
  await expect(page.getByTestId('sync-queue-depth')).not.toHaveText('0');
  await expect(page.getByTestId('sync-rejected-empty')).toBeVisible();

  // Back online: the push is refused for a business reason, and the top bar says so.
  proxy.reset();
  await syncNow(page);
  const rows = page.getByTestId('sync-rejected-row');
  await expect(rows).toHaveCount(1, { timeout: 60_000 });
  const row = rows.first();
  await expect(row).toHaveAttribute('data-reason', 'reassigned');
  await expect(row).toHaveAttribute('data-op', 'application.transition');
  const words = catalogue('ru');
  await expect(row.getByTestId('sync-rejected-reason')).toHaveText(words['sync.reason.reassigned'] ?? '');
  await expect(row.getByTestId('sync-rejected-subject')).toContainText(target.number);
  await expect(row.getByTestId('sync-rejected-op')).toHaveText(words['sync.op.application.transition'] ?? '');
  await expect(page.getByTestId('sync-rejected-empty')).toHaveCount(0);

  // The badge in the top bar counts it and opens the panel from anywhere.
  await page.getByTestId('nav-journal').click();
  await expect(page.getByTestId('sync-panel')).toHaveCount(0);
  const badge = page.getByTestId('sync-rejected-badge');
  await expect(badge).toBeVisible({ timeout: 15_000 });
  await expect(badge).toContainText('1');
  await badge.click();
  await expect(page.getByTestId('sync-panel')).toBeVisible();
  await expect(rows).toHaveCount(1);
  await page.screenshot({ path: join(ROOT, 'docs', 'screenshots', 'sync.png') });

  // "Open application" leads to its card.
  await row.getByTestId('sync-open-application').click();
  await expect(page.getByTestId('card')).toBeVisible();
  await openPanel(page);

  // Retried while still reassigned: queued again as a new change, and rejected again.
  const seqOf = async () => Number((await rows.first().getAttribute('data-seq')) ?? 0);
  const firstSeq = await seqOf();
  await rows.first().getByTestId('sync-retry').click();
  await expect(page.getByTestId('sync-action-done')).toHaveText(words['sync.done.retried'] ?? '');
  await syncNow(page);
  await expect.poll(seqOf, { timeout: 60_000 }).toBeGreaterThan(firstSeq);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute('data-reason', 'reassigned');

  // Discarded, with a comment: it leaves the list; the discard itself goes to the server.
  await rows.first().getByTestId('sync-discard').click();
  const dialog = page.getByTestId('sync-discard-dialog');
  await expect(dialog).toContainText(words['sync.discard.explain'] ?? '');
  await dialog.getByTestId('sync-discard-comment').fill('Reassigned by the head meanwhile: nothing to keep.');
  await dialog.getByTestId('sync-discard-confirm').click();
  await expect(page.getByTestId('sync-action-done')).toHaveText(words['sync.done.discarded'] ?? '');
  await expect(rows).toHaveCount(0, { timeout: 15_000 });
  await expect(page.getByTestId('sync-rejected-empty')).toBeVisible();
  await syncNow(page);
  await expect(page.getByTestId('sync-queue-depth')).toHaveText('0', { timeout: 30_000 });
  await expect(page.getByTestId('sync-rejected-badge')).toHaveCount(0, { timeout: 15_000 });
  await expect(page.getByTestId('sync-action-error')).toHaveCount(0);
});
