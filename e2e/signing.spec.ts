/**
 * Signing through the real dialog: the head selects applications in the
 * journal, picks her key on a SoftHSM2 token (whose certificate the dialog
 * shows before the PIN), types a wrong PIN and is told so, types the right
 * one, sees who signs and the revocation state, and signs the batch. The
 * signatures land in the local database and verify with xmlsec1 and
 * `openssl cms` against the tests' CA. Then the same with a key file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { DEMO_HEAD } from '#demo/generate.js';
import { createSoftHsm } from '#signing/testing/softhsm.js';
import { E2E_KEYFILE_PASSWORD, E2E_PIN } from './global-setup';
import { loginAs } from './login';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the e2e global setup did not run`);
  return value;
};

/** Logs the head in and selects the first `count` applications On signing (the journal's Sign signs only those). */
async function selectRows(page: Page, count: number): Promise<string[]> {
  await loginAs(page, 'head.demo');
  const rows = page.getByTestId('journal-row');
  await expect(rows.first()).toBeVisible();
  await page.getByTestId('journal-filter-status').selectOption('on_signing');
  await expect(page.locator('[data-testid="journal-row"]:not([data-status="on_signing"])')).toHaveCount(0);
  await expect(rows.nth(count - 1)).toBeVisible();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const row = rows.nth(i);
    ids.push((await row.getAttribute('data-id')) ?? '');
    await row.locator('input[type=checkbox]').check();
  }
  return ids;
}

function signaturesOf(ids: string[]): { application_id: string; format: string; signed: Buffer; signer_iin: string }[] {
  const db = new Database(join(env('QYZMET_E2E_DATA_DIR'), 'qyzmet.db'), { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(
        `SELECT application_id, format, signed, signer_iin FROM signatures
          WHERE application_id IN (${ids.map(() => '?').join(',')}) ORDER BY signed_at`,
      )
      .all(...ids) as { application_id: string; format: string; signed: Buffer; signer_iin: string }[];
  } finally {
    db.close();
  }
}

test('the head signs three applications with her token: one PIN, progress, a result per document', async ({ page }) => {
  const ids = await selectRows(page, 3);
  await page.getByTestId('journal-sign').click();
  const dialog = page.getByTestId('sign-dialog');
  await expect(dialog).toBeVisible();

  // Who will sign is shown before the PIN.
  await expect(dialog.getByTestId('cert-iin').first()).toHaveText(DEMO_HEAD.iin);
  await expect(dialog.getByTestId('cert-roles').first()).not.toBeEmpty();

  // A wrong PIN: a clear message, nothing signed, the dialog stays.
  await dialog.getByTestId('sign-pin').fill('000000');
  await dialog.getByTestId('sign-open').click();
  await expect(dialog.getByTestId('sign-error')).toContainText('pinIncorrect');
  await expect(dialog.getByTestId('sign-pin')).toHaveValue('');
  expect(signaturesOf(ids)).toHaveLength(0);

  await dialog.getByTestId('sign-pin').fill(E2E_PIN);
  await dialog.getByTestId('sign-open').click();
  await expect(dialog.getByTestId('cert-revocation')).toHaveAttribute('data-status', 'good');
  await page.screenshot({ path: 'docs/screenshots/signing.png' });
  await dialog.getByTestId('sign-start').click();

  await expect(dialog.getByTestId('sign-progress')).toHaveAttribute('data-state', 'finished', { timeout: 30_000 });
  await expect(dialog.getByTestId('sign-result')).toHaveCount(3);
  await expect(dialog.locator('.sign-results .is-failed')).toHaveCount(0);

  const saved = signaturesOf(ids);
  expect(saved.map((s) => s.application_id).sort()).toEqual([...ids].sort());
  expect(new Set(saved.map((s) => s.signer_iin))).toEqual(new Set([DEMO_HEAD.iin]));

  // A third party agrees: xmlsec1 verifies each XML signature against the tests' CA.
  const pki = env('QYZMET_E2E_PKI_DIR');
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-e2e-verify-'));
  for (const [i, s] of saved.entries()) {
    expect(s.format).toBe('xmldsig');
    const file = join(dir, `${i}.xml`);
    writeFileSync(file, s.signed);
    execFileSync(
      'xmlsec1',
      ['--verify', '--trusted-pem', join(pki, 'root.pem'), '--untrusted-pem', join(pki, 'ca.pem'), file],
      { stdio: 'pipe' },
    );
  }
  await dialog.getByTestId('sign-close').click();
  await expect(dialog).toBeHidden();
});

test('a key file: a wrong password is refused, the right one signs a CMS', async ({ page }) => {
  const ids = await selectRows(page, 1);
  const before = signaturesOf(ids).length;
  await page.getByTestId('journal-sign').click();
  const dialog = page.getByTestId('sign-dialog');
  await dialog.getByTestId('sign-mode-keyfile').click();
  await dialog.getByTestId('sign-file').setInputFiles(env('QYZMET_E2E_KEYFILE'));
  await dialog.getByTestId('sign-password').fill('not-the-password');
  await dialog.getByTestId('sign-open').click();
  await expect(dialog.getByTestId('sign-error')).toContainText('wrongPassword');

  await dialog.getByTestId('sign-password').fill(E2E_KEYFILE_PASSWORD);
  await dialog.getByTestId('sign-format').selectOption('cms');
  await dialog.getByTestId('sign-open').click();
  await expect(dialog.getByTestId('cert-iin')).toHaveText(DEMO_HEAD.iin);
  await dialog.getByTestId('sign-start').click();
  await expect(dialog.getByTestId('sign-progress')).toHaveAttribute('data-state', 'finished', { timeout: 30_000 });
  await expect(dialog.locator('.sign-results .is-ok')).toHaveCount(1);

  const saved = signaturesOf(ids);
  expect(saved).toHaveLength(before + 1);
  const cms = saved.at(-1)!;
  expect(cms.format).toBe('cms');
  // The CMS is detached: openssl needs the document, which main rebuilds; here the signature must at least parse
  // and carry the signer's certificate, and `openssl cms -cmsout` must read it.
  const file = join(mkdtempSync(join(tmpdir(), 'qyzmet-e2e-cms-')), 'sig.p7s');
  writeFileSync(file, cms.signed);
  const printed = execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', file], {
    encoding: 'utf8',
  });
  expect(printed).toContain('signingTime');
  expect(printed).toContain(DEMO_HEAD.iin);
});

test('a token plugged in while the dialog is open shows up, and goes when pulled out', async ({ page }) => {
  await selectRows(page, 1);
  await page.getByTestId('journal-sign').click();
  const dialog = page.getByTestId('sign-dialog');
  const keys = dialog.locator('.sign-key');
  await expect(keys).toHaveCount(1);

  const hsm = createSoftHsm(env('QYZMET_E2E_SOFTHSM_DIR'));
  hsm.initToken('PLUGGED IN', '11223344', '13572468');
  const pem = readFileSync(join(env('QYZMET_E2E_PKI_DIR'), 'demo-head.pem'), 'utf8');
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s+/g, ''), 'base64');
  hsm.importCertificate('PLUGGED IN', '13572468', { certDer: der, id: 'ee', label: 'plugged' });
  try {
    await expect(keys).toHaveCount(2, { timeout: 15_000 });
    await expect(dialog.getByText('PLUGGED IN')).toBeVisible();
  } finally {
    hsm.deleteToken('PLUGGED IN');
  }
  await expect(keys).toHaveCount(1, { timeout: 15_000 });
});

test('the demo start brings a key file of its own: the demo head signs with it', async ({ page }) => {
  await selectRows(page, 1);
  await page.getByTestId('journal-sign').click();
  const dialog = page.getByTestId('sign-dialog');
  await dialog.getByTestId('sign-mode-keyfile').click();
  await dialog
    .getByTestId('sign-file')
    .setInputFiles(join(env('QYZMET_E2E_DATA_DIR'), 'demo-signing', `RSA256_${DEMO_HEAD.iin}.p12`));
  await dialog.getByTestId('sign-password').fill('demo');
  await dialog.getByTestId('sign-open').click();
  await expect(dialog.getByTestId('cert-iin')).toHaveText(DEMO_HEAD.iin);
  await expect(dialog.getByTestId('cert-revocation')).toHaveAttribute('data-status', 'good');
  await dialog.getByTestId('sign-start').click();
  await expect(dialog.getByTestId('sign-progress')).toHaveAttribute('data-state', 'finished', { timeout: 30_000 });
  await expect(dialog.locator('.sign-results .is-ok')).toHaveCount(1);
});
