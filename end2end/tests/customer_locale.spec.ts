import { test, expect, Browser, TestInfo } from '@playwright/test';
import * as fs from 'fs';
import { isHydrated, login, postAccepted, postDsn, screenshot, seriousA11yViolations, shopApi } from './helpers';

// The customer's receipt page in the browser's language (the order names
// none): Indonesian for `Accept-Language: id-ID`, English for en-US, on a
// 360 px phone, with JavaScript on (hydrated project) and off (no-js). The
// page loads no script and no WASM and stays under 60 KB on the wire.
test('the receipt link page speaks the customer\'s language', async ({ page, browser }, info) => {
  await login(page, info, 'admin@e2e.test');
  const api = await shopApi(page, info, `locale ${info.project.name}`);
  const number = `LC-${info.project.name}-${Date.now()}`;
  const email = `putu-${Date.now()}@example.net`;
  const messageId = await postAccepted(api, {
    order_number: number,
    placed_at: '2026-11-27T21:00:00Z',
    currency: 'IDR',
    items: [{ name: 'Kemeja batik', quantity: 1, unit_price: 15000000 }],
    totals: { subtotal: 15000000, tax: 0, shipping: 0, discount: 0, total: 15000000 },
    customer: { email, name: 'Putu Sari', account_kind: 'guest' },
  });
  // The receiving server refuses the receipt's content later: the order is
  // held and the secure link goes out through the masked pool. A content
  // error (Sisimai's contenterror), not "content rejected", which Sisimai
  // reads as spam and we retry through another pool.
  await postDsn(api, email, messageId, '5.6.0', '554 5.6.0 This message contain invalid MIME headers');
  await expect.poll(async () => (await (await api.get(`/api/v1/orders/${number}`)).json()).fallback).toBe('masked_link');
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

  const id = await openAs(browser, info, path, 'id-ID', 'customer-receipt-id');
  expect(id.lang).toBe('id-ID');
  await expect(id.page.getByRole('heading', { name: `Struk untuk pesanan ${number}` })).toBeVisible();
  const main = id.page.getByRole('main');
  await expect(main).toContainText('Kemeja batik');
  expect(normal(await main.textContent())).toContain('Rp150.000');
  await expect(main).toContainText('Harga satuan');
  await expect(id.page.getByRole('link', { name: 'Unduh PDF' })).toBeVisible();
  await expect(main).not.toContainText('Download PDF');
  const [download] = await Promise.all([
    id.page.waitForEvent('download'),
    id.page.getByRole('link', { name: 'Unduh PDF' }).click(),
  ]);
  const pdf = fs.readFileSync((await download.path())!).toString('latin1');
  expect(pdf).toContain('Struk Pembelian');
  expect(pdf).toContain('Rp150.000');
  await id.context.close();

  const en = await openAs(browser, info, path, 'en-US', 'customer-receipt-en');
  expect(en.lang).toBe('en-US');
  await expect(en.page.getByRole('heading', { name: `Receipt for order ${number}` })).toBeVisible();
  expect(normal(await en.page.getByRole('main').textContent())).toContain('IDR 150,000');
  await expect(en.page.getByRole('link', { name: 'Download PDF' })).toBeVisible();
  await en.context.close();

  // The expired/unknown page and its fresh-link form, in Indonesian.
  const gone = await openAs(browser, info, `/r/${'x'.repeat(43)}`, 'id-ID', 'customer-expired-id');
  await expect(gone.page.getByRole('heading', { name: 'Tautan struk ini sudah kedaluwarsa atau tidak berlaku' })).toBeVisible();
  await gone.page.getByRole('button', { name: 'Kirimi saya tautan baru' }).click();
  await expect(gone.page.getByRole('status')).toContainText('tautan baru sedang dikirim');
  await expect(gone.page.locator('script')).toHaveCount(0);
  await gone.context.close();
  await api.dispose();
});

/** CLDR puts a no-break space between some symbols and numbers. */
function normal(s: string | null): string {
  return (s ?? '').replace(/[\u00a0\u202f]/g, ' ');
}

/** Opens `path` as a customer on a 360 px phone whose browser asks for
 * `locale`; checks the page carries no script or WASM, weighs at most 60 KB
 * on the wire, fits the screen and has no serious accessibility problem. */
async function openAs(browser: Browser, info: TestInfo, path: string, locale: string, shot: string) {
  const context = await browser.newContext({
    javaScriptEnabled: isHydrated(info),
    acceptDownloads: true,
    locale,
    viewport: { width: 360, height: 740 },
  });
  const page = await context.newPage();
  const loaded: { url: string; bytes: number }[] = [];
  page.on('requestfinished', async (req) => {
    const sizes = await req.sizes();
    loaded.push({ url: req.url(), bytes: sizes.responseBodySize + sizes.responseHeadersSize });
  });
  await page.goto(path, { waitUntil: 'networkidle' });
  expect(loaded.filter((r) => /\.(wasm|js)(\?|$)/.test(r.url)), JSON.stringify(loaded)).toEqual([]);
  const transferred = loaded.reduce((n, r) => n + r.bytes, 0);
  console.log(`customer page ${locale} (${info.project.name}): ${loaded.length} responses, ${transferred} bytes transferred`);
  expect(transferred, JSON.stringify(loaded)).toBeLessThanOrEqual(60 * 1024);
  await expect(page.locator('script')).toHaveCount(0);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  expect(await seriousA11yViolations(page, info)).toEqual([]);
  await screenshot(page, info, `${shot}-${info.project.name}`);
  const lang = (await page.locator('html').getAttribute('lang')) ?? '';
  return { context, page, lang };
}
