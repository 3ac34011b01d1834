/**
 * The local database's integrity check runs after the start, in a worker
 * thread. On a damaged file (made here: a workstation's database with its
 * backup, then pages of its settings table overwritten) the app opens, says
 * so on the login screen, in the user's language, naming the backup, and
 * refuses a change (a login's record of its attempt included) with the same
 * message.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { damageDatabase } from '#db/testing/damage.js';
import { DEMO_USERS } from '#demo/generate.js';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { startHarness, type RunningHarness } from './harness';

let harness: RunningHarness;
let backup: string;
let dbPath: string;

test.beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'qyzmet-e2e-damaged-'));
  dbPath = join(dataDir, 'qyzmet.db');
  // A demo workstation (offline), closed cleanly.
  const first = await startHarness(['--no-server', '--demo', '300'], dataDir);
  await first.stop();
  // Rows in a table the login does not read, a backup, then damage to that table's pages.
  ({ backup } = await damageDatabase(dbPath));
  harness = await startHarness(['--no-server', '--demo', '300'], dataDir);
});

test.afterAll(async () => {
  await harness?.stop();
});

test('a damaged database opens, says so with the backup, and refuses changes', async ({ page }) => {
  expect(backup).toBeTruthy();
  await page.goto(harness.openUrl);
  await expect(page.getByTestId('login-form')).toBeVisible();
  // The check finishes after the start: the login screen shows what it found.
  const banner = page.getByTestId('database-damaged');
  await expect(banner).toBeVisible({ timeout: 20_000 });
  await expect(banner).toContainText(backup);
  await expect(banner).toContainText(dbPath);
  await page.getByTestId('lang-en').click();
  await expect(banner).toContainText('is damaged');

  // A login records its attempt (the throttle, main/auth/throttle.ts): refused too, with the same words.
  await page.getByTestId('login-name').fill(DEMO_USERS.head.login);
  await page.getByTestId('login-password').fill(DEMO_PASSWORD);
  await page.getByTestId('login-submit').click();
  const refusal = page.getByTestId('login-form').getByRole('alert');
  await expect(refusal).toContainText(backup);
  await expect(refusal).toContainText('Nothing can be saved');
  await expect(page.getByTestId('journal')).toHaveCount(0);

  // Any other change is refused in main with the same message.
  const res = await page.request.post(`${harness.url}/rpc/preferences.set`, {
    headers: { Authorization: `Bearer ${harness.secret}` },
    data: { theme: 'dark' },
  });
  const answer = (await res.json()) as {
    ok: boolean;
    error?: { messageKey: string; details?: Record<string, string> };
  };
  expect(answer).toMatchObject({
    ok: false,
    error: { messageKey: 'errors.database.damaged', details: { path: dbPath, backup } },
  });
});
