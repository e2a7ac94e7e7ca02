import { test, expect } from '@playwright/test';
import { createApiKey, login, ready, screenshot, seriousA11yViolations } from './helpers';

// "Did I get my receipt?": an agent types what the customer says (a phone
// number with spaces, an email in capitals) and lands on the order.
test('an agent finds a customer\'s order by phone number and email', async ({ page, request }, info) => {
  await login(page, info, 'admin@e2e.test');
  const secret = await createApiKey(page, info, `search ${info.project.name}`);
  const number = `FIND-${info.project.name}-${Date.now()}`;
  const email = `find-${info.project.name}-${Date.now()}@example.com`;
  const res = await request.post('/api/v1/orders', {
    headers: { Authorization: `Bearer ${secret}` },
    data: {
      order_number: number,
      placed_at: '2026-11-27T21:00:00Z',
      currency: 'EUR',
      items: [{ name: 'Kettle', quantity: 1, unit_price: 3900 }],
      totals: { subtotal: 3900, total: 3900 },
      customer: { email, name: 'Finn', phone: '+4917612345678', account_kind: 'guest' },
    },
  });
  expect(res.status()).toBe(202);

  await login(page, info, 'agent@e2e.test');
  await page.goto('/');
  await ready(page, info);
  await page.getByRole('link', { name: 'Search' }).click();
  await ready(page, info);
  await page.getByLabel('Order number, email, phone or customer reference').fill('+49 176 1234-5678');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/\/search\?q=/);
  const row = page.getByRole('row').filter({ hasText: number });
  await expect(row).toBeVisible();
  expect(await seriousA11yViolations(page, info)).toEqual([]);
  await screenshot(page, info, 'search');

  await page.getByLabel('Order number, email, phone or customer reference').fill(email.toUpperCase());
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByRole('row').filter({ hasText: number })).toBeVisible();
  await page.getByRole('link', { name: number }).click();
  await ready(page, info);
  await expect(page.getByRole('heading', { name: `Order ${number}` })).toBeVisible();

  await page.goto('/search?q=NO-SUCH-ORDER-ANYWHERE');
  await ready(page, info);
  await expect(page.getByRole('status')).toContainText('No orders match');
});
