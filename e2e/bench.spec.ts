import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';

const ROW_KEYS = ['op', 'shape', 'oursMs', 'ortMs', 'ratio', 'oursGflops', 'ortGflops', 'maxDiff', 'oursErr', 'ortErr'];

async function downloadJson(page: Page, testid: string): Promise<Record<string, unknown>> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testid).click()]);
  expect(download.suggestedFilename()).toBe('kernel-bench.json');
  return JSON.parse(await readFile(await download.path(), 'utf8')) as Record<string, unknown>;
}

test('the Benchmark view runs the quick kernel set, fills the table and chart, and downloads the scripts\' JSON', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto('/#bench');
  await expect(page.getByTestId('tab-bench')).toHaveAttribute('aria-current', 'page');
  await expect(page.getByTestId('bench-adapter')).toContainText('Features:', { timeout: 30_000 });
  await page.getByTestId('bench-run-kernel').click();
  await expect(page.getByTestId('bench-kernel-status')).toHaveText(/^Done: 3 cases on /, { timeout: 120_000 });
  await expect(page.getByTestId('bench-kernel-table-row')).toHaveCount(3);
  await expect(page.getByTestId('bench-kernel-table')).toContainText('median ratio (ORT ms / ours ms)');
  await expect(page.getByTestId('bench-kernel-chart')).toBeVisible();
  await page.screenshot({ path: 'test-results/bench-view.png', fullPage: true });

  const json = await downloadJson(page, 'bench-kernel-download');
  expect(Object.keys(json).sort()).toEqual(['adapter', 'cancelled', 'copyGBps', 'rows']);
  expect(json.cancelled).toBe(false);
  const rows = json.rows as Record<string, unknown>[];
  expect(rows.map((r) => `${String(r.op)} ${String(r.shape)}`)).toEqual(['matmul decode 1x1024x1024', 'matmul square 256x256x256', 'attention vision T=64 S=64 H=4 D=32']);
  for (const r of rows) expect(Object.keys(r)).toEqual(ROW_KEYS);
  // Ours matches the f64 CPU reference on every case (ORT's column is reported, not asserted).
  for (const r of rows) expect(r.oursErr as number, `${String(r.op)} ${String(r.shape)}`).toBeLessThan(1e-3);

  // bench.html, which npm run bench:kernels drives, writes the same shape of JSON.
  await page.goto('/bench.html?suite=kernels&filter=decode%201x1024');
  await page.waitForFunction(() => window.benchJson ?? window.benchError, null, { timeout: 60_000 });
  const scripted = JSON.parse((await page.evaluate(() => window.benchJson)) ?? '{}') as Record<string, unknown>;
  expect(Object.keys(scripted)).toEqual(Object.keys(json));
  expect(Object.keys((scripted.rows as Record<string, unknown>[])[0] ?? {})).toEqual(ROW_KEYS);
});

test('Cancel stops the kernel suite between cases and keeps the rows done', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto('/#bench');
  await page.getByTestId('bench-kernel-set').selectOption('all');
  await page.getByTestId('bench-run-kernel').click();
  await expect(page.getByTestId('bench-kernel-table-row')).toHaveCount(1, { timeout: 90_000 });
  await page.getByTestId('bench-cancel-kernel').click();
  const status = page.getByTestId('bench-kernel-status');
  await expect(status).toHaveText(/^Cancelled after \d+ of 9\.$/, { timeout: 90_000 });
  const done = Number(/after (\d+)/.exec((await status.textContent()) ?? '')?.[1]);
  expect(done).toBeGreaterThanOrEqual(1);
  expect(done).toBeLessThan(9);
  await expect(page.getByTestId('bench-kernel-table-row')).toHaveCount(done);
  const json = await downloadJson(page, 'bench-kernel-download');
  expect(json.cancelled).toBe(true);
  expect((json.rows as unknown[]).length).toBe(done);
  await expect(page.getByTestId('bench-run-kernel')).toBeEnabled();
});
