import { test, expect, request as playwrightRequest, APIRequestContext, Page, TestInfo } from '@playwright/test';
import { createApiKey, isHydrated, login, ready } from './helpers';
import { axeViolations } from './staff_helpers';

// The held queue and the order page as an agent works them (issue 33,
// problems 1, 2, 5 and 6, and the order page): a call is followed by the
// text it promises; one notice per action names the order, amber when
// nothing was done, and comes back through the redirect with JavaScript off;
// "Regenerate" asks first, lists the live links and whom they went to, and
// never e-mails a dead address; the order page has the agent's actions, its
// codes in words, attempts numbered 1, 2, 3 and what happens next. At 1440
// and 390 px, hydrated and with JavaScript off, axe finding nothing.

async function apiFor(page: Page, info: TestInfo): Promise<APIRequestContext> {
  await login(page, info, 'admin@e2e.test');
  const secret = await createApiKey(page, info, `staff held ${info.project.name} ${Date.now()}`);
  return playwrightRequest.newContext({
    baseURL: info.project.use.baseURL,
    extraHTTPHeaders: { Authorization: `Bearer ${secret}` },
  });
}

/** An order to `email` with a phone; `.invalid` addresses are refused by the
 * capturing relay as unknown, so those orders are held at once as dead and
 * go to the support queue (critical). */
async function postOrder(api: APIRequestContext, number: string, email: string) {
  expect((await api.post('/api/v1/orders', {
    data: {
      order_number: number,
      placed_at: '2026-12-06T09:00:00Z',
      currency: 'IDR',
      items: [{ name: 'Kemeja batik', quantity: 1, unit_price: 150000 }],
      totals: { subtotal: 150000, total: 150000 },
      customer: { email, name: 'Sari Wulandari', phone: '+6281234567890', account_kind: 'guest' },
    },
  })).status()).toBe(202);
}

const item = (page: Page, n: string) =>
  page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: new RegExp(`Order ${n}`) }) });

/** The one notice on the page (there is never more than one). */
async function notice(page: Page) {
  const n = page.getByTestId('action-notice');
  await expect(n).toHaveCount(1);
  return n;
}

for (const width of [1440, 390]) {
  test.describe(`at ${width} px`, () => {
    test.use({ viewport: { width, height: width > 600 ? 900 : 844 } });

    test('an agent calls, and the text the call promises goes out; notices name the order', async ({ page, browser }, info) => {
      const api = await apiFor(page, info);
      const stamp = `${info.project.name}-${width}-${Date.now()}`;
      const [a, b] = [`CALL-A-${stamp}`, `CALL-B-${stamp}`];
      for (const n of [a, b]) {
        await postOrder(api, n, `${n.toLowerCase()}@mailbox.invalid`);
        await expect.poll(async () => (await (await api.get(`/api/v1/orders/${n}`)).json()).fallback, { timeout: 20_000 })
          .toBe('critical');
      }
      const ctx = await browser.newContext({ javaScriptEnabled: isHydrated(info), viewport: { width, height: 900 } });
      const agent = await ctx.newPage();
      await login(agent, info, 'agent@e2e.test');
      await agent.goto('/held');
      await ready(agent, info);
      await expect(agent.getByRole('heading', { name: 'Held queue: cases needing an agent', level: 1 })).toBeVisible();
      await expect(agent.getByTestId('cases-count')).toContainText(/cases? needs? an agent/);
      // A dead address: no e-mail buttons in the row, the phone first.
      await expect(item(agent, a)).toContainText('e-mail dead');
      await expect(item(agent, a).getByRole('button', { name: 'E-mail a fresh link' })).toHaveCount(0);
      await expect(item(agent, a).getByRole('link', { name: 'Regenerate link…' })).toHaveCount(0);
      expect(await axeViolations(agent)).toEqual([]);

      await item(agent, a).getByRole('button', { name: 'Call (then text the link)' }).click();
      if (!isHydrated(info)) await expect(agent).toHaveURL(new RegExp(`/held\\?done=called&orders=${a}$`));
      await expect(await notice(agent)).toHaveText(
        `Order ${a}: the call was started, and the secure link it promises was texted to the same phone.`);
      await expect(await notice(agent)).toHaveClass(/notice ok/);
      // The next action replaces the notice; it names its own order.
      await item(agent, b).getByRole('button', { name: "I'm on it" }).click();
      await expect(await notice(agent)).toHaveText(`Order ${b}: you are on it. Other agents see your name.`);
      await expect(item(agent, b)).toContainText('agent@e2e.test');

      // The call and the text, in that order, in the dev outbox (the admin's page).
      await expect.poll(async () => {
        await page.goto('/admin/outbox');
        const text = (await page.locator('body').textContent()) ?? '';
        return text.includes(`your receipt for order ${a}`) && text.includes('sending you a text message');
      }).toBe(true);

      // Nothing done is amber: e-mailing fresh links to dead addresses does nothing.
      await agent.getByLabel(`Select order ${a}`).check();
      await agent.getByLabel(`Select order ${b}`).check();
      await agent.getByLabel('Action', { exact: true }).selectOption('email');
      await agent.getByRole('button', { name: 'Apply to selected' }).click();
      await expect(await notice(agent)).toHaveText('No order was sent a fresh link.');
      await expect(await notice(agent)).toHaveClass(/notice warn/);
      await expect(agent.getByRole('alert')).toContainText(a);
      expect(await axeViolations(agent)).toEqual([]);

      // Clean up: resolve both.
      await agent.getByLabel(`Select order ${a}`).check();
      await agent.getByLabel(`Select order ${b}`).check();
      await agent.getByLabel('Action', { exact: true }).selectOption('resolve');
      await agent.getByLabel('Note (for resolve)').fill('reached by phone, receipt texted');
      await agent.getByRole('button', { name: 'Apply to selected' }).click();
      await expect(await notice(agent)).toHaveText(`2 orders resolved: ${a}, ${b}.`);
      await expect(item(agent, a)).toHaveCount(0);
      await ctx.close();
      await api.dispose();
    });

    test('regenerate asks first, lists the live links, and never e-mails a dead address', async ({ page, browser }, info) => {
      const api = await apiFor(page, info);
      const stamp = `${info.project.name}-${width}-${Date.now()}`;
      const [ok, dead] = [`REGEN-OK-${stamp}`, `REGEN-DEAD-${stamp}`];
      await postOrder(api, ok, `${ok.toLowerCase()}@example.com`);
      await postOrder(api, dead, `${dead.toLowerCase()}@mailbox.invalid`);
      await expect.poll(async () => (await (await api.get(`/api/v1/orders/${ok}`)).json()).status).toBe('accepted');
      await expect.poll(async () => (await (await api.get(`/api/v1/orders/${dead}`)).json()).fallback, { timeout: 20_000 })
        .toBe('critical');

      const ctx = await browser.newContext({ javaScriptEnabled: isHydrated(info), viewport: { width, height: 900 } });
      const agent = await ctx.newPage();
      await login(agent, info, 'agent@e2e.test');
      const res = await agent.goto(`/orders/${ok}`);
      expect(res?.status()).toBe(200);
      await ready(agent, info);
      await expect(agent.getByTestId('next-step')).toContainText('What happens next: Nothing more unless a bounce comes back');
      // Attempts numbered from 1, what they sent and their outcome in words.
      const attempts = agent.getByRole('table', { name: 'Send attempts' });
      await expect(attempts.locator('tbody tr').first().locator('td').first()).toHaveText('1');
      await expect(attempts.locator('tbody tr').first()).toContainText('Receipt');
      await expect(attempts.locator('tbody tr').first()).toContainText('Accepted by the mail server');
      const reach = agent.getByRole('region', { name: 'Reach the customer' });
      await reach.getByRole('button', { name: 'Text a fresh link' }).click();
      await expect(await notice(agent)).toHaveText(`Order ${ok}: a secure link was texted to the customer's phone.`);
      await expect(agent.getByTestId('live-links')).toContainText('Texted to +62');
      expect(await axeViolations(agent)).toEqual([]);

      await agent.getByRole('link', { name: 'Regenerate link…' }).click();
      const confirm = agent.getByRole('region', { name: 'Regenerate the secure link?' });
      await expect(confirm).toBeVisible();
      await expect(confirm).toContainText('This revokes the link that opens the receipt now');
      await expect(confirm).toContainText('Texted to +62');
      await expect(confirm).toContainText('by agent@e2e.test');
      expect(await axeViolations(agent)).toEqual([]);
      await confirm.getByRole('button', { name: 'Revoke 1 link and e-mail a fresh one' }).click();
      await expect(await notice(agent)).toHaveText(
        `Order ${ok}: the earlier links were revoked and a fresh link is being e-mailed through the masked sender.`);
      await expect(agent.getByRole('region', { name: 'Regenerate the secure link?' })).toHaveCount(0);
      // The timeline in words.
      const timeline = agent.locator('ol.timeline');
      await expect(timeline).toContainText(/Secure link texted by/);
      await expect(timeline).toContainText(/Links regenerated by/);
      await expect(timeline).not.toContainText('support.');
      await expect(timeline).not.toContainText('masked_email');

      // A dead address: the confirmation offers the phone, never e-mail.
      await agent.goto(`/orders/${dead}?confirm=regenerate`);
      await ready(agent, info);
      const deadConfirm = agent.getByRole('region', { name: 'Regenerate the secure link?' });
      await expect(deadConfirm).toContainText('No link is e-mailed to this order');
      await expect(deadConfirm.getByRole('button', { name: /e-mail/i })).toHaveCount(0);
      await expect(agent.getByTestId('next-step')).toContainText('Waiting for an agent');
      await deadConfirm.getByRole('button', { name: 'Text a fresh link instead (earlier links keep working)' }).click();
      await expect(await notice(agent)).toHaveText(`Order ${dead}: a secure link was texted to the customer's phone.`);
      // The case buttons are on the order page too.
      await agent.getByRole('region', { name: 'Reach the customer' }).getByRole('button', { name: "I'm on it" }).click();
      await expect(await notice(agent)).toHaveText(`Order ${dead}: you are on it. Other agents see your name.`);
      await expect(agent.getByTestId('next-step')).toContainText('agent@e2e.test is on it');
      await expect(agent.locator('ol.timeline')).toContainText('Taken by');
      expect(await axeViolations(agent)).toEqual([]);
      await ctx.close();
      await api.dispose();
    });
  });
}
