import { Page, test } from '@playwright/test';
import * as fs from 'fs';
import { isHydrated } from './helpers';

/** Every axe violation, whatever its impact (scrollable-region-focusable included). */
export async function axeViolations(page: Page): Promise<string[]> {
  // With JavaScript off nothing can run in the page (evaluate never returns);
  // the server HTML is the same one the hydrated run checks.
  if (!isHydrated(test.info())) return [];
  const source = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  const result: any = await page.evaluate(
    `(async () => { ${source}; return await axe.run(document, { resultTypes: ['violations'] }); })()`,
  );
  return (result.violations as any[]).map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n: any) => n.target.join(' ')).join(', ')}`,
  );
}

/** Opens the navigation where it is folded (phones); a no-op where it is open. */
export async function openMenu(page: Page) {
  const summary = page.locator('.nav-menu > summary');
  if (await summary.isVisible()) {
    if ((await page.locator('.nav-menu').getAttribute('open')) === null) await summary.click();
  }
}

