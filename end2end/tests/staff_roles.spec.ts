import { test, expect } from '@playwright/test';
import { isHydrated, login, ready } from './helpers';
import { axeViolations, openMenu } from './staff_helpers';

// Roles in the staff UI (issue 33, problems 4 and 6, and the navigation):
// a refused page is a real 403 with the navigation and what the role can do
// instead; an unknown order and an unknown address are 404s with the
// navigation; links a role cannot use are not shown; the navigation is
// grouped by job and folds into a "Menu" on phones. Each at 1440 and 390 px,
// hydrated and with JavaScript off, with axe finding nothing at all.

for (const width of [1440, 390]) {
  test.describe(`at ${width} px`, () => {
    test.use({ viewport: { width, height: width > 600 ? 900 : 844 } });

    test('an agent is refused manager pages with a 403 that says what to open instead', async ({ page }, info) => {
      await login(page, info, 'agent@e2e.test');
      await ready(page, info);
      // The agent's Overview and navigation link nowhere the agent is refused.
      await expect(page.locator('a[href="/pools"]')).toHaveCount(0);
      await expect(page.locator('a[href="/trends"]')).toHaveCount(0);
      await expect(page.locator('a[href^="/admin/"]')).toHaveCount(0);

      for (const path of ['/trends', '/pools', '/admin/users']) {
        const res = await page.goto(path);
        expect(res?.status(), path).toBe(403);
        await ready(page, info);
        await expect(page.getByRole('heading', { name: 'This page is not for your role', level: 1 })).toBeVisible();
        await expect(page.getByText('You are signed in as support agent')).toBeVisible();
        await expect(page.locator('nav[aria-label="Main"]')).toBeAttached(); // folded away on phones
        const instead = page.getByTestId('instead');
        await expect(instead.getByRole('link', { name: 'Held queue' })).toBeVisible();
        await expect(page.getByText('Your role does not allow this action')).toHaveCount(0);
        await expect(page.locator('form')).toHaveCount(1); // only "Sign out"
      }
      expect(await axeViolations(page)).toEqual([]);
      // From the refusal, one click to where the agent works.
      await page.getByTestId('instead').getByRole('link', { name: 'Held queue' }).click();
      await expect(page).toHaveURL(/\/held$/);
      await expect(page.getByRole('heading', { name: 'Held queue: cases needing an agent', level: 1 })).toBeVisible();
    });

    test('an unknown order and an unknown address answer 404 with the navigation', async ({ page }, info) => {
      await login(page, info, 'manager@e2e.test');
      let res = await page.goto('/orders/NO-SUCH-ORDER-33');
      expect(res?.status()).toBe(404);
      await ready(page, info);
      await expect(page.getByRole('heading', { name: 'Not found', level: 1 })).toBeVisible();
      await expect(page.getByText('There is no order NO-SUCH-ORDER-33.')).toBeVisible();
      await expect(page.locator('nav[aria-label="Main"]')).toBeAttached(); // folded away on phones
      expect(await axeViolations(page)).toEqual([]);

      res = await page.goto('/there/is/nothing/here');
      expect(res?.status()).toBe(404);
      await ready(page, info);
      await expect(page.getByRole('heading', { name: 'Not found', level: 1 })).toBeVisible();
      await openMenu(page);
      const nav = page.getByRole('navigation', { name: 'Main' });
      await expect(nav.getByRole('link', { name: 'Orders' })).toBeVisible();
      await nav.getByRole('link', { name: 'Orders' }).click();
      await expect(page).toHaveURL(/\/orders$/);
      await expect(page.getByRole('heading', { name: 'Orders', level: 1 })).toBeVisible();
      expect(await axeViolations(page)).toEqual([]);
    });

    test('the navigation is grouped by job and short on a phone', async ({ page }, info) => {
      await login(page, info, 'admin@e2e.test');
      await page.goto('/held');
      await ready(page, info);
      const header = page.locator('header.topbar');
      const nav = page.getByRole('navigation', { name: 'Main' });
      if (width < 600) {
        // Folded: one short bar (the flat list of 14 links was 223 px tall).
        const folded = (await header.boundingBox())!.height;
        expect(folded).toBeLessThan(110);
        await expect(nav.getByRole('link', { name: 'Users' })).toBeHidden();
        await page.locator('.nav-menu > summary').click();
      } else {
        expect((await header.boundingBox())!.height).toBeLessThan(110);
        await expect(page.locator('.nav-menu > summary')).toBeHidden();
      }
      for (const [group, links] of [
        ['Work', ['Held queue', 'Orders', 'Search', 'VPN-flagged']],
        ['Insight', ['Overview', 'Trends']],
        ['Delivery', ['Sender pools', 'Suppressions', 'Bounce rules', 'Outbox', 'Shop webhooks']],
        ['Admin', ['API keys', 'Users', 'Audit log']],
      ] as const) {
        const list = nav.getByRole('list', { name: group });
        await expect(list).toBeVisible();
        for (const name of links) await expect(list.getByRole('link', { name, exact: true })).toBeVisible();
      }
      await expect(nav.getByRole('link', { name: 'Held queue' })).toHaveAttribute('aria-current', 'page');
      expect(await axeViolations(page)).toEqual([]);
    });

    test('a manager reads the held queue without live-looking buttons', async ({ page }, info) => {
      await login(page, info, 'manager@e2e.test');
      const res = await page.goto('/held');
      expect(res?.status()).toBe(200);
      await ready(page, info);
      await expect(page.getByRole('heading', { name: 'Held queue: cases needing an agent', level: 1 })).toBeVisible();
      await expect(page.getByText('support agents work the cases')).toBeVisible();
      await expect(page.getByRole('button', { name: "I'm on it" })).toHaveCount(0);
      await expect(page.getByRole('button', { name: 'Apply to selected' })).toHaveCount(0);
      await expect(page.locator('form[action^="/fn/support/"]')).toHaveCount(0);
      await openMenu(page);
      const nav = page.getByRole('navigation', { name: 'Main' });
      await expect(nav.getByRole('list', { name: 'Admin' })).toHaveCount(0);
      await expect(nav.getByRole('link', { name: 'Sender pools' })).toBeVisible();
      expect(await axeViolations(page)).toEqual([]);
    });
  });
}
