import { test, expect, Page } from '@playwright/test';
import { createApiKey, isHydrated, login, ready } from './helpers';

// The browser's own verdict on the Content-Security-Policy: every page of the
// app loads and hydrates with no script, style, image or connection refused.
// (server/tests/security_headers.rs checks the headers themselves.)
const STAFF_PAGES = [
  '/', '/held', '/search', '/orders', '/trends', '/flagged', '/pools', '/suppressions',
  '/admin/users', '/admin/audit', '/admin/outbox', '/admin/webhooks', '/admin/api-keys',
  '/admin/rules', '/no-such-page',
];

/** Collects console messages and page errors that tell of a CSP refusal. */
function watchCsp(page: Page): string[] {
  const refused: string[] = [];
  const note = (where: string, text: string) => {
    if (/Content Security Policy|Refused to/i.test(text)) refused.push(`${where} ${page.url()}: ${text}`);
  };
  page.on('console', (m) => note(`console.${m.type()}`, m.text()));
  page.on('pageerror', (e) => note('pageerror', String(e)));
  return refused;
}

test('no page of the app is refused anything by its Content-Security-Policy', async ({ page, request }, info) => {
  test.skip(!isHydrated(info), 'a policy refusal shows only when scripts run');
  const refused = watchCsp(page);

  // Signed out: the sign-in page and a receipt link page (an unknown token).
  await page.goto('/r/not-a-real-token-for-the-csp-check');

  await login(page, info, 'admin@e2e.test');
  const secret = await createApiKey(page, info, `csp ${Date.now()}`);
  const number = `CSP-${Date.now()}`;
  const res = await request.post('/api/v1/orders', {
    headers: { Authorization: `Bearer ${secret}` },
    data: {
      order_number: number,
      placed_at: '2026-11-27T21:00:00Z',
      currency: 'EUR',
      items: [{ name: 'Kettle', quantity: 1, unit_price: 3900 }],
      totals: { subtotal: 3900, total: 3900 },
      customer: { email: `csp-${Date.now()}@example.com`, name: 'Cleo', account_kind: 'guest' },
    },
  });
  expect(res.status()).toBe(202);

  for (const path of [...STAFF_PAGES, `/orders/${number}`, `/search?q=${number}`]) {
    await page.goto(path);
    await ready(page, info);
  }
  // The Trends page's charts are inline SVG (no style attribute a policy
  // would refuse): drawn, with their size.
  await page.goto('/trends');
  await ready(page, info);
  const charts = page.locator('section.chart svg');
  expect(await charts.count()).toBeGreaterThan(0);
  for (const svg of (await charts.all()).slice(0, 4)) {
    const box = await svg.boundingBox();
    if (box) expect(box.width).toBeGreaterThan(0);
  }
  expect(refused).toEqual([]);
});
