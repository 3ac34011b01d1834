/**
 * The same journal in the real Electron shell, where the Electron binary is
 * installed (it cannot be downloaded on the build machines; see README).
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { ROOT } from './harness';

const binaryPresent = existsSync(join(ROOT, 'node_modules', 'electron', 'path.txt'));
const built = existsSync(join(ROOT, 'dist', 'main', 'main.cjs'));
const reason = !binaryPresent
  ? 'Electron binary not installed on this machine (its download is out of reach); the browser e2e tests cover the app'
  : 'dist/main/main.cjs missing: run `npm run build` first';

test('Electron: one hardened window shows the journal', async () => {
  if (!binaryPresent || !built) console.log(`skipped: ${reason}`);
  test.skip(!binaryPresent || !built, reason);
  const app = await electron.launch({
    args: [ROOT],
    env: { ...process.env, QYZMET_DATA_DIR: mkdtempSync(join(tmpdir(), 'qyzmet-electron-')), QYZMET_DEMO: '500' },
  });
  const window = await app.firstWindow();
  await expect(window.getByTestId('journal-row').first()).toBeVisible();
  expect(window.url()).toMatch(/^app:\/\/qyzmet\//);
  // No Node in the page, and only the contract's calls on window.qyzmet.
  expect(await window.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
  expect(await window.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
  expect(app.windows()).toHaveLength(1);
  await app.close();
});
