import { test, expect } from '@playwright/test';
import { login, postAccepted, postDsn, ready, screenshot, seriousA11yViolations, isHydrated, shopApi } from './helpers';

// A guest's address is dead: the order goes straight to the support queue as
// critical. An agent takes it, texts a fresh link (captured in the dev
// outbox), logs the call as reached, and the case leaves the queue.
test('an agent works a critical held order from the queue', async ({ page, browser }, info) => {
  await login(page, info, 'admin@e2e.test');
  const api = await shopApi(page, info, `held ${info.project.name}`);
  const number = `HQ-${info.project.name}-${Date.now()}`;
  const email = `gone-${Date.now()}@example.net`;
  const messageId = await postAccepted(api, {
    order_number: number,
    placed_at: '2026-11-27T21:00:00Z',
    currency: 'USD',
    items: [{ name: 'Desk', quantity: 1, unit_price: 25000 }],
    totals: { subtotal: 25000, total: 25000 },
    customer: { email, name: 'Hal Held', phone: '+15551230000', account_kind: 'social' },
  });
  await postDsn(api, email, messageId, '5.1.1', '550 5.1.1 The email account that you tried to reach does not exist');
  await expect.poll(async () => (await (await api.get(`/api/v1/orders/${number}`)).json()).fallback).toBe('critical');

  const agentContext = await browser.newContext({ javaScriptEnabled: isHydrated(info) });
  const agent = await agentContext.newPage();
  await login(agent, info, 'agent@e2e.test');
  await agent.goto('/held');
  await ready(agent, info);
  const item = agent.getByRole('listitem').filter({ has: agent.getByRole('heading', { name: new RegExp(`Order ${number}`) }) });
  await expect(item).toContainText('the address is dead');
  await expect(item).toContainText('due in');
  await expect(item).toContainText('nobody yet');
  expect(await seriousA11yViolations(agent, info)).toEqual([]);

  await item.getByRole('button', { name: "I'm on it" }).click();
  await expect(item).toContainText('agent@e2e.test');
  await item.getByRole('button', { name: 'Text a fresh link' }).click();
  if (isHydrated(info)) await expect(agent.getByRole('status').filter({ hasText: 'texted' })).toBeVisible();
  await screenshot(agent, info, 'held-queue');

  // The SMS (capture provider) with a working link, seen on the admin Outbox.
  await expect.poll(async () => {
    await page.goto('/admin/outbox');
    return (await page.locator('body').textContent())?.includes(`your receipt for order ${number}`) ?? false;
  }).toBe(true);

  await item.getByLabel('Call outcome').selectOption('reached');
  await item.getByRole('button', { name: 'Log call' }).click();
  await expect(agent.getByRole('heading', { name: new RegExp(`Order ${number}`) })).toHaveCount(0);
  const status = await (await api.get(`/api/v1/orders/${number}`)).json();
  expect(status.reached_via).toBe('support_call');
  await agentContext.close();
  await api.dispose();
});
