import { test, expect, Page, TestInfo } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { isHydrated, login, ready } from './helpers';

// What a manager reads (Overview, Trends), what an admin filters (Bounce
// rules) and the wide tables (Sender pools), at a desktop (1440 px) and a
// phone (390 px) width, hydrated and with JavaScript off, with axe finding
// nothing at any impact. Thirty days of demo history (`rebound demo seed`,
// which refreshes the rollups) are written first and removed at the end.

const root = path.resolve(__dirname, '..', '..');
const bin = process.env.REBOUND_E2E_BIN || path.join(root, 'target/debug/rebound');
const db = process.env.REBOUND_E2E_DB || path.join(root, 'end2end/.data/e2e.db');
function rebound(args: string[]): string {
  return execFileSync(bin, args, {
    cwd: root,
    env: { ...process.env, DATABASE_URL: `sqlite://${db}` },
    encoding: 'utf8',
  });
}

const WIDTHS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
];

/** Every axe violation, whatever its impact (axe-core run through the driver,
 * so it runs with JavaScript off too). */
async function axeViolations(page: Page): Promise<string[]> {
  // With JavaScript off nothing can run in the page; the server HTML is the
  // same one the hydrated run checks.
  if (!isHydrated(test.info())) return [];
  const source = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  const result: any = await page.evaluate(
    `(async () => { ${source}; return await axe.run(document, { resultTypes: ['violations'] }); })()`,
  );
  return (result.violations as any[]).map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n: any) => n.target.join(' ')).slice(0, 3).join(', ')}`,
  );
}

/** Nothing on the page is wider than the window: no sideways scrolling. */
async function pageScrollsSideways(page: Page): Promise<number> {
  return page.locator('html').evaluate((html) => html.scrollWidth - html.clientWidth);
}

async function visit(page: Page, info: TestInfo, url: string) {
  await page.goto(url);
  await ready(page, info);
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({}, info) => {
  expect(rebound(['demo', 'seed', '--force', '--orders', '3000', '--days', '30', '--seed', isHydrated(info) ? '5' : '6']))
    .toContain('seeded 3000 demo orders over 30 days');
});

test.afterAll(async () => {
  expect(rebound(['demo', 'clear'])).toMatch(/removed \d+ demo orders/);
});

for (const size of WIDTHS) {
  test.describe(`at ${size.width} px`, () => {
    test.use({ viewport: { width: size.width, height: size.height } });

    test('the Overview: five tiles with sparklines and states in words, every number visible', async ({ page }, info) => {
      await login(page, info, 'manager@e2e.test');
      await visit(page, info, '/');
      const tiles = page.locator('ul.kpis > li');
      await expect(tiles).toHaveCount(5);
      const names = ['Reach rate', 'Bounce rate', 'Complaint rate', 'Median time to receipt', 'Cases needing an agent'];
      for (const [i, key] of ['reach', 'bounce', 'complaint', 'ttr', 'cases'].entries()) {
        const tile = page.getByTestId(`kpi-${key}`);
        await expect(tile.getByRole('heading', { level: 3 })).toHaveText(names[i]);
        // The state in words (not colour alone), and a sparkline with a text alternative.
        await expect(tile.locator('.badge')).toHaveText(/^(OK|Warning|Critical|Too few to rate|No data yet)$/);
        await expect(tile.getByRole('img')).toHaveAttribute('aria-label', /per day over the last 30 days/);
        await expect(tile.locator('.kpi-note')).toContainText('per day, last 30 days');
        // The number and its state are on screen, not clipped or off to the side.
        for (const el of [tile.locator('.kpi-value'), tile.locator('.badge')]) {
          const box = await el.boundingBox();
          expect(box, `${key} value`).not.toBeNull();
          expect(box!.x).toBeGreaterThanOrEqual(0);
          expect(box!.x + box!.width).toBeLessThanOrEqual(size.width);
        }
      }
      await expect(page.getByTestId('kpi-bounce').locator('.kpi-value')).toContainText(/\d+\.\d %/);
      await expect(page.getByTestId('kpi-bounce')).toContainText('Warning from 5 %, critical from 10 % of sent');
      // Held orders and cases needing an agent are named apart.
      await expect(page.getByTestId('kpi-cases')).toContainText(/past their SLA\. Not the same as the \d+ orders held, not yet reached/);
      await expect(page.getByTestId('held-now')).toContainText(/Orders held, not yet reached: \d+/);
      await expect(page.getByTestId('held-now')).toContainText('Only the cases needing an agent are in the held queue');
      if (size.width < 600) {
        // Stacked: one tile per row, each below the last.
        const boxes = await tiles.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON()));
        for (let i = 1; i < boxes.length; i++) {
          expect(boxes[i].y).toBeGreaterThan(boxes[i - 1].y + boxes[i - 1].height - 1);
          expect(Math.abs(boxes[i].x - boxes[0].x)).toBeLessThan(1);
        }
      } else {
        const ys = await tiles.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().y));
        expect(new Set(ys.map(Math.round)).size, 'one row at 1440').toBe(1);
      }
      // A "Critical" in the detailed table is never from fewer than 20.
      const table = page.getByRole('table', { name: 'Delivery overview' });
      for (const cell of await table.locator('td').filter({ hasText: '· Critical' }).all()) {
        const of = Number(((await cell.textContent()) ?? '').match(/of ([\d,]+)/)?.[1]?.replace(/,/g, ''));
        expect(of).toBeGreaterThanOrEqual(20);
      }
      // The detailed table scrolls in its own labelled, focusable region.
      const region = page.getByRole('region', { name: /Delivery overview/ });
      await expect(region).toHaveAttribute('tabindex', '0');
      expect(await pageScrollsSideways(page)).toBeLessThanOrEqual(0);
      expect(await axeViolations(page)).toEqual([]);
    });

    test('Trends: inline charts with bands, legends below, samples on hover, no sideways scroll', async ({ page }, info) => {
      await login(page, info, 'manager@e2e.test');
      await visit(page, info, '/trends?days=30');
      const variant = size.width < 600 ? 'narrow' : 'wide';
      const bounce = page.locator(`section[data-chart="bounce-class"] .chart-draw.${variant} svg`);
      await expect(bounce).toBeVisible();
      await expect(page.locator(`section[data-chart="bounce-class"] .chart-draw.${variant === 'wide' ? 'narrow' : 'wide'} svg`)).toBeHidden();
      await expect(page.getByRole('img', { name: /in total and per class/ })).toBeVisible();
      // Type at least 12 px as drawn (font size x the scale of the drawing).
      const px = await bounce.evaluate((svg: SVGSVGElement) => {
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return Number(svg.getAttribute('font-size')) * scale;
      });
      expect(px).toBeGreaterThanOrEqual(12);
      // Threshold bands in words; the complaint chart has its own.
      await expect(bounce.locator('text', { hasText: 'warning from 5.0 %' }).first()).toBeAttached();
      await expect(bounce.locator('text', { hasText: 'critical from 10.0 %' }).first()).toBeAttached();
      const complaint = page.locator(`section[data-chart="complaint"] .chart-draw.${variant} svg`);
      await expect(complaint.locator('text', { hasText: 'warning from 0.10 %' }).first()).toBeAttached();
      await expect(complaint.locator('text', { hasText: 'critical from 0.30 %' }).first()).toBeAttached();
      // The legend sits below the plot: under the x axis, over no data.
      for (const svg of await page.locator(`.chart-draw.${variant} svg`).all()) {
        const [legendTop, axisY] = await svg.evaluate((s: SVGSVGElement) => [
          (s.querySelector('g.legend') as SVGGraphicsElement).getBBox().y,
          Number(s.querySelector('line.x-axis')!.getAttribute('y1')),
        ]);
        expect(legendTop).toBeGreaterThan(axisY);
      }
      if (variant === 'wide') {
        // Each point names its sample on hover; fewer than 20 is hollow and not rated.
        const titles = await page.locator('.chart-draw.wide circle.pt').evaluateAll((cs) =>
          cs.map((c) => [c.getAttribute('class'), c.getAttribute('fill'), c.querySelector('title')?.textContent ?? '']));
        expect(titles.length).toBeGreaterThan(100);
        let unrated = 0;
        for (const [cls, fill, title] of titles) {
          const m = (title as string).match(/\((?:(\d+) of )?(?:of )?(\d+) [a-z ]+\)/);
          expect(m, title as string).not.toBeNull();
          const small = Number(m![2]) < 20;
          expect(cls, title as string).toBe(small ? 'pt unrated' : 'pt');
          if (small) {
            unrated++;
            expect(fill).toBe('#fff');
            expect(title).toContain('fewer than 20: not rated');
          }
        }
        expect(unrated, 'the split charts have small days').toBeGreaterThan(0);
        if (isHydrated(info)) {
          // The browser shows the title on hover: it is the point's own <title>.
          const point = page.locator('section[data-chart="bounce-class"] .chart-draw.wide circle.pt').first();
          await point.hover();
          await expect(point.locator('title')).toHaveText(/all classes: \d+\.\d+ % \(\d+ of \d+ sent\)/);
        }
      }
      // The CSV names each value's sample and whether it was rated.
      const csv = await (await page.request.get('/charts/risk-decile.csv?days=30')).text();
      const lines = csv.trim().split('\n');
      expect(lines[0]).toBe('score,series,percent,count,of,rated');
      for (const l of lines.slice(1)) {
        const cells = l.split(',');
        if (cells[2] === '') continue;
        expect(cells[5]).toBe(Number(cells[4]) >= 20 ? 'yes' : 'no');
      }
      expect(await pageScrollsSideways(page)).toBeLessThanOrEqual(0);
      expect(await axeViolations(page)).toEqual([]);
    });

    test('Sender pools: the table is whole at 1440 and scrolls in a labelled region on a phone', async ({ page }, info) => {
      await login(page, info, 'admin@e2e.test');
      await visit(page, info, '/pools');
      const region = page.getByRole('region', { name: /Sender pools/ });
      await expect(region).toHaveAttribute('tabindex', '0');
      const [scroll, client] = await region.evaluate((e) => [e.scrollWidth, e.clientWidth]);
      if (size.width >= 1440) {
        expect(scroll, 'no column clipped at 1440').toBeLessThanOrEqual(client);
        await expect(page.getByRole('columnheader', { name: 'Action' })).toBeInViewport();
      } else {
        expect(scroll).toBeGreaterThan(client);
        await region.focus();
        await expect(region).toBeFocused();
      }
      expect(await pageScrollsSideways(page)).toBeLessThanOrEqual(0);
      expect(await axeViolations(page)).toEqual([]);
    });

    test('Bounce rules: search and filter by class and stage, patterns folded with their example', async ({ page }, info) => {
      await login(page, info, 'admin@e2e.test');
      await visit(page, info, '/admin/rules');
      const count = page.getByTestId('rules-count');
      const total = Number(((await count.textContent()) ?? '').match(/(\d+) rules/)?.[1]);
      expect(total).toBeGreaterThan(50);
      // Folded: the regexes take no room until asked for.
      const first = page.locator('table.rules tbody tr').first();
      await expect(first.locator('details')).not.toHaveAttribute('open', '');
      await expect(first.locator('details code')).toBeHidden();
      expect(await axeViolations(page)).toEqual([]);

      await page.getByLabel('Class').selectOption('recipient_permanent');
      await page.getByLabel('Stage').selectOption('status');
      await page.getByRole('button', { name: 'Filter' }).click();
      await expect(page).toHaveURL(/class=recipient_permanent/);
      await expect(page).toHaveURL(/stage=status/);
      await ready(page, info);
      await expect(count).toHaveText(new RegExp(`^\\d+ of ${total} rules match\\.$`));
      const rows = page.locator('table.rules tbody tr');
      expect(await rows.count()).toBeGreaterThan(0);
      for (const r of await rows.all()) {
        await expect(r.locator('td').nth(2)).toHaveText('recipient_permanent');
        await expect(r.locator('td').nth(3)).toHaveText('Exact status code');
      }

      await page.goto('/admin/rules?q=' + encodeURIComponent('does not exist'));
      await ready(page, info);
      await expect(page.getByLabel('Search')).toHaveValue('does not exist');
      const hits = page.locator('table.rules tbody tr');
      expect(await hits.count()).toBeGreaterThan(0);
      const fold = hits.filter({ has: page.locator('q.example') }).first().locator('details');
      await fold.locator('summary').click();
      await expect(fold.locator('code')).toBeVisible();
      await expect(fold.getByText(/^Example: /)).toBeVisible();
      await page.goto('/admin/rules?q=zzz-no-such-rule');
      await ready(page, info);
      await expect(page.getByTestId('rules-count')).toHaveText(`0 of ${total} rules match.`);
      expect(await pageScrollsSideways(page)).toBeLessThanOrEqual(0);
      expect(await axeViolations(page)).toEqual([]);
    });
  });
}

// The README's pictures: `REBOUND_SCREENSHOTS=1 npx playwright test
// tests/staff_insight.spec.ts --project hydrated -g screenshots` writes the
// Overview (a manager), the held queue (an agent) and an order page (an
// agent, the most urgent held order) at both widths into docs/screenshots/,
// with the seeded demo history. Skipped otherwise: a test run changes no file
// in the repository.
test('screenshots for the README', async ({ page }, info) => {
  test.skip(!process.env.REBOUND_SCREENSHOTS || !isHydrated(info), 'only when asked, hydrated');
  const out = path.join(root, 'docs/screenshots');
  const shoot = async (name: string) => {
    for (const size of WIDTHS) {
      await page.setViewportSize({ width: size.width, height: size.height });
      await page.screenshot({ path: path.join(out, `${name}-${size.width}.png`), fullPage: false });
    }
  };
  await login(page, info, 'manager@e2e.test');
  await visit(page, info, '/');
  await shoot('overview');
  await page.context().clearCookies();
  await login(page, info, 'agent@e2e.test');
  await visit(page, info, '/held');
  await shoot('held-queue');
  const order = page.locator('main a[href^="/orders/"]').first();
  const href = await order.getAttribute('href');
  expect(href).toMatch(/^\/orders\//);
  await visit(page, info, href!);
  await shoot('order');
});
