import { expect, test, type Page, type Worker } from '@playwright/test';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { startHubServer, type HubServer } from '../test/helpers/hub-server';

/**
 * The weight cache in Chromium, through the chat view's model picker: the
 * bundled model served from IndexedDB after a reload, and downloads from a
 * hub-like server on 127.0.0.1 (the same helper the Node tests use) with
 * progress, a broken transfer resumed by Range, a damaged chunk repaired by
 * Range, a quota refusal and a 404. The page asks the worker for 1 MiB chunks
 * (?weight-chunk-kib=1024) so the 6 MB weights file has several.
 */
const MODEL_DIR = join(process.cwd(), 'public/models/webvlm-tiny');
const WEIGHTS = 'model.safetensors';
const WEIGHTS_SIZE = statSync(join(MODEL_DIR, WEIGHTS)).size;
const MiB = 1024 * 1024;
const PAGE = '/?weight-chunk-kib=1024';
const WEIGHT_FILE = /\/(model\.safetensors|onnx\/[^/]+\.onnx)$/;

interface Seen {
  method: string;
  url: string;
}

/** Nothing but 127.0.0.1 may be reached; every request the page and its worker make is recorded. */
async function offline(page: Page): Promise<{ blocked: string[]; seen: Seen[] }> {
  const blocked: string[] = [];
  const seen: Seen[] = [];
  await page.context().route('**/*', (route) => {
    const req = route.request();
    const url = new URL(req.url());
    seen.push({ method: req.method(), url: url.href });
    if (url.hostname === '127.0.0.1') return route.continue();
    blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  return { blocked, seen };
}

async function openChat(page: Page, path = PAGE): Promise<void> {
  await page.goto(path);
  await expect(page.getByTestId('chat-page')).toBeVisible();
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
}

/** Loads a repository from the local hub through the picker's "Another hub repository" fields. */
async function loadFromHub(page: Page, hub: HubServer, repo = hub.repo): Promise<void> {
  await page.getByTestId('hub-source').locator('summary').click();
  await page.getByTestId('hub-url').fill(hub.url);
  await page.getByTestId('hub-model-id').fill(repo);
  await page.getByTestId('load-model').click();
}

const status = (page: Page) => page.getByTestId('model-status');

let hub: HubServer;
test.beforeAll(async () => {
  hub = await startHubServer(MODEL_DIR, 'local/webvlm-tiny');
});
test.afterAll(async () => hub.close());
test.beforeEach(() => {
  hub.log.length = 0;
  hub.notFound.clear();
  hub.corrupt.clear();
  hub.bytesPerSecond = null;
});

test.describe('the model cache', () => {
  test.setTimeout(180_000);

  test('the picker lists the zoo; the bundled model loads, and after a reload comes from the cache with no weight file fetched', async ({ page }) => {
    const { blocked, seen } = await offline(page);
    await openChat(page);
    // The first visit fetched the weights: the request log does see the worker's fetches.
    expect(seen.filter((r) => r.method === 'GET' && WEIGHT_FILE.test(r.url)).map((r) => new URL(r.url).pathname)).toContain('/models/webvlm-tiny/model.safetensors');

    const select = page.getByTestId('model-select');
    await expect(select).toHaveAttribute('data-listed', /\d+/);
    await expect(select.locator('option').first()).toHaveAttribute('value', 'webvlm-tiny');
    await expect(select).toHaveValue('webvlm-tiny');
    const smol = select.locator('option[value="HuggingFaceTB/SmolVLM-256M-Instruct"]');
    // Runnable on the transformers engine (e2e/transformers-models.spec.ts loads it).
    await expect(smol).toBeEnabled();
    await expect(smol).toContainText('chat, ocr');
    await expect(smol).toContainText(/MB/);
    await expect(page.getByTestId('cached-model').filter({ hasText: 'webvlm-tiny' })).toContainText('MB');

    const before = seen.length;
    await page.reload();
    await expect(status(page)).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    await expect(status(page)).toContainText('webvlm-tiny');
    const after = seen.slice(before);
    const weightGets = after.filter((r) => r.method === 'GET' && WEIGHT_FILE.test(r.url));
    console.log(`after reload: ${after.filter((r) => r.method === 'HEAD').length} HEAD requests (re-export check), ${weightGets.length} weight GETs`);
    expect(weightGets).toEqual([]);
    expect(blocked).toEqual([]);
  });

  test('a hub download shows moving progress and resumes a broken transfer from a chunk boundary; a damaged chunk is re-fetched alone', async ({ page }) => {
    const { blocked } = await offline(page);
    await openChat(page);
    // A slow link so the bar can be watched; the weights transfer breaks once after 2.5 MiB.
    hub.bytesPerSecond = 3 * MiB;
    hub.cutNext(WEIGHTS, 2.5 * MiB);
    const bar = page.getByTestId('model-progress');
    expect(WEIGHTS_SIZE).toBeGreaterThan(4 * MiB);
    await loadFromHub(page, hub);

    const samples: number[] = [];
    const texts = new Set<string>();
    for (let i = 0; i < 200 && (await status(page).getAttribute('data-state')) === 'loading'; i++) {
      const bytes = Number((await bar.getAttribute('data-bytes')) ?? 0);
      if (bytes > 0 && bytes !== samples[samples.length - 1]) samples.push(bytes);
      texts.add((await status(page).textContent()) ?? '');
      await page.waitForTimeout(100);
    }
    await expect(status(page)).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    await expect(status(page)).toContainText('local/webvlm-tiny');
    console.log(`progress samples (bytes): ${samples.join(', ')}`);
    expect(samples.length).toBeGreaterThanOrEqual(3);
    // It only moves forward, except once at the break: the unfinished chunk's bytes are dropped, the 2 stored MiB kept.
    const drops = samples.map((v, i) => (i > 0 && v < (samples[i - 1] as number) ? v : null)).filter((v) => v !== null);
    expect(drops.length).toBeLessThanOrEqual(1);
    for (const d of drops) expect(d).toBeGreaterThanOrEqual(2 * MiB);
    expect(samples[samples.length - 1]).toBeGreaterThan(samples[0] as number);
    const withRate = [...texts].find((t) => /MB\/s/.test(t) && / left/.test(t));
    console.log(`a progress line: ${withRate}`);
    expect(withRate).toMatch(/\d+(\.\d+)? (KB|MB) of \d+(\.\d+)? MB · [\d.]+ (KB|MB)\/s · .* left/);

    const weightGets = hub.gets(WEIGHTS).map((r) => r.range);
    console.log(`requests for ${WEIGHTS}: ${JSON.stringify(weightGets)}`);
    expect(weightGets).toEqual([null, `bytes=${2 * MiB}-`]);
    await expect(page.getByTestId('cached-model').filter({ hasText: 'local/webvlm-tiny' })).toContainText('MB');
    // The download asked the browser to keep the store (headless Chromium may say yes or no).
    await expect(bar).toHaveAttribute('data-persisted', /^(true|false)$/);

    // Damage chunk 3 of the weights in the page's IndexedDB; the next load must notice and fetch that range only.
    const damaged = await page.evaluate(async (key) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open('webvlm-weights');
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      const tx = db.transaction('files', 'readwrite');
      const store = tx.objectStore('files');
      const chunk = await new Promise<ArrayBuffer>((resolve, reject) => {
        const r = store.get(key);
        r.onsuccess = () => resolve(r.result as ArrayBuffer);
        r.onerror = () => reject(r.error);
      });
      const bytes = new Uint8Array(chunk.slice(0));
      bytes[1000] = (bytes[1000] as number) ^ 0xff;
      store.put(bytes.buffer, key);
      await new Promise((resolve) => (tx.oncomplete = resolve));
      db.close();
      return bytes.length;
    }, `c:local/webvlm-tiny/${WEIGHTS}#2`);
    expect(damaged).toBe(MiB);
    hub.log.length = 0;
    hub.bytesPerSecond = null;
    await page.evaluate(() => (window as unknown as { vlm: { unloadModel(): Promise<void> } }).vlm.unloadModel());
    await page.getByTestId('load-model').click();
    await expect(status(page)).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
    const repairs = hub.gets().map((r) => `${r.file} ${r.range}`);
    console.log(`requests after damaging chunk 2: ${JSON.stringify(repairs)}`);
    expect(repairs).toEqual([`${WEIGHTS} bytes=${2 * MiB}-${3 * MiB - 1}`]);
    expect(blocked).toEqual([]);
  });

  test('a model too big for the quota is refused before any byte, with the numbers', async ({ page }) => {
    // The page's estimate for the UI, and the worker's (where the check runs): init scripts do not reach workers.
    const fake = () => {
      StorageManager.prototype.estimate = () => Promise.resolve({ usage: 500_000, quota: 1_500_000 });
    };
    await page.addInitScript(fake);
    const engine = new Promise<Worker>((resolve) => page.on('worker', (w) => w.url().includes('engine.worker') && resolve(w)));
    const { blocked } = await offline(page);
    await openChat(page);
    await (await engine).evaluate(fake);
    expect(await page.evaluate(async () => (await navigator.storage.estimate()).quota)).toBe(1_500_000);

    await loadFromHub(page, hub);
    await expect(status(page)).toHaveAttribute('data-state', 'error', { timeout: 30_000 });
    await expect(status(page)).toHaveAttribute('data-code', 'storage-quota');
    await expect(status(page)).toContainText('Not enough storage for this model.');
    await expect(status(page)).toContainText('only 1.00 MB is available');
    await expect(status(page)).toContainText('may use 1.50 MB and uses 500.0 KB');
    await expect(status(page)).toContainText(/needs 6\.\d\d MB more storage/);
    console.log(`quota refusal: ${await status(page).textContent()}`);
    expect(hub.gets()).toEqual([]);
    expect(blocked).toEqual([]);
  });

  test('a 404 names the file; a model our engines cannot run is refused with the reason', async ({ page }) => {
    const { blocked } = await offline(page);
    await openChat(page);
    hub.notFound.add(WEIGHTS);
    await loadFromHub(page, hub);
    await expect(status(page)).toHaveAttribute('data-state', 'error', { timeout: 30_000 });
    await expect(status(page)).toHaveAttribute('data-code', 'model-file');
    await expect(status(page)).toContainText(`local/webvlm-tiny/${WEIGHTS}`);
    await expect(status(page)).toContainText('404');
    console.log(`404: ${await status(page).textContent()}`);
    expect(hub.gets(WEIGHTS)).toEqual([]);

    // SmolVLM runs natively now; Florence-2 runs on the transformers engine only.
    await page.getByTestId('hub-model-id').fill('onnx-community/Florence-2-base');
    await page.getByTestId('load-model').click();
    await expect(status(page)).toHaveAttribute('data-code', 'unsupported-model', { timeout: 30_000 });
    await expect(status(page)).toContainText('This app cannot run that model yet.');
    await expect(status(page)).toContainText('florence2');
    expect(blocked).toEqual([]);
  });

  test('Delete in the cached-models list frees the cache', async ({ page }) => {
    await offline(page);
    await openChat(page);
    await page.getByTestId('cached-models').locator('summary').click();
    const row = page.getByTestId('cached-model').filter({ hasText: 'webvlm-tiny' });
    await expect(row).toHaveCount(1);
    await row.getByTestId('cached-delete').click();
    await expect(page.getByTestId('cached-models-note')).toContainText(/Deleted webvlm-tiny: [\d.]+ MB freed/);
    await expect(page.getByTestId('cached-model')).toHaveCount(0);
    expect(await page.evaluate(() => (window as unknown as { vlm: { cacheList(): Promise<unknown[]> } }).vlm.cacheList())).toEqual([]);
  });
});
