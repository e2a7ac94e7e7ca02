import { test, expect } from '@playwright/test';
import { isHydrated, login, ready, screenshot, seriousA11yViolations } from './helpers';

// An admin creates an API key in the UI, a "shop" posts an order with it, and
// the receipt shows up as accepted, in the timeline and in the dev outbox.
test('an order posted with a new API key is sent and can be followed', async ({ page, request }, info) => {
  await login(page, info, 'admin@e2e.test');
  await page.goto('/admin/api-keys');
  await ready(page, info);
  await page.getByLabel('Name').fill(`shop ${info.project.name}`);
  await page.getByRole('button', { name: 'Create key' }).click();
  const secretBox = page.getByTestId('fresh-secret');
  await expect(secretBox).toBeVisible();
  const secret = (await secretBox.textContent())?.trim() ?? '';
  expect(secret).toMatch(/^rbk_[0-9a-f]{64}$/);
  // Shown once: a reload no longer has it.
  await page.reload();
  await expect(page.getByTestId('fresh-secret')).toHaveCount(0);
  await screenshot(page, info, 'api-keys');

  const number = `E2E-${info.project.name}-${Date.now()}`;
  const res = await request.post('/api/v1/orders', {
    headers: { Authorization: `Bearer ${secret}` },
    data: {
      order_number: number,
      placed_at: '2026-11-27T21:00:00Z',
      currency: 'EUR',
      items: [{ name: 'Blue mug', quantity: 2, unit_price: 1250 }],
      totals: { subtotal: 2500, tax: 475, shipping: 0, discount: 0, total: 2975 },
      customer: { email: 'jane@example.com', name: 'Jane Doe', account_kind: 'guest' },
    },
  });
  expect(res.status()).toBe(202);

  // The worker sends at once; the capture pool accepts.
  await expect.poll(async () => {
    const r = await request.get(`/api/v1/orders/${number}`, { headers: { Authorization: `Bearer ${secret}` } });
    return (await r.json()).status;
  }).toBe('accepted');

  await page.goto('/orders');
  await ready(page, info);
  await expect(page.getByRole('link', { name: number })).toBeVisible();
  await page.getByRole('link', { name: number }).click();
  await expect(page.getByRole('heading', { name: `Order ${number}` })).toBeVisible();
  await expect(page.getByText('Accepted', { exact: true })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Send attempts' }).getByRole('cell', { name: 'primary' })).toBeVisible();
  await screenshot(page, info, 'order-detail');
  expect(await seriousA11yViolations(page, info)).toEqual([]);

  await page.goto('/admin/outbox');
  await page.getByRole('link', { name: `Your receipt for order ${number} from Rebound Demo Shop` }).click();
  await expect(page.getByRole('heading', { name: `Your receipt for order ${number} from Rebound Demo Shop` })).toBeVisible();
  await expect(page.locator('pre.mail-text').first()).toContainText('Blue mug');
  await screenshot(page, info, 'outbox');
});

test('a manager sees orders with masked emails and cannot change pools', async ({ page }, info) => {
  await login(page, info, 'manager@e2e.test');
  await page.goto('/orders');
  await ready(page, info);
  await expect(page.getByText('j***@example.com').first()).toBeVisible();
  await expect(page.getByText('jane@example.com')).toHaveCount(0);
  await page.goto('/pools');
  await ready(page, info);
  await expect(page.getByRole('cell', { name: 'primary', exact: true }).first()).toBeVisible();
  await page.getByRole('table', { name: 'Sender pools', exact: true }).getByRole('row', { name: /^backup / }).getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByRole('alert')).toHaveText('Your role does not allow this action.');
  if (!isHydrated(info)) {
    // Without JavaScript the error comes back through the redirect; nothing changed.
    await expect(page.getByRole('table', { name: 'Sender pools', exact: true }).getByRole('row', { name: /^backup / })).toContainText('Active');
  }
});

test('an admin adds a sender pool and its password never comes back', async ({ page }, info) => {
  const name = `relay-${info.project.name}`;
  await login(page, info, 'admin@e2e.test');
  await page.goto('/pools');
  await ready(page, info);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Role').selectOption('backup');
  await page.getByLabel('From name').fill('Shop receipts');
  await page.getByLabel('From address').fill('receipts@shop.example');
  await page.getByLabel('Relay URL').fill('smtp://mailer:s3cret-pass@relay.shop.example:587?tls=starttls');
  await page.getByLabel('Max messages per second').fill('20');
  await page.getByLabel('Position in the retry chain').fill('5');
  await page.getByRole('button', { name: 'Add pool' }).click();
  const row = page.getByRole('row', { name: new RegExp(name) });
  await expect(row).toBeVisible();
  await expect(row).toContainText('relay.shop.example');
  await expect(page.locator('body')).not.toContainText('s3cret-pass');
  // Change it without retyping the relay: the relay stays.
  await row.getByRole('link', { name: `Edit ${name}` }).click();
  await ready(page, info);
  await page.getByLabel('Max messages per second').fill('30');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByRole('row', { name: new RegExp(name) })).toContainText('30');
  await expect(page.getByRole('row', { name: new RegExp(name) })).toContainText('relay.shop.example');
  await expect(page.locator('body')).not.toContainText('s3cret-pass');
});
