/**
 * The workstation and the central server over HTTPS: a server with a
 * certificate from a CA made by openssl for this run, and two fresh desks
 * (browser harnesses) reaching it. The one pinning that CA is enrolled from
 * the login screen and the head logs in, checked by the server (not marked
 * offline). The one pinning another CA is refused at enrolment, in the
 * interface's words for an untrusted certificate.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { DEMO_USERS } from '#demo/generate.js';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { tlsTestCa } from '#main/net/testing.js';
import { pgliteSql, type Sql } from '#server/src/postgres/sql.js';
import { startServer, type RunningServer } from '#server/src/server.js';
import { ROOT, startHarness, type RunningHarness } from './harness';

const OFFICE = 'prov-astana-employment';

const catalogue = (lang: string) =>
  JSON.parse(readFileSync(join(ROOT, 'renderer', 'src', 'i18n', `${lang}.json`), 'utf8')) as Record<string, string>;

test.describe.configure({ mode: 'serial' });

let dir: string;
let database: Sql;
let server: RunningServer;
let trusting: RunningHarness;
let pinnedElsewhere: RunningHarness;

test.beforeAll(async () => {
  test.setTimeout(240_000);
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-e2e-tls-'));
  const ca = tlsTestCa(join(dir, 'ca'));
  const other = tlsTestCa(join(dir, 'other'), 'Another CA');
  const cert = ca.issue('server', ['IP:127.0.0.1', 'DNS:localhost']);
  database = await pgliteSql(null);
  server = await startServer({
    sql: database,
    seed: 'demo',
    demoApplications: 200,
    tls: { cert: cert.cert, key: cert.key },
    log: () => {},
  });
  trusting = await startHarness(['--demo', '0', '--server', server.url, '--server-ca', ca.caFile]);
  pinnedElsewhere = await startHarness(['--demo', '0', '--server', server.url, '--server-ca', other.caFile]);
});

test.afterAll(async () => {
  await pinnedElsewhere?.stop();
  await trusting?.stop();
  await server?.close();
  await database?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Opens the login screen's enrolment form and sends it with the office's head as administrator. */
async function enrolFromLoginScreen(page: Page, desk: RunningHarness) {
  await page.goto(desk.openUrl);
  await expect(page.getByTestId('login-form')).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('sync-prelogin-enrol').click();
  const dialog = page.getByTestId('sync-prelogin-dialog');
  const form = dialog.getByTestId('sync-enrol-form');
  const office = form.getByTestId('sync-enrol-provider');
  if ((await office.evaluate((el) => el.tagName)) === 'SELECT') await office.selectOption(OFFICE);
  else await office.fill(OFFICE);
  await form.getByTestId('sync-enrol-name').fill('E2E TLS desk');
  await form.getByTestId('sync-enrol-login').fill('head.demo');
  await form.getByTestId('sync-enrol-password').fill(DEMO_PASSWORD);
  await form.getByTestId('sync-enrol-submit').click();
  return { dialog, form };
}

test('a desk pinning the server’s CA enrols over HTTPS, and the head logs in checked by the server', async ({
  page,
}) => {
  test.setTimeout(180_000);
  expect(server.url).toMatch(/^https:\/\//);
  const { dialog } = await enrolFromLoginScreen(page, trusting);
  await expect(dialog).toHaveCount(0, { timeout: 60_000 });
  await expect(page.getByTestId('sync-prelogin-enrolled')).toBeVisible();

  await page.getByTestId('login-name').fill(DEMO_USERS.head.login);
  await page.getByTestId('login-password').fill(DEMO_PASSWORD);
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('journal')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('session-offline')).toHaveCount(0);
});

test('attack: a server whose certificate is not from the CA the desk pins — enrolment refused as untrusted', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const { form } = await enrolFromLoginScreen(page, pinnedElsewhere);
  const error = form.getByTestId('sync-enrol-error');
  await expect(error).toBeVisible({ timeout: 30_000 });
  const lang = (await page.locator('html').getAttribute('lang')) ?? 'kk';
  await expect(error).toContainText(catalogue(lang)['errors.sync.tlsUntrusted']!);
});
