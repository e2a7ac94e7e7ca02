import { test, expect, request as playwrightRequest } from '@playwright/test';
import * as fs from 'fs';
import { createApiKey, isHydrated, login, ready, screenshot, seriousA11yViolations } from './helpers';

// Email fails for a guest: the accepted receipt comes back as a DSN (content
// refused, not a dead address), the order is held, the fallback
// re-sends a secure link through the masked pool, the customer opens it (with
// JavaScript on and off), downloads the PDF, and the order shows as reached.
test('a held guest order reaches the customer through a secure link', async ({ page, browser }, info) => {
  await login(page, info, 'admin@e2e.test');
  const secret = await createApiKey(page, info, `fallback ${info.project.name}`);
  const api = await playwrightRequest.newContext({
    baseURL: info.project.use.baseURL,
    extraHTTPHeaders: { Authorization: `Bearer ${secret}` },
  });
  const number = `FB-${info.project.name}-${Date.now()}`;
  const email = `guest-${Date.now()}@example.net`;
  const res = await api.post('/api/v1/orders', {
    data: {
      order_number: number,
      placed_at: '2026-11-27T21:00:00Z',
      currency: 'EUR',
      items: [{ name: 'Brass lamp', quantity: 1, unit_price: 8900 }],
      totals: { subtotal: 8900, tax: 0, shipping: 0, discount: 0, total: 8900 },
      customer: { email, name: 'Gia Guest', account_kind: 'guest' },
    },
  });
  expect(res.status()).toBe(202);
  let messageId = '';
  await expect.poll(async () => {
    const body = await (await api.get(`/api/v1/orders/${number}`)).json();
    messageId = body.attempts?.[0]?.message_id ?? '';
    return body.status;
  }).toBe('accepted');

  // The receiving server refuses its content later (RFC 3464 DSN).
  const dsn = [
    'From: MAILER-DAEMON@mx.example.net',
    `To: bounce@bounce.rebound.local`,
    'Subject: Undelivered Mail Returned to Sender',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUND"',
    '',
    '--BOUND',
    'Content-Type: text/plain',
    '',
    'Your message could not be delivered.',
    '--BOUND',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.net',
    '',
    `Final-Recipient: rfc822; ${email}`,
    'Action: failed',
    'Status: 5.6.0',
    'Diagnostic-Code: smtp; 554 5.6.0 Message content rejected: malformed MIME',
    '',
    '--BOUND',
    'Content-Type: text/rfc822-headers',
    '',
    `Message-ID: <${messageId}>`,
    `To: ${email}`,
    '',
    '--BOUND--',
    '',
  ].join('\r\n');
  const bounced = await api.post('/api/v1/inbound/bounce', { headers: { 'Content-Type': 'message/rfc822' }, data: dsn });
  expect(bounced.status()).toBe(202);
  expect((await bounced.json()).matched).toBe(1);
  await expect.poll(async () => (await (await api.get(`/api/v1/orders/${number}`)).json()).fallback).toBe('masked_link');

  // The masked pool's message (captured in the dev outbox) carries the link.
  const subject = `Your receipt for order ${number} is ready`;
  await expect.poll(async () => {
    await page.goto('/admin/outbox');
    return page.getByRole('link', { name: subject }).count();
  }).toBe(1);
  await page.getByRole('link', { name: subject }).click();
  const text = (await page.locator('pre.mail-text').first().textContent()) ?? '';
  const link = text.match(/https?:\/\/\S+\/r\/[A-Za-z0-9_-]{43}/)?.[0] ?? '';
  expect(link, text).not.toBe('');
  const path = new URL(link).pathname;

  // The customer: JavaScript on in the hydrated project, off in the no-js one.
  const customer = await browser.newContext({ javaScriptEnabled: isHydrated(info), acceptDownloads: true });
  const cpage = await customer.newPage();
  // The customer's page loads no script and no WASM, and little else: every
  // response's encoded body and headers, as the network carried them.
  const loaded: { url: string; bytes: number }[] = [];
  cpage.on('requestfinished', async (req) => {
    const sizes = await req.sizes();
    loaded.push({ url: req.url(), bytes: sizes.responseBodySize + sizes.responseHeadersSize });
  });
  await cpage.goto(path, { waitUntil: 'networkidle' });
  expect(loaded.filter((r) => /\.(wasm|js)(\?|$)/.test(r.url)), JSON.stringify(loaded)).toEqual([]);
  const transferred = loaded.reduce((n, r) => n + r.bytes, 0);
  console.log(`customer receipt page: ${loaded.length} responses, ${transferred} bytes transferred`);
  expect(transferred, JSON.stringify(loaded)).toBeLessThanOrEqual(60 * 1024);
  await expect(cpage.locator('script')).toHaveCount(0);
  expect(await seriousA11yViolations(cpage, info)).toEqual([]);
  await expect(cpage.getByRole('heading', { name: `Receipt for order ${number}` })).toBeVisible();
  await expect(cpage.getByRole('main')).toContainText('Brass lamp');
  await expect(cpage.getByRole('main')).toContainText('€89.00');
  await screenshot(cpage, info, 'customer-receipt');
  const [download] = await Promise.all([
    cpage.waitForEvent('download'),
    cpage.getByRole('link', { name: 'Download PDF' }).click(),
  ]);
  const file = await download.path();
  const pdf = fs.readFileSync(file!);
  expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  expect(pdf.toString('latin1')).toContain(number);
  await customer.close();

  const status = await (await api.get(`/api/v1/orders/${number}`)).json();
  expect(status.reached_via).toBe('link_opened');
  await page.goto(`/orders/${number}`);
  await ready(page, info);
  await expect(page.getByText('receipt reached the customer: link_opened')).toBeVisible();
  await api.dispose();
});

test('the customer page is accessible and an expired link offers a fresh one', async ({ page }, info) => {
  await page.goto(`/r/${'x'.repeat(43)}`);
  await expect(page.locator('script')).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'This receipt link has expired or is not valid' })).toBeVisible();
  expect(await seriousA11yViolations(page, info)).toEqual([]);
  await page.getByRole('button', { name: 'Send me a fresh link' }).click();
  await expect(page.getByRole('status')).toContainText('a fresh link is on its way');
});
