import { Page, TestInfo, expect } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

export const PASSWORD = 'e2e password for tests';

export const isHydrated = (info: TestInfo) => info.project.name === 'hydrated';

/** With JavaScript on, wait until the wasm has hydrated the page. */
export async function ready(page: Page, info: TestInfo) {
  if (isHydrated(info)) {
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  }
}

export async function login(page: Page, info: TestInfo, email: string, password = PASSWORD) {
  await page.goto('/login');
  await ready(page, info);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (password === PASSWORD) {
    // Wait until the session exists before the test navigates on.
    await expect(page).not.toHaveURL(/\/login/);
  }
}

/** Runs axe-core in the page; returns serious and critical violations. The
 * no-js project renders the same server HTML, which the hydrated run checks. */
export async function seriousA11yViolations(page: Page, info: TestInfo) {
  if (!isHydrated(info)) return [];
  const axePath = require.resolve('axe-core/axe.min.js');
  // Evaluated through the driver, so it also runs on pages with JavaScript off.
  const source = fs.readFileSync(axePath, 'utf8');
  const result: any = await page.evaluate(
    `(async () => { ${source}; return await axe.run(document, { resultTypes: ['violations'] }); })()`,
  );
  return (result.violations as any[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.length} nodes)`);
}

export async function screenshot(page: Page, info: TestInfo, name: string) {
  const file = path.join(info.outputDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await info.attach(name, { path: file, contentType: 'image/png' });
}

/** Creates an API key on the API keys page (signed in as admin) and returns its secret. */
export async function createApiKey(page: Page, info: TestInfo, name: string): Promise<string> {
  await page.goto('/admin/api-keys');
  await ready(page, info);
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Create key' }).click();
  const secretBox = page.getByTestId('fresh-secret');
  await expect(secretBox).toBeVisible();
  return (await secretBox.textContent())?.trim() ?? '';
}
