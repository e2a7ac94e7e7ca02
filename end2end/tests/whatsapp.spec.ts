import { test, expect } from '@playwright/test';
import { login, postAccepted, postDsn, ready, screenshot, seriousA11yViolations, isHydrated, shopApi } from './helpers';

// A high-value guest order whose customer opted in to WhatsApp bounces hard:
// the fallback sends the secure link on WhatsApp (captured in development)
// and, for the amount, opens a case. The agent's queue offers "Send link on
// WhatsApp" for it; the fresh link shows up in the Outbox as WhatsApp.
test('the held queue offers WhatsApp for a customer who opted in', async ({ page, browser }, info) => {
  await login(page, info, 'admin@e2e.test');
  const api = await shopApi(page, info, `whatsapp ${info.project.name}`);
  const number = `WA-${info.project.name}-${Date.now()}`;
  const email = `gone-wa-${Date.now()}@example.net`;
  const messageId = await postAccepted(api, {
    order_number: number,
    placed_at: '2026-11-27T21:00:00Z',
    currency: 'USD',
    items: [{ name: 'Surfboard', quantity: 1, unit_price: 60000 }],
    totals: { subtotal: 60000, total: 60000 },
    customer: {
      email, name: 'Putu Sari', phone: '+6281234567890', account_kind: 'guest', whatsapp_opt_in: true,
    },
  });
  await postDsn(api, email, messageId, '5.1.1', '550 5.1.1 The email account that you tried to reach does not exist');
  await expect.poll(async () => (await (await api.get(`/api/v1/orders/${number}`)).json()).fallback).toBe('whatsapp_link');

  const agentContext = await browser.newContext({ javaScriptEnabled: isHydrated(info) });
  const agent = await agentContext.newPage();
  await login(agent, info, 'agent@e2e.test');
  await agent.goto('/held');
  await ready(agent, info);
  const item = agent.getByRole('listitem').filter({ has: agent.getByRole('heading', { name: new RegExp(`Order ${number}`) }) });
  await expect(item).toContainText('secure link sent on WhatsApp');
  const button = item.getByRole('button', { name: 'Send link on WhatsApp' });
  await expect(button).toBeVisible();
  expect(await seriousA11yViolations(agent, info)).toEqual([]);
  await button.click();
  if (isHydrated(info)) await expect(agent.getByRole('status').filter({ hasText: 'on WhatsApp' })).toBeVisible();
  await screenshot(agent, info, 'held-whatsapp');

  // Two WhatsApp messages for this order in the Outbox (the fallback's and
  // the agent's) beside the receipt email that bounced.
  await expect.poll(async () => {
    await page.goto('/admin/outbox');
    const rows = page.getByRole('row').filter({ hasText: number });
    return await rows.filter({ hasText: 'WhatsApp' }).count();
  }).toBe(2);
  await agentContext.close();
  await api.dispose();
});
