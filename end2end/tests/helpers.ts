import { APIRequestContext, Page, TestInfo, expect, request as playwrightRequest } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

export const PASSWORD = 'e2e password for tests';

export const isHydrated = (info: TestInfo) => info.project.name === 'hydrated';

/** With JavaScript on, wait until the wasm has hydrated the page. */
export async function ready(page: Page, info: TestInfo) {
  if (isHydrated(info)) {
    // The debug build's WASM on a busy 2-core machine: allow it time.
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
  }
}

export async function login(page: Page, info: TestInfo, email: string, password = PASSWORD) {
  await page.goto('/login');
  await ready(page, info);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (password === PASSWORD) {
    // Wait until the session exists before the test navigates on.
    await expect(page).not.toHaveURL(/\/login/);
  }
}

/** Runs axe-core in the page; returns serious and critical violations. The
 * no-js project renders the same server HTML, which the hydrated run checks. */
export async function seriousA11yViolations(page: Page, info: TestInfo) {
  if (!isHydrated(info)) return [];
  const axePath = require.resolve('axe-core/axe.min.js');
  // Evaluated through the driver, so it also runs on pages with JavaScript off.
  const source = fs.readFileSync(axePath, 'utf8');
  const result: any = await page.evaluate(
    `(async () => { ${source}; return await axe.run(document, { resultTypes: ['violations'] }); })()`,
  );
  return (result.violations as any[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.length} nodes)`);
}

export async function screenshot(page: Page, info: TestInfo, name: string) {
  const file = path.join(info.outputDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await info.attach(name, { path: file, contentType: 'image/png' });
}

/** Creates an API key on the API keys page (signed in as admin) and returns its secret. */
export async function createApiKey(page: Page, info: TestInfo, name: string): Promise<string> {
  await page.goto('/admin/api-keys');
  await ready(page, info);
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Create key' }).click();
  const secretBox = page.getByTestId('fresh-secret');
  await expect(secretBox).toBeVisible();
  return (await secretBox.textContent())?.trim() ?? '';
}

/** A shop's API client, with a fresh key the signed-in admin on `page` creates. */
export async function shopApi(page: Page, info: TestInfo, name: string): Promise<APIRequestContext> {
  const secret = await createApiKey(page, info, name);
  return playwrightRequest.newContext({
    baseURL: info.project.use.baseURL,
    extraHTTPHeaders: { Authorization: `Bearer ${secret}` },
  });
}

/** Posts `order` (202) and waits until its receipt is accepted; the first
 * attempt's Message-ID, which a bounce quotes. */
export async function postAccepted(api: APIRequestContext, order: object): Promise<string> {
  const number = (order as { order_number: string }).order_number;
  expect((await api.post('/api/v1/orders', { data: order })).status()).toBe(202);
  let messageId = '';
  await expect.poll(async () => {
    const body = await (await api.get(`/api/v1/orders/${number}`)).json();
    messageId = body.attempts?.[0]?.message_id ?? '';
    return body.status;
  }).toBe('accepted');
  return messageId;
}

/** The receiving server's RFC 3464 report that `email` failed with `status`
 * and `diagnostic`, quoting the message's headers; posted to the inbound
 * bounce endpoint (202). */
export async function postDsn(api: APIRequestContext, email: string, messageId: string, status: string, diagnostic: string) {
  const dsn = [
    'From: MAILER-DAEMON@mx.example.net', 'To: bounce@bounce.rebound.local',
    'Subject: Undelivered Mail Returned to Sender', 'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUND"', '',
    '--BOUND', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.example.net', '',
    `Final-Recipient: rfc822; ${email}`, 'Action: failed', `Status: ${status}`, `Diagnostic-Code: smtp; ${diagnostic}`, '',
    '--BOUND', 'Content-Type: text/rfc822-headers', '', `Message-ID: <${messageId}>`, `To: ${email}`, '',
    '--BOUND--', '',
  ].join('\r\n');
  const res = await api.post('/api/v1/inbound/bounce', { headers: { 'Content-Type': 'message/rfc822' }, data: dsn });
  expect(res.status()).toBe(202);
}
