import { test, expect } from '@playwright/test';
import { PASSWORD, isHydrated, login, ready, screenshot, seriousA11yViolations } from './helpers';

test('signed-out visitors are sent to the sign-in page', async ({ page }, info) => {
  await page.goto('/admin/users');
  await expect(page).toHaveURL(/\/login\?next=\/admin\/users$/);
  await expect(page.getByRole('heading', { name: 'Sign in to Rebound' })).toBeVisible();
  await screenshot(page, info, 'login');
  expect(await seriousA11yViolations(page, info)).toEqual([]);
});

test('a wrong password shows a clear error and no account hint', async ({ page }, info) => {
  await login(page, info, 'manager@e2e.test', 'definitely wrong');
  await expect(page.getByRole('alert')).toHaveText('Wrong email or password.');
  await expect(page).toHaveURL(/\/login/);
});

test('the admin signs in, sees users and the audit log', async ({ page }, info) => {
  await login(page, info, 'admin@e2e.test');
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  await expect(page.getByText(/Welcome, E2E admin\./)).toBeVisible();
  await page.getByRole('link', { name: 'Users' }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await ready(page, info);
  const table = page.getByRole('table', { name: 'Staff accounts' });
  await expect(table.getByRole('cell', { name: 'agent@e2e.test', exact: true })).toBeVisible();
  await screenshot(page, info, 'users');
  expect(await seriousA11yViolations(page, info)).toEqual([]);

  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'login', exact: true }).first()).toBeVisible();
  await screenshot(page, info, 'audit');
});

test('the admin adds a user through the form', async ({ page }, info) => {
  const email = `new-${info.project.name}@e2e.test`;
  await login(page, info, 'admin@e2e.test');
  await page.goto('/admin/users');
  await ready(page, info);
  await page.locator('#new-email').fill(email);
  await page.locator('#new-name').fill('New Person');
  await page.locator('#new-role').selectOption('manager');
  await page.locator('#new-password').fill('a brand new password');
  await page.getByRole('button', { name: 'Add user' }).click();
  const row = page.locator(`tr[data-user="${email}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByRole('combobox')).toHaveValue('manager');
});

test('hydrated: picking a role saves it without reloading the page', async ({ page }, info) => {
  test.skip(!isHydrated(info), 'needs JavaScript');
  await login(page, info, 'admin@e2e.test');
  await page.goto('/admin/users');
  await ready(page, info);
  // A marker that a full page load would wipe out.
  await page.evaluate(() => ((window as any).__noReload = true));
  const select = page.getByLabel('Role of agent@e2e.test');
  await select.selectOption('manager');
  await expect(page.getByRole('status')).toHaveText('agent@e2e.test is now Manager.');
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  await select.selectOption('agent');
  await expect(page.getByRole('status')).toHaveText('agent@e2e.test is now Support agent.');
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
});

test('no-js: the role form still saves with a plain post', async ({ page }, info) => {
  test.skip(isHydrated(info), 'checks the JavaScript-off path');
  await login(page, info, 'admin@e2e.test');
  await page.goto('/admin/users');
  const row = page.locator('tr[data-user="manager@e2e.test"]');
  await row.getByRole('combobox').selectOption('agent');
  await row.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/admin\/users/);
  await expect(page.locator('tr[data-user="manager@e2e.test"]').getByRole('combobox')).toHaveValue('agent');
  // Put it back.
  await page.locator('tr[data-user="manager@e2e.test"]').getByRole('combobox').selectOption('manager');
  await page.locator('tr[data-user="manager@e2e.test"]').getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('tr[data-user="manager@e2e.test"]').getByRole('combobox')).toHaveValue('manager');
});

test('an agent cannot reach user management', async ({ page }, info) => {
  await login(page, info, 'agent@e2e.test');
  await expect(page.getByText(/^Welcome, /)).toBeVisible();
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
  const res = await page.goto('/admin/users');
  expect(res?.status()).toBe(403);
  await expect(page.getByRole('heading', { name: 'This page is not for your role' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeAttached();
});

test('signing out ends the session', async ({ page }, info) => {
  await login(page, info, 'manager@e2e.test', PASSWORD);
  await expect(page.getByText(/^Welcome, /)).toBeVisible();
  await ready(page, info);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/');
  await expect(page).toHaveURL(/\/login/);
});
