/**
 * Login through the real login screen: by password (a wrong one first, in the
 * provider guide's own words), lock and unlock, logout; by EDS with a key file
 * (whose certificate shows before signing) and with a SoftHSM2 token; the
 * administrator resets a password and the user must change it. All of it
 * checked by the central server; then a second workstation whose way to the
 * server is cut (a fault proxy): by password and by EDS offline, marked so.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { DEMO_HEAD, DEMO_USERS } from '#demo/generate.js';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { certificateDer } from '#signing/index.js';
import { createSoftHsm } from '#signing/testing/softhsm.js';
import { E2E_KEYFILE_PASSWORD, E2E_PIN } from './global-setup';
import { ROOT, startHarness } from './harness';
import { startFaultProxy } from '#server/src/testing/fault-proxy.js';
import { DEMO_ENROLMENT } from '#main/auth/demo.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the e2e global setup did not run`);
  return value;
};

/** The harness's session lives in main: end it over the bridge, then load the app afresh at the login screen. */
async function openLoginScreen(page: Page): Promise<void> {
  const res = await page.request.post(`${env('QYZMET_E2E_URL')}/rpc/auth.logout`, {
    headers: { Authorization: `Bearer ${env('QYZMET_E2E_SECRET')}` },
    data: {},
  });
  expect(res.status()).toBe(200);
  // A fresh load: the same address with a new fragment would not reload the app.
  await page.goto('about:blank');
  await page.goto(env('QYZMET_E2E_OPEN_URL'));
  await expect(page.getByTestId('login-form')).toBeVisible();
}

async function loginWith(page: Page, login: string, password: string): Promise<void> {
  await openLoginScreen(page);
  await page.getByTestId('login-name').fill(login);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('topbar').or(page.getByTestId('forced-password-change'))).toBeVisible();
}

async function text(page: Page, key: string): Promise<string> {
  const lang = (await page.locator('html').getAttribute('lang')) ?? 'kk';
  const file = join(ROOT, 'renderer', 'src', 'i18n', `${lang}.json`);
  return (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>)[key]!;
}

test('by password: a wrong one in the guide’s words, then in; lock, unlock, logout', async ({ page }) => {
  await openLoginScreen(page);
  await page.getByTestId('login-name').fill(DEMO_USERS.head.login);
  await page.getByTestId('login-password').fill('not-the-password');
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('login-error')).toContainText(await text(page, 'messages.wrongLoginOrPassword'));
  await expect(page.getByTestId('login-password')).toHaveValue('');

  await page.getByTestId('login-password').fill(DEMO_PASSWORD);
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('user-name')).toHaveText(/Сәрсенбаева/);
  // Checked by the central server: the session is not marked offline.
  await expect(page.getByTestId('session-offline')).toHaveCount(0);

  await page.getByTestId('session-lock').click();
  await expect(page.getByTestId('lock-screen')).toBeVisible();
  await page.getByTestId('unlock-secret').fill('wrong');
  await page.getByTestId('unlock-submit').click();
  await expect(page.getByTestId('unlock-error')).toBeVisible();
  await page.getByTestId('unlock-secret').fill(DEMO_PASSWORD);
  await page.getByTestId('unlock-submit').click();
  await expect(page.getByTestId('user-name')).toHaveText(/Сәрсенбаева/);

  await page.getByTestId('session-logout').click();
  await expect(page.getByTestId('login-form')).toBeVisible();
});

test('by EDS with a key file: whose certificate it is, then Sign', async ({ page }) => {
  await openLoginScreen(page);
  await page.getByTestId('login-mode-eds').click();
  await page.getByTestId('eds-file').setInputFiles(env('QYZMET_E2E_AUTH_KEYFILE'));
  await page.getByTestId('eds-password').fill(E2E_KEYFILE_PASSWORD);
  await page.getByTestId('eds-open').click();
  await expect(page.getByTestId('cert-iin')).toHaveText(DEMO_HEAD.iin);
  await page.getByTestId('eds-sign').click();
  await expect(page.getByTestId('user-name')).toHaveText(/Сәрсенбаева/);
  await expect(page.getByTestId('session-offline')).toHaveCount(0);
});

test('by EDS with a key file meant for signing: refused with the signer’s message', async ({ page }) => {
  await openLoginScreen(page);
  await page.getByTestId('login-mode-eds').click();
  await page.getByTestId('eds-file').setInputFiles(env('QYZMET_E2E_KEYFILE'));
  await page.getByTestId('eds-password').fill(E2E_KEYFILE_PASSWORD);
  await page.getByTestId('eds-open').click();
  await expect(page.getByTestId('eds-error')).toContainText(await text(page, 'errors.signing.wrongKeyUsage'));
});

test('by EDS with a token: the authentication key chosen, a wrong PIN, then the right one', async ({ page }) => {
  // A token of its own with the demo head's authentication key (the signing tests count the shared token's keys).
  const hsm = createSoftHsm(env('QYZMET_E2E_SOFTHSM_DIR'));
  const pki = env('QYZMET_E2E_PKI_DIR');
  hsm.initToken('LOGIN TOKEN', '11223344', E2E_PIN);
  hsm.importKey('LOGIN TOKEN', E2E_PIN, {
    keyPem: readFileSync(join(pki, 'demo-head-auth.key'), 'utf8'),
    certDer: certificateDer(readFileSync(join(pki, 'demo-head-auth.pem'), 'utf8')),
    id: 'c3d4',
    label: 'demo-head-auth',
  });
  try {
    await openLoginScreen(page);
    await page.getByTestId('login-mode-eds').click();
    await page.getByTestId('eds-mode-token').click();
    const auth = page.getByTestId('eds-key').filter({ hasText: 'LOGIN TOKEN' });
    await expect(auth).toBeVisible();
    await auth.locator('input[type=radio]').check();
    await expect(page.getByTestId('eds-sign-key-warning')).toHaveCount(0);
    await page.getByTestId('eds-pin').fill('000000');
    await page.getByTestId('eds-sign').click();
    await expect(page.getByTestId('eds-error')).toContainText('pinIncorrect');
    await page.getByTestId('eds-pin').fill(E2E_PIN);
    await page.getByTestId('eds-sign').click();
    await expect(page.getByTestId('user-name')).toHaveText(/Сәрсенбаева/);
  } finally {
    hsm.deleteToken('LOGIN TOKEN');
  }
});

test('the monitoring officer sees no admin screen; the administrator resets a password, the user must change it', async ({
  page,
}) => {
  await loginWith(page, DEMO_USERS.monitoring.login, DEMO_PASSWORD);
  await expect(page.getByTestId('nav-users')).toHaveCount(0);
  await loginWith(page, DEMO_USERS.admin.login, DEMO_PASSWORD);
  await page.getByTestId('nav-users').click();
  const clerk = page.locator(`[data-testid=admin-user-row][data-login="${DEMO_USERS.clerk.login}"]`);
  await clerk.getByTestId('admin-reset').click();
  await clerk.getByTestId('admin-confirm').click();
  const temporary = (await page.getByTestId('admin-temp-password-value').textContent())?.trim() ?? '';
  expect(temporary).toMatch(/^[A-Za-z2-9]{12}$/);

  await loginWith(page, DEMO_USERS.clerk.login, temporary);
  await expect(page.getByTestId('forced-password-change')).toBeVisible();
  await page.getByTestId('change-password-current').fill(temporary);
  await page.getByTestId('change-password-next').fill('short');
  await page.getByTestId('change-password-repeat').fill('short');
  await page.getByTestId('change-password-submit').click();
  await expect(page.getByTestId('change-password-rule').first()).toBeVisible();
  await page.getByTestId('change-password-next').fill(DEMO_PASSWORD);
  await page.getByTestId('change-password-repeat').fill(DEMO_PASSWORD);
  await page.getByTestId('change-password-submit').click();
  await expect(page.getByTestId('topbar')).toBeVisible();
});

test('with the central server out of reach: by password, key file and token, offline and marked so', async ({
  page,
}) => {
  // A second workstation of the office, reaching the server through a proxy the test cuts.
  const proxy = await startFaultProxy(env('QYZMET_E2E_SERVER_URL'));
  const dataDir = join(mkdtempSync(join(tmpdir(), 'qyzmet-e2e-desk-')), 'data');
  mkdirSync(dataDir, { recursive: true });
  cpSync(join(env('QYZMET_E2E_DATA_DIR'), 'crl'), join(dataDir, 'crl'), { recursive: true });
  const desk = await startHarness(['--demo', '0', '--server', proxy.url], dataDir);
  const hsm = createSoftHsm(env('QYZMET_E2E_SOFTHSM_DIR'));
  const pki = env('QYZMET_E2E_PKI_DIR');
  let tokenMade = false;
  try {
    const rpc = async (channel: string, data: unknown) => {
      const res = await page.request.post(`${desk.url}/rpc/${channel}`, {
        headers: { Authorization: `Bearer ${desk.secret}` },
        data,
      });
      return (await res.json()) as { ok: boolean; error?: { code: string } };
    };
    expect(await rpc('sync.enrol', { ...DEMO_ENROLMENT })).toMatchObject({ ok: true });
    expect(await rpc('sync.now', {})).toMatchObject({ ok: false, error: { code: 'noSession' } });
    await page.goto(desk.openUrl);
    const login = async (password: string) => {
      await expect(page.getByTestId('login-form')).toBeVisible({ timeout: 30_000 });
      await page.getByTestId('login-name').fill(DEMO_USERS.head.login);
      await page.getByTestId('login-password').fill(password);
      await page.getByTestId('login-submit').click();
    };
    // Online first: the server knows her; this workstation keeps her hash for later.
    await login(DEMO_PASSWORD);
    await expect(page.getByTestId('user-name')).toHaveText(/Сәрсенбаева/, { timeout: 30_000 });
    await expect(page.getByTestId('session-offline')).toHaveCount(0);
    await page.getByTestId('session-logout').click();

    // The connection drops: the same password works offline, and the session says so.
    proxy.setDefault({ kind: 'dropBeforeForward' });
    await login('not-the-password');
    await expect(page.getByTestId('login-error')).toContainText(await text(page, 'messages.wrongLoginOrPassword'));
    await login(DEMO_PASSWORD);
    await expect(page.getByTestId('user-name')).toHaveText(/Сәрсенбаева/);
    await expect(page.getByTestId('session-offline')).toBeVisible();
    await page.getByTestId('session-logout').click();

    // By EDS offline: her authentication key file, checked against the synced directory and the cached CRL.
    await expect(page.getByTestId('login-form')).toBeVisible();
    await page.getByTestId('login-mode-eds').click();
    await page.getByTestId('eds-file').setInputFiles(env('QYZMET_E2E_AUTH_KEYFILE'));
    await page.getByTestId('eds-password').fill(E2E_KEYFILE_PASSWORD);
    await page.getByTestId('eds-open').click();
    await expect(page.getByTestId('cert-iin')).toHaveText(DEMO_HEAD.iin);
    await page.getByTestId('eds-sign').click();
    await expect(page.getByTestId('user-name')).toHaveText(/Сәрсенбаева/);
    await expect(page.getByTestId('session-offline')).toBeVisible();
    await page.getByTestId('session-logout').click();

    // By EDS offline with a token: the same authentication key on a SoftHSM2 token.
    hsm.initToken('DESK TOKEN', '11223344', E2E_PIN);
    tokenMade = true;
    hsm.importKey('DESK TOKEN', E2E_PIN, {
      keyPem: readFileSync(join(pki, 'demo-head-auth.key'), 'utf8'),
      certDer: certificateDer(readFileSync(join(pki, 'demo-head-auth.pem'), 'utf8')),
      id: 'c5d6',
      label: 'demo-head-auth',
    });
    await expect(page.getByTestId('login-form')).toBeVisible();
    await page.getByTestId('login-mode-eds').click();
    await page.getByTestId('eds-mode-token').click();
    const key = page.getByTestId('eds-key').filter({ hasText: 'DESK TOKEN' });
    await expect(key).toBeVisible({ timeout: 20_000 });
    await key.locator('input[type=radio]').check();
    await page.getByTestId('eds-pin').fill(E2E_PIN);
    await page.getByTestId('eds-sign').click();
    await expect(page.getByTestId('user-name')).toHaveText(/Сәрсенбаева/);
    await expect(page.getByTestId('session-offline')).toBeVisible();
  } finally {
    // Only when the test got as far as making it (a failure before would be hidden otherwise).
    if (tokenMade) hsm.deleteToken('DESK TOKEN');
    await desk.stop();
    await proxy.close();
  }
});
