import { test, expect, request as playwrightRequest, APIRequestContext } from '@playwright/test';
import { createApiKey, login, ready, screenshot, seriousA11yViolations, isHydrated } from './helpers';

// An order to an address the (capturing) relay refuses as unknown: held at
// once, and with the address dead the fallback sends it to support (critical).
async function heldOrder(api: APIRequestContext, number: string) {
  expect((await api.post('/api/v1/orders', {
    data: {
      order_number: number,
      placed_at: '2026-11-28T09:00:00Z',
      currency: 'EUR',
      items: [{ name: 'Kettle', quantity: 1, unit_price: 4900 }],
      totals: { subtotal: 4900, total: 4900 },
      customer: { email: `${number.toLowerCase()}@mailbox.invalid`, name: 'Bea Bulk', account_kind: 'guest' },
    },
  })).status()).toBe(202);
  await expect.poll(async () => (await (await api.get(`/api/v1/orders/${number}`)).json()).fallback, { timeout: 20_000 })
    .toBe('critical');
}

// Three held orders: an agent takes two at once, is told why a dead address
// cannot get a re-send, then resolves both with one note. With JavaScript on, a case a
// colleague resolves leaves the agent's open page without a reload.
test('an agent works several held orders at once', async ({ page, browser }, info) => {
  await login(page, info, 'admin@e2e.test');
  const secret = await createApiKey(page, info, `bulk ${info.project.name}`);
  const api = await playwrightRequest.newContext({
    baseURL: info.project.use.baseURL,
    extraHTTPHeaders: { Authorization: `Bearer ${secret}` },
  });
  const stamp = `${info.project.name}-${Date.now()}`;
  const [a, b, c] = [`BULK-A-${stamp}`, `BULK-B-${stamp}`, `BULK-C-${stamp}`];
  for (const n of [a, b, c]) await heldOrder(api, n);

  const agentContext = await browser.newContext({ javaScriptEnabled: isHydrated(info) });
  const agent = await agentContext.newPage();
  await login(agent, info, 'agent@e2e.test');
  await agent.goto('/held');
  await ready(agent, info);
  const item = (n: string) => agent.getByRole('listitem').filter({ has: agent.getByRole('heading', { name: new RegExp(`Order ${n}`) }) });
  await expect(item(a)).toContainText('nobody yet');
  expect(await seriousA11yViolations(agent, info)).toEqual([]);

  // Bulk: "I'm on them" for A and B.
  await agent.getByLabel(`Select order ${a}`).check();
  await agent.getByLabel(`Select order ${b}`).check();
  if (isHydrated(info)) await expect(agent.getByText('2 orders selected.')).toBeVisible();
  await agent.getByLabel('Action', { exact: true }).selectOption('take');
  await agent.getByRole('button', { name: 'Apply to selected' }).click();
  await expect(item(a)).toContainText('agent@e2e.test');
  await expect(item(b)).toContainText('agent@e2e.test');
  await expect(item(c)).toContainText('nobody yet');
  if (isHydrated(info)) await expect(agent.getByRole('status').filter({ hasText: /2 orders taken: BULK-A-.*, BULK-B-/ })).toBeVisible();
  await screenshot(agent, info, 'held-bulk');

  // A's address is dead (the relay refused it as unknown), so no re-send by
  // e-mail is offered in its row, and the server refuses one with what to do
  // instead; nothing is queued. (A re-send that goes out through the chosen
  // pool is proved with a real worker in server/tests/held_queue.rs.)
  await expect(item(a)).toContainText('e-mail dead');
  await expect(item(a).getByLabel('Re-send via')).toHaveCount(0);
  await expect(item(a).getByRole('button', { name: 'E-mail a fresh link' })).toHaveCount(0);
  const refused = await agent.request.post('/fn/support/email_link', {
    headers: { accept: 'application/json' },
    form: { order_number: a },
  });
  expect(refused.status()).toBe(409);
  expect(await refused.text()).toContain('send the link by SMS instead');
  const timeline = async () => {
    const order = await (await api.get(`/api/v1/orders/${a}`)).json();
    return JSON.stringify(order);
  };
  expect(await timeline()).not.toMatch(/chosen by an agent/);

  if (isHydrated(info)) {
    // A colleague (the admin) resolves C; the agent's open page drops it by itself.
    const res = await page.request.post('/fn/support/resolve', {
      headers: { accept: 'application/json' },
      form: { order_number: c, note: 'handled by a colleague' },
    });
    expect(res.status()).toBe(200);
    await expect(item(c)).toHaveCount(0, { timeout: 20_000 });
  }

  // Bulk resolve A and B with one note.
  await agent.getByLabel(`Select order ${a}`).check();
  await agent.getByLabel(`Select order ${b}`).check();
  await agent.getByLabel('Action', { exact: true }).selectOption('resolve');
  await agent.getByLabel('Note (for resolve)').fill('receipts re-sent; both confirmed by phone');
  await agent.getByRole('button', { name: 'Apply to selected' }).click();
  await expect(item(a)).toHaveCount(0);
  await expect(item(b)).toHaveCount(0);
  await agentContext.close();
  await api.dispose();
});
