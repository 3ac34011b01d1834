/**
 * One application through every role, in Chromium, through the real login
 * screen and the application card (docs/domain.md#statuses): the head assigns the
 * executor; the executor accepts, fills the result, decides negatively and
 * sends; the head returns it for rework with a comment; the executor sees the
 * comment, decides positively and sends; the head signs with her SoftHSM2
 * token: completed. At each stage the buttons the role may not press are absent.
 * What the applicant receives is written to docs/samples/ and read back by
 * outside tools: the result's PDF (pdftotext), its QR codes (pdftoppm, zbarimg)
 * and the signed XML they carry (xmlsec1).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { decodeDocumentCode } from '#core/documents/code.js';
import { E2E_PIN } from './global-setup';
import { loginAs, logout } from './login';

const number = () => {
  const n = process.env.QYZMET_E2E_RECEIVED_NUMBER;
  if (!n) throw new Error('QYZMET_E2E_RECEIVED_NUMBER is not set: the e2e global setup did not run');
  return n;
};

/** The applicant's IIN of the applications main/workflow/testing.ts inserts (the global setup's one among them). */
const TEST_APPLICANT_IIN = '900512400123';

async function openCard(page: Page): Promise<void> {
  // Searched by the applicant's IIN: a test application's number ("T1-…") is not one the journal's search
  // reads as a number, so searching for it finds nothing once the search has answered.
  await page.getByTestId('journal-search').fill(TEST_APPLICANT_IIN);
  await expect(page.getByTestId('cell-iin').first()).toHaveText(TEST_APPLICANT_IIN);
  const link = page.getByTestId('journal-open').filter({ hasText: number() });
  await expect(link).toHaveCount(1);
  await link.click();
  await expect(page.getByTestId('card')).toBeVisible();
}

async function expectStatus(page: Page, status: string): Promise<void> {
  await expect(page.getByTestId('card')).toHaveAttribute('data-status', status);
}

/** Fills the fields the card marks required and empty, by their kind, and saves. */
async function fillRequired(page: Page): Promise<void> {
  await page.getByTestId('card-expand').click();
  // The controls main marks required, empty and editable for this user.
  const missing = page.locator('.card [aria-invalid="true"]');
  const count = await missing.count();
  for (let i = 0; i < count; i++) {
    const control = missing.first();
    const tag = await control.evaluate((el) => el.tagName.toLowerCase());
    const type = (await control.getAttribute('type')) ?? '';
    if (tag === 'select') {
      const value = await control.locator('option').nth(1).getAttribute('value');
      await control.selectOption(value ?? '');
    } else if (type === 'date') {
      await control.fill('2026-11-23');
    } else if (type === 'number') {
      await control.fill('1');
    } else if (type === 'checkbox') {
      await control.check();
    } else {
      await control.fill('R-17');
    }
  }
  await expect(missing).toHaveCount(0);
  if (count > 0) {
    await page.getByTestId('action-save').click();
    await expect(page.getByTestId('card-notice')).toBeVisible();
  }
}

test('one application through every role: assign, accept, negative, return, positive, sign', async ({ page }) => {
  test.setTimeout(120_000);

  // Head: assigns the responsible executor; may not accept or send.
  await loginAs(page, 'head.demo');
  await openCard(page);
  await expectStatus(page, 'received');
  await expect(page.getByTestId('action-accept')).toHaveCount(0);
  await expect(page.getByTestId('action-send')).toHaveCount(0);
  await page.getByTestId('assign-to').selectOption('user-executor-demo');
  await page.getByTestId('action-assign').click();
  await expect(page.getByTestId('card-notice')).toBeVisible();
  await expect(page.getByTestId('card-responsible')).not.toHaveText('—');
  await logout(page);

  // Executor: accepts, fills the result, decides negatively and sends; may not sign or return.
  await loginAs(page, 'executor.demo');
  await openCard(page);
  await expect(page.getByTestId('action-sign')).toHaveCount(0);
  await page.getByTestId('action-accept').click();
  await expectStatus(page, 'in_processing');
  await expect(page.getByTestId('action-return')).toHaveCount(0);
  await fillRequired(page);
  const reason = page.getByTestId('refusal-reason');
  await reason.selectOption((await reason.locator('option').nth(1).getAttribute('value')) ?? '');
  await page.getByTestId('refusal-text').fill('Ұсынылған құжаттар толық емес.');
  await page.getByTestId('action-negative').click();
  await expect(page.getByTestId('card-decision')).toHaveClass(/decision-negative/);
  await page.getByTestId('action-send').click();
  await expectStatus(page, 'on_signing');
  await logout(page);

  // Head: returns it for rework; the comment is required.
  await loginAs(page, 'head.demo');
  await openCard(page);
  await expectStatus(page, 'on_signing');
  await page.getByTestId('action-return').click();
  await expect(page.getByTestId('card-error')).toBeVisible();
  await expectStatus(page, 'on_signing');
  await page.getByTestId('return-comment').fill('Шешімді қайта қараңыз: құжаттар толық.');
  await page.getByTestId('action-return').click();
  await expectStatus(page, 'in_processing');
  await logout(page);

  // Executor: sees the comment, decides positively, sends.
  await loginAs(page, 'executor.demo');
  await openCard(page);
  await expect(page.getByTestId('card-rework')).toContainText('Шешімді қайта қараңыз');
  await fillRequired(page);
  await page.getByTestId('action-positive').click();
  await expect(page.getByTestId('card-decision')).toHaveClass(/decision-positive/);
  await page.getByTestId('action-send').click();
  await expectStatus(page, 'on_signing');
  await logout(page);

  // Head: signs with her token; the application is completed.
  await loginAs(page, 'head.demo');
  await openCard(page);
  await page.getByTestId('card-preview').click();
  await expect(page.getByTestId('doc-kk')).toBeVisible();
  await expect(page.getByTestId('doc-ru')).toBeVisible();
  await page.getByTestId('doc-close').click();
  await page.getByTestId('action-sign').click();
  const dialog = page.getByTestId('sign-dialog');
  await dialog.getByTestId('sign-pin').fill(E2E_PIN);
  await dialog.getByTestId('sign-open').click();
  await dialog.getByTestId('sign-start').click();
  await expect(dialog.getByTestId('sign-progress')).toHaveAttribute('data-state', 'finished', { timeout: 30_000 });
  await dialog.getByTestId('sign-close').click();
  await expectStatus(page, 'completed');
  await expect(page.getByTestId('card-actions').getByRole('button')).toHaveCount(0);
  // The history holds every step, the head's comment among them.
  const events = page.getByTestId('card-events').locator('li');
  expect(await events.count()).toBeGreaterThanOrEqual(9);
  await expect(page.getByTestId('card-events')).toContainText('Шешімді қайта қараңыз');
  await page.locator('#main').evaluate((el) => el.scrollTo(0, 0));
  await page.screenshot({ path: 'docs/screenshots/card.png' });

  // Every step reached the central server, which took each one (it checks roles and states itself):
  // after a sync nothing of this application waits or was rejected.
  const details = await page.request.post(`${process.env.QYZMET_E2E_URL}/rpc/sync.now`, {
    headers: { Authorization: `Bearer ${process.env.QYZMET_E2E_SECRET}` },
    data: {},
  });
  const body = (await details.json()) as {
    ok: boolean;
    value: { rejected: { applicationNumber: string | null }[] };
  };
  expect(body.ok).toBe(true);
  expect(body.value.rejected.filter((r) => r.applicationNumber === number())).toEqual([]);
  const status = await page.request.post(`${process.env.QYZMET_E2E_URL}/rpc/sync.status`, {
    headers: { Authorization: `Bearer ${process.env.QYZMET_E2E_SECRET}` },
    data: {},
  });
  expect(((await status.json()) as { value: { queueDepth: number } }).value.queueDepth).toBe(0);

  // The signed result as the applicant gets it: a PDF whose codes carry the head's signed XML.
  const pdfAnswer = await page.request.post(`${process.env.QYZMET_E2E_URL}/rpc/documents.pdf`, {
    headers: { Authorization: `Bearer ${process.env.QYZMET_E2E_SECRET}` },
    data: { id: process.env.QYZMET_E2E_RECEIVED_ID },
  });
  const pdf = (await pdfAnswer.json()) as { ok: boolean; value: { pdf: string } };
  expect(pdf.ok).toBe(true);
  mkdirSync('docs/samples', { recursive: true });
  const pdfFile = join('docs', 'samples', 'result-signed.pdf');
  writeFileSync(pdfFile, Buffer.from(pdf.value.pdf, 'base64'));
  const text = execFileSync('pdftotext', ['-enc', 'UTF-8', pdfFile, '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
  expect(text).toContain('Справка дана для предъявления');
  expect(text).toContain(TEST_APPLICANT_IIN);
  // Its first page as a picture, for the README.
  execFileSync('pdftoppm', [
    '-r',
    '60',
    '-png',
    '-f',
    '1',
    '-l',
    '1',
    '-singlefile',
    pdfFile,
    pdfFile.replace(/\.pdf$/, ''),
  ]);
  const pages = mkdtempSync(join(tmpdir(), 'qyzmet-e2e-pages-'));
  execFileSync('pdftoppm', ['-r', '300', '-png', pdfFile, join(pages, 'page')]);
  const codes: string[] = [];
  for (const png of readdirSync(pages)) {
    try {
      codes.push(...execFileSync('zbarimg', ['--raw', '-q', join(pages, png)], { encoding: 'utf8' }).split('\n'));
    } catch {
      // zbarimg exits 4 on a page with no code.
    }
  }
  const xmlFile = join('docs', 'samples', 'result-signed.xml');
  writeFileSync(xmlFile, decodeDocumentCode(codes.filter(Boolean)));
  const pki = process.env.QYZMET_E2E_PKI_DIR ?? '';
  execFileSync(
    'xmlsec1',
    ['--verify', '--trusted-pem', join(pki, 'root.pem'), '--untrusted-pem', join(pki, 'ca.pem'), xmlFile],
    { stdio: 'pipe' },
  );
});
