import { test, expect } from '@playwright/test';
import { createApiKey, login, ready, screenshot, seriousA11yViolations } from './helpers';

test('a suppressed address skips email, shows why, and can be released', async ({ page, request }, info) => {
  const email = `suppressed-${info.project.name}@example.com`;
  await login(page, info, 'admin@e2e.test');
  const secret = await createApiKey(page, info, `sup ${info.project.name}`);

  await page.goto('/suppressions');
  await ready(page, info);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Suppress', exact: true }).click();
  await expect(page.getByRole('cell', { name: email, exact: true })).toBeVisible();
  await screenshot(page, info, 'suppressions');
  expect(await seriousA11yViolations(page, info)).toEqual([]);

  const number = `SUP-${info.project.name}-${Date.now()}`;
  const res = await request.post('/api/v1/orders', {
    headers: { Authorization: `Bearer ${secret}` },
    data: {
      order_number: number, placed_at: '2026-11-27T21:00:00Z', currency: 'USD',
      items: [{ name: 'Socks', quantity: 1, unit_price: 900 }],
      totals: { subtotal: 900, total: 900 },
      customer: { email, name: 'Sam', account_kind: 'guest' },
    },
  });
  expect(res.status()).toBe(202);
  await expect.poll(async () => {
    const r = await request.get(`/api/v1/orders/${number}`, { headers: { Authorization: `Bearer ${secret}` } });
    return (await r.json()).status;
  }).toBe('held');

  await page.goto(`/orders/${number}`);
  await expect(page.locator('.badge.state-held').first()).toHaveText('Held');
  await expect(page.getByText(/the address is suppressed \(manual, from admin\)/).first()).toBeVisible();

  await page.goto(`/suppressions?q=${encodeURIComponent('suppressed-' + info.project.name)}`);
  await ready(page, info);
  await page.getByRole('button', { name: `Release ${email}` }).click();
  await expect(page.getByRole('cell', { name: email, exact: true })).toHaveCount(0);
});

test('an admin reads the bounce rules with their recent hits', async ({ page }, info) => {
  await login(page, info, 'admin@e2e.test');
  await page.goto('/admin/rules');
  const table = page.getByRole('table', { name: 'Bounce rules' });
  await expect(table).toBeVisible();
  expect(await table.getByRole('row').count()).toBeGreaterThan(50);
  await expect(table.getByRole('cell', { name: 'recipient_permanent' }).first()).toBeVisible();
  await screenshot(page, info, 'rules');
});
