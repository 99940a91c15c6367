import { readFile } from 'node:fs/promises';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';

const ROW_KEYS = ['op', 'shape', 'oursMs', 'ortMs', 'ratio', 'oursGflops', 'ortGflops', 'maxDiff', 'oursErr', 'ortErr'];

async function downloadText(page: Page, testid: string, filename: string): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testid).click()]);
  expect(download.suggestedFilename()).toBe(filename);
  return readFile(await download.path(), 'utf8');
}

async function downloadJson(page: Page, testid: string): Promise<Record<string, unknown>> {
  return JSON.parse(await downloadText(page, testid, 'kernel-bench.json')) as Record<string, unknown>;
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
  const host = page.locator('[data-testid="bench-kernel-panel"] .bench-table-host');
  expect(await host.evaluate((el) => el.scrollWidth - el.clientWidth), 'kernel table wider than its panel').toBeLessThanOrEqual(0);

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

// The keys of ModelBenchResult and EngineFigures, in the order benchJson writes them (as npm run bench:model -- --json F does).
const MODEL_KEYS = ['model', 'engines', 'encodeRatio', 'ttftRatio', 'decodeRatio', 'transformersRatios', 'cancelled'];
const FIGURE_KEYS = ['encodeMs', 'ttftMs', 'decodeTokensPerSecond', 'peakGpuBytes', 'runs', 'newTokens', 'device'];
const NUMBER_KEYS = ['encodeMs', 'ttftMs', 'decodeTokensPerSecond', 'runs', 'newTokens'];

/** Copy as JSON puts on the clipboard exactly the text Download JSON saves. */
async function copiedEqualsDownloaded(page: Page, context: BrowserContext): Promise<Record<string, unknown>> {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByTestId('bench-model-copy').click();
  await expect(page.getByTestId('bench-model-status')).toHaveText('Copied the JSON to the clipboard.');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  const downloaded = await downloadText(page, 'bench-model-download', 'model-bench.json');
  expect(copied).toBe(downloaded);
  const json = JSON.parse(downloaded) as Record<string, unknown>;
  expect(Object.keys(json)).toEqual(MODEL_KEYS);
  for (const [engine, figures] of Object.entries(json.engines as Record<string, Record<string, number | string | null>>)) {
    expect(Object.keys(figures)).toEqual(FIGURE_KEYS);
    for (const k of NUMBER_KEYS) expect(figures[k], k).toBeGreaterThan(0);
    // transformers.js does not report its sessions' GPU memory; the app chooses wasm for it on a software adapter.
    if (engine === 'transformers') expect(figures).toMatchObject({ peakGpuBytes: null, device: expect.stringMatching(/^(webgpu|wasm)$/) });
    else expect(figures.peakGpuBytes, `${engine} peakGpuBytes`).toBeGreaterThan(0);
  }
  return json;
}

/** Every number in the model table's rows is above zero: encode ms, TTFT ms, decode tok/s, GPU MiB (n/a for transformers.js). */
async function expectModelRows(page: Page, engines: (string | RegExp)[]): Promise<void> {
  const rows = page.getByTestId('bench-model-table-row');
  await expect(rows).toHaveCount(engines.length);
  for (const [i, engine] of engines.entries()) {
    const cells = (await rows.nth(i).locator('td').allTextContents()).map((c) => c.trim());
    expect(cells[0]).toMatch(engine);
    const gpu = cells[0]?.startsWith('transformers') ? cells.pop() : undefined;
    if (gpu !== undefined) expect(gpu).toBe('n/a');
    for (const c of cells.slice(1)) expect(Number(c), `${cells[0]}: ${cells.join(' ')}`).toBeGreaterThan(0);
  }
}

/** Chat, opened before the benchmark, says what is loaded after it and still answers. */
async function chatStillAnswers(page: Page): Promise<void> {
  await page.getByTestId('tab-chat').click();
  const status = page.getByTestId('model-status');
  await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 90_000 });
  await expect(status).toContainText('webvlm-tiny');
  await expect(status).toContainText('Native WGSL');
  // The tab catches up on being shown: the status may still read ready from before the run for a moment
  // while the reload starts, so the worker is asked until it holds the model again.
  const loaded = () => page.evaluate(() => (window as unknown as { vlm: { loadedModel(): Promise<{ id: string; engine: string } | null> } }).vlm.loadedModel());
  await expect.poll(async () => { const m = await loaded(); return m && `${m.id} ${m.engine}`; }, { timeout: 90_000 }).toBe('webvlm-tiny native');
  await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 90_000 });
  await page.getByTestId('chat-input').fill('What colour is the circle?');
  await page.getByTestId('chat-input').press('Enter');
  const answer = page.getByTestId('msg-assistant').last();
  await expect(answer).toHaveAttribute('data-finish', /^(stop|length)$/, { timeout: 60_000 });
  expect(((await answer.getByTestId('answer-text').textContent()) ?? '').trim()).not.toBe('');
}

/** Chat first (its model loads), then the Benchmark tab, as a person would come to it. */
async function openBenchAfterChat(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await page.getByTestId('tab-bench').click();
  await expect(page.getByTestId('bench-adapter')).toContainText('Features:', { timeout: 30_000 });
}

test('Run model measures every engine, fills the table, ratios and chart, exports the scripts\' JSON, and Chat reloads its model after', async ({ page, context }) => {
  test.setTimeout(300_000);
  await openBenchAfterChat(page);
  await page.getByTestId('bench-run-model').click();
  await expect(page.getByTestId('bench-model-status')).toHaveText('Done: webvlm-tiny, 1 timed runs per engine.', { timeout: 240_000 });
  await expectModelRows(page, ['native', 'onnx', /^transformers \((webgpu|wasm)\)$/]);
  await expect(page.getByTestId('bench-model-table')).toContainText(/native\/onnx: encode [\d.]+x, TTFT [\d.]+x, decode [\d.]+x/);
  await expect(page.getByTestId('bench-model-table')).toContainText(/native\/transformers: encode [\d.]+x, TTFT [\d.]+x, decode [\d.]+x/);
  await expect(page.getByTestId('bench-model-chart')).toBeVisible();
  const json = await copiedEqualsDownloaded(page, context);
  expect(json.cancelled).toBe(false);
  expect(Object.keys(json.engines as object)).toEqual(['native', 'onnx', 'transformers']);
  for (const k of ['encodeRatio', 'ttftRatio', 'decodeRatio']) expect(json[k], k).toBeGreaterThan(0);
  for (const v of Object.values(json.transformersRatios as Record<string, number>)) expect(v).toBeGreaterThan(0);
  await chatStillAnswers(page);
});

test('Cancel during a model run stops it, keeps the engine measured, and Chat reloads its model after', async ({ page, context }) => {
  test.setTimeout(420_000);
  await openBenchAfterChat(page);
  await page.getByTestId('bench-run-model').click();
  // A cancel during native's last run lets that run finish and stops before onnx's warm-up (checked between runs).
  await expect(page.getByTestId('bench-model-status')).toHaveText('native: run 1 of 1', { timeout: 240_000 });
  await page.getByTestId('bench-cancel-model').click();
  await expect(page.getByTestId('bench-model-status')).toHaveText('Cancelled after 1 of 3 engines.', { timeout: 120_000 });
  await expectModelRows(page, ['native']);
  await expect(page.getByTestId('bench-model-chart')).toBeVisible();
  const json = await copiedEqualsDownloaded(page, context);
  expect(json.cancelled).toBe(true);
  expect(Object.keys(json.engines as object)).toEqual(['native']);
  await expect(page.getByTestId('bench-run-model')).toBeEnabled();
  await chatStillAnswers(page);
});
