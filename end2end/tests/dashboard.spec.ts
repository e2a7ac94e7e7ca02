import { test, expect } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { isHydrated, login, ready, screenshot, seriousA11yViolations } from './helpers';

// The real `rebound` binary on the suite's database (see start-server.sh).
const root = path.resolve(__dirname, '..', '..');
function rebound(args: string[]): string {
  return execFileSync(path.join(root, 'target/debug/rebound'), args, {
    cwd: root,
    env: { ...process.env, DATABASE_URL: `sqlite://${path.join(root, 'end2end/.data/e2e.db')}` },
    encoding: 'utf8',
  });
}

// Twenty days of generated history (through `rebound demo seed`, which also
// refreshes the rollups), then a manager reads the overview, the trend charts,
// and downloads a chart's CSV. The demo data is removed again afterwards.
test('a manager reads the overview and the trends and downloads a CSV', async ({ page }, info) => {
  // `--force`: delivery.spec adds a pool with a real relay URL to this test
  // database, and seeding refuses such databases unless told.
  expect(rebound(['demo', 'seed', '--force', '--orders', '300', '--days', '20', '--seed', isHydrated(info) ? '1' : '2']))
    .toContain('seeded 300 demo orders over 20 days');
  try {
    await login(page, info, 'manager@e2e.test');
    await page.goto('/');
    await ready(page, info);
    const table = page.getByRole('table', { name: 'Delivery overview' });
    await expect(table).toBeVisible();
    await expect(table.getByRole('columnheader', { name: 'Last 30 days' })).toBeVisible();
    const orders30 = await table.locator('tbody tr').first().locator('td').nth(2).textContent();
    expect(Number(orders30?.replace(/,/g, ''))).toBeGreaterThanOrEqual(300);
    const bounce = table.getByRole('row', { name: /^Bounce rate/ });
    await expect(bounce.locator('td').nth(2)).toContainText(/\d+\.\d %/);
    // The level in words, not colour alone, and the threshold visible and on hover.
    await expect(bounce.locator('td').nth(2)).toContainText(/· (OK|Warning|Critical|Too few to rate)/);
    await expect(bounce).toContainText('warning at 5 %, critical at 10 % of sent');
    await expect(bounce.locator('td .badge').nth(2)).toHaveAttribute('title', /critical at 10 %/);
    await expect(table.getByRole('row', { name: /^Reach rate/ }).locator('td').nth(2)).toContainText('orders reached');
    await expect(page.getByText(/Includes demo orders/)).toBeVisible();
    await expect(page.getByTestId('held-now')).toContainText('Orders held, not yet reached:');
    await screenshot(page, info, 'overview');
    expect(await seriousA11yViolations(page, info)).toEqual([]);

    await page.getByRole('link', { name: 'Trends', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Trends', level: 1 })).toBeVisible();
    await ready(page, info);
    await page.getByLabel('Range', { exact: true }).selectOption('7');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect(page).toHaveURL(/\/trends\?days=7/);
    // Without JavaScript that was a full page load: until its stylesheet is
    // applied, the wide and the narrow drawing both show and
    // the locator below would match two images.
    await page.waitForLoadState('load');
    const chart = page.getByRole('img', { name: /in total and per class/ });
    await expect(chart).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Daily bounce rate by recipient provider' })).toBeVisible();
    await expect(page.getByRole('img', { name: /per recipient mailbox provider/ })).toBeVisible();
    await expect(page.getByText(/Over the range: all classes \d+\.\d % \(\d+ of \d+\)/)).toBeVisible();
    // Every chart is also served (with the session) as an SVG file.
    for (const name of await page.locator('section.chart').evaluateAll((s) => s.map((e) => e.getAttribute('data-chart')))) {
      const src = `/charts/${name}.svg?days=7`;
      const res = await page.request.get(src);
      expect(res.status(), src).toBe(200);
      expect(res.headers()['content-type']).toBe('image/svg+xml');
      expect(await res.text()).toContain('<svg');
    }
    await screenshot(page, info, 'trends');
    expect(await seriousA11yViolations(page, info)).toEqual([]);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download CSV of Daily bounce rate by class' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('rebound-bounce-class-7d.csv');
    const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('date,series,percent,count,of,rated');
    expect(csv).toHaveLength(1 + 7 * 5);
    expect(csv.some((l) => /^\d{4}-\d\d-\d\d,all classes,\d+\.\d\d,\d+,[1-9]\d*,(yes|no)$/.test(l))).toBe(true);

    // A custom range: two dates (UTC) override the preset, in the page, its
    // chart links and the CSV.
    const utcDay = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
    const [from, to] = [utcDay(9), utcDay(5)];
    await page.getByLabel('or from').fill(from);
    await page.getByLabel('to', { exact: true }).fill(to);
    await page.getByRole('button', { name: 'Show' }).click();
    await expect(page).toHaveURL(new RegExp(`from=${from}&to=${to}`));
    await expect(page.getByText(`${from} to ${to} (UTC days)`)).toBeVisible();
    await expect(page.getByRole('link', { name: 'Download CSV of Daily bounce rate by class' }))
      .toHaveAttribute('href', `/charts/bounce-class.csv?from=${from}&to=${to}`);
    const [custom] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download CSV of Daily bounce rate by class' }).click(),
    ]);
    expect(custom.suggestedFilename()).toBe(`rebound-bounce-class-${from}_${to}.csv`);
    expect(fs.readFileSync(await custom.path(), 'utf8').trim().split('\n')).toHaveLength(1 + 5 * 5);
  } finally {
    expect(rebound(['demo', 'clear'])).toMatch(/removed \d+ demo orders/);
  }
});
