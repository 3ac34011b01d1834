/**
 * The app in Chromium through the loopback bridge: the journal lists
 * applications from the real local database, the language and night mode
 * switch and stay switched, and the screenshots for the README are taken.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { ROOT } from './harness';
import { loginAs } from './login';

declare function getComputedStyle(element: unknown): { backgroundColor: string };

type Catalogue = Record<string, unknown>;
const catalogue = (lang: string): Catalogue =>
  JSON.parse(readFileSync(join(ROOT, 'renderer', 'src', 'i18n', `${lang}.json`), 'utf8')) as Catalogue;

/** A value of a catalogue by dotted key, whether the file is flat or nested. */
function text(lang: string, key: string): string {
  const cat = catalogue(lang);
  if (typeof cat[key] === 'string') return cat[key];
  const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], cat);
  if (typeof value !== 'string') throw new Error(`no ${key} in ${lang}.json`);
  return value;
}

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

test('the journal lists applications; language and night mode switch and persist', async ({ page }) => {
  const errors = watchErrors(page);
  await loginAs(page, 'head.demo');

  // The secret left the address bar at once.
  await expect.poll(() => page.url()).not.toContain('bridge=');

  const journal = page.getByTestId('journal');
  await expect(journal).toBeVisible();
  const rows = page.getByTestId('journal-row');
  await expect(rows.first()).toBeVisible();
  expect(await rows.count()).toBeGreaterThan(10);
  await expect(page.getByTestId('user-name')).not.toBeEmpty();
  await expect(page.getByTestId('sync-state')).toBeVisible();

  // Russian, then English, then Kazakh: the column headers follow the catalogue.
  for (const lang of ['ru', 'en', 'kk'] as const) {
    await page.getByTestId(`lang-${lang}`).click();
    await expect(page.locator('html')).toHaveAttribute('lang', lang);
    await expect(journal.getByRole('columnheader', { name: text(lang, 'journal.columns.number') })).toBeVisible();
  }

  await page.getByTestId('lang-ru').click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru');
  await page.screenshot({ path: join(ROOT, 'docs', 'screenshots', 'journal.png') });

  // Night mode changes the page's colours.
  const bodyBackground = () => page.locator('body').evaluate((body) => getComputedStyle(body).backgroundColor);
  const lightBg = await bodyBackground();
  await page.getByTestId('theme-toggle').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  const darkBg = await bodyBackground();
  expect(darkBg).not.toBe(lightBg);
  await page.screenshot({ path: join(ROOT, 'docs', 'screenshots', 'journal-night.png') });

  // Both choices were saved in the local database: a reload keeps them.
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('lang', 'ru');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(rows.first()).toBeVisible();

  // Back to day mode for the next tests.
  await page.getByTestId('theme-toggle').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');

  expect(errors).toEqual([]);
});

test('search by IIN finds that applicant’s applications only', async ({ page }) => {
  await loginAs(page, 'head.demo');
  const rows = page.getByTestId('journal-row');
  await expect(rows.first()).toBeVisible();
  const iin = (await rows.first().getByTestId('cell-iin').textContent())?.trim() ?? '';
  expect(iin).toMatch(/^\d{12}$/);
  await page.getByTestId('journal-search').fill(iin);
  await expect(async () => {
    const iins = await page.getByTestId('cell-iin').allTextContents();
    expect(iins.length).toBeGreaterThan(0);
    expect(new Set(iins.map((s) => s.trim()))).toEqual(new Set([iin]));
  }).toPass();
});

test('a page without the secret cannot call the services', async ({ page, request }) => {
  const url = process.env.QYZMET_E2E_URL!;
  const res = await request.post(`${url}/rpc/journal.list`, { data: { page: 0, pageSize: 10 } });
  expect(res.status()).toBe(401);
  // Opening the app without the secret shows a message instead of data.
  await page.goto(url);
  await expect(page.getByTestId('journal-row')).toHaveCount(0);
  await expect(page.getByRole('alert')).toBeVisible();
});

test('the overdue filter keeps only open applications past their deadline', async ({ page }) => {
  await loginAs(page, 'head.demo');
  await page.getByTestId('journal-filter-overdue').check();
  const rows = page.getByTestId('journal-row');
  await expect(rows.first()).toBeVisible();
  const n = await rows.count();
  expect(n).toBeGreaterThan(0);
  await expect(page.locator('[data-testid="journal-row"] .due-overdue')).toHaveCount(n);
});
