// Opens a run's index.html in headless Chromium (Debian's chromium, driven by playwright-core) and
// checks that what should be seen is: the findings table with a row per finding, and every plot of
// results.json drawn with a non-empty box. Keeps a full-page screenshot next to the page.
// `node harness/report/chromium-check.ts [reports/latest]` is the check .ci/run runs after the tests.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { findingRows, type RunResults } from './html.ts';

export const CHROMIUM = process.env.THANOS_HA_E2E_CHROMIUM ?? '/usr/bin/chromium';

export interface ChromiumCheck {
  findingRows: number;
  plots: number;
  screenshot: string;
}

export async function checkReportInChromium(index: string): Promise<ChromiumCheck> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium, or set THANOS_HA_E2E_CHROMIUM`);
  const results = JSON.parse(readFileSync(join(dirname(index), 'results.json'), 'utf8')) as RunResults;
  const expectedRows = findingRows(results.findings).length;
  const expectedPlots = results.findings.reduce((n, r) => n + (r.plots?.length ?? 0), 0);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(pathToFileURL(index).href, { waitUntil: 'load' });
    const rows = await page.locator('#findings tr.finding').count();
    if (rows !== expectedRows) throw new Error(`findings table has ${rows} rows, results.json has ${expectedRows} findings`);
    const boxes = await page.locator('figure.plot svg').evaluateAll((svgs) => svgs.map((s) => {
      const r = s.getBoundingClientRect();
      return { width: r.width, height: r.height, shapes: s.querySelectorAll('rect.segment, rect.bar, circle.point').length };
    }));
    if (boxes.length !== expectedPlots) throw new Error(`${boxes.length} plots drawn, results.json has ${expectedPlots}`);
    const empty = boxes.findIndex((b) => b.width < 100 || b.height < 20 || b.shapes === 0);
    if (empty >= 0) throw new Error(`plot ${empty + 1} is drawn empty: ${JSON.stringify(boxes[empty])}`);
    if (errors.length) throw new Error(`the page reported: ${errors.join('; ')}`);
    const screenshot = join(dirname(index), 'screenshot.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    return { findingRows: expectedRows, plots: boxes.length, screenshot };
  } finally {
    await browser.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = resolve(process.argv[2] ?? 'reports/latest');
  checkReportInChromium(join(dir, 'index.html')).then(
    (c) => console.log(`report checked in Chromium: ${c.findingRows} findings rows, ${c.plots} plots drawn; screenshot ${c.screenshot}`),
    (e: unknown) => {
      console.error(`thanos-ha-e2e: report check failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
