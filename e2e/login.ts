/** Logging in and out through the real login screen, for the e2e tests. */
import { expect, type Page } from '@playwright/test';

/** The demo users' password (core/auth/passwords.ts DEMO_PASSWORD). */
export const DEMO_PASSWORD = 'Qyzmet2026';

export function openUrl(): string {
  const url = process.env.QYZMET_E2E_OPEN_URL;
  if (!url) throw new Error('the e2e harness did not start (see global-setup)');
  return url;
}

/** Opens the app; logs out whoever is in; logs `login` in with the demo password; waits for the journal. */
export async function loginAs(page: Page, login: string): Promise<void> {
  await page.goto(openUrl());
  const logout = page.getByTestId('session-logout');
  const form = page.getByTestId('login-form');
  await expect(logout.or(form).first()).toBeVisible();
  if (await logout.isVisible()) {
    await logout.click();
  }
  await expect(form).toBeVisible();
  await page.getByTestId('login-name').fill(login);
  await page.getByTestId('login-password').fill(DEMO_PASSWORD);
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('journal')).toBeVisible();
}

export async function logout(page: Page): Promise<void> {
  await page.getByTestId('session-logout').click();
  await expect(page.getByTestId('login-form')).toBeVisible();
}
