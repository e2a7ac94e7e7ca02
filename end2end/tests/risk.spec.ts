import { test, expect } from '@playwright/test';
import { createApiKey, login, ready, screenshot, seriousA11yViolations } from './helpers';

// A shop posts an order placed through a VPN (the sample list's 203.0.113.0/24)
// to a mistyped Gmail address: the API answers with the network and the score,
// the order page explains the score factor by factor and suggests the fix, and
// the order is on the VPN-flagged page with its filters.
test('a VPN order is flagged, scored with its factors and listed', async ({ page, request }, info) => {
  await login(page, info, 'admin@e2e.test');
  const secret = await createApiKey(page, info, `risk ${info.project.name}`);
  const number = `RISK-${info.project.name}-${Date.now()}`;
  const res = await request.post('/api/v1/orders', {
    headers: { Authorization: `Bearer ${secret}` },
    data: {
      order_number: number,
      placed_at: '2026-11-27T21:00:00Z',
      currency: 'EUR',
      items: [{ name: 'Lamp', quantity: 1, unit_price: 4200 }],
      totals: { subtotal: 4200, total: 4200 },
      customer: { email: 'ann@gmial.com', name: 'Ann', account_kind: 'guest' },
      client_ip: '203.0.113.7',
    },
  });
  expect(res.status()).toBe(202);
  const body = await res.json();
  expect(body.risk.network).toBe('vpn');
  expect(body.risk.network_name).toBe('Demo VPN');
  const keys = body.risk.factors.map((f: any) => f.key);
  expect(keys).toContain('network');
  expect(keys).toContain('typo');
  expect(body.risk.score).toBe(body.risk.factors.reduce((s: number, f: any) => s + f.points, 0));

  await login(page, info, 'agent@e2e.test');
  // The flag and score are on the orders list too.
  await page.goto('/orders');
  await ready(page, info);
  const listed = page.getByRole('row').filter({ hasText: number });
  await expect(listed).toContainText('VPN (Demo VPN)');
  await expect(listed).toContainText(`risk ${body.risk.score}`);
  await page.goto(`/orders/${number}`);
  await ready(page, info);
  const card = page.locator('section[aria-labelledby="risk-h"]');
  await expect(card).toContainText(`${body.risk.score}`);
  await expect(card).toContainText('ordered from a VPN network (Demo VPN)');
  await expect(card).toContainText('gmial.com looks like a typo of gmail.com');
  expect(await seriousA11yViolations(page, info)).toEqual([]);

  await page.goto('/flagged');
  await ready(page, info);
  await expect(page.getByRole('heading', { name: 'VPN-flagged orders' })).toBeVisible();
  const row = page.getByRole('row').filter({ hasText: number });
  await expect(row).toContainText('VPN');
  await expect(row).toContainText(`${body.risk.score}`);
  expect(await seriousA11yViolations(page, info)).toEqual([]);
  // A filter that excludes it: datacenter only.
  await page.getByLabel('Network').selectOption('datacenter');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/network=datacenter/);
  await expect(page.getByRole('row').filter({ hasText: number })).toHaveCount(0);
  await screenshot(page, info, 'flagged');
});

// Managers see each pool's rolling health and the thresholds that pause it.
test('the sender pools page shows pool health and its thresholds', async ({ page }, info) => {
  await login(page, info, 'manager@e2e.test');
  await page.goto('/pools');
  await ready(page, info);
  await expect(page.getByRole('heading', { name: 'Pool health' })).toBeVisible();
  await expect(page.getByTestId('thresholds')).toContainText('paused at 10 % bounces or 0.3 % complaints');
  // Each pool row carries its 1 h / 24 h / 7 d windows.
  await expect(page.locator('.health-windows').first()).toContainText('1 h:');
  await expect(page.locator('.health-windows').first()).toContainText('7 d:');
  expect(await seriousA11yViolations(page, info)).toEqual([]);
  await screenshot(page, info, 'pools-health');
});
