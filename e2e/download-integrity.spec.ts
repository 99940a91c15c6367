import { expect, test, type Page } from '@playwright/test';
import { join } from 'node:path';
import { startHubServer, type HubServer } from '../test/helpers/hub-server';

/**
 * Downloads that are not the file, in Chromium through the chat view's
 * model picker, from the hub-like server on 127.0.0.1: a hub answering every
 * path with a 200 HTML page (a captive portal), a mistyped model id answered
 * by the dev server's HTML fallback, a weights body that ends early without a
 * Content-Length, and a sha256 other than the hub lists behind the hub's LFS
 * redirect. Each is refused with a 'model-file' error naming the file and
 * what was wrong; nothing of the bad file is kept, the picker never offers
 * the model, and the same load from the healthy hub then succeeds.
 */
const MODEL_DIR = join(process.cwd(), 'public/models/webvlm-tiny');
const REPO = 'local/webvlm-tiny';
const WEIGHTS = 'model.safetensors';
const MiB = 1024 * 1024;

let hub: HubServer;
test.beforeAll(async () => {
  hub = await startHubServer(MODEL_DIR, REPO);
});
test.afterAll(async () => hub.close());
test.beforeEach(() => {
  hub.log.length = 0;
  hub.html = false;
  hub.truncate.clear();
  hub.wrongSha256.clear();
  hub.lfsRedirect = false;
});

const status = (page: Page) => page.getByTestId('model-status');

async function openChat(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('chat-page')).toBeVisible();
  await expect(status(page)).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
}

async function load(page: Page, id: string, hubUrl = hub.url): Promise<void> {
  const source = page.getByTestId('hub-source');
  if ((await source.getAttribute('open')) === null) await source.locator('summary').click();
  await page.getByTestId('hub-url').fill(hubUrl);
  await page.getByTestId('hub-model-id').fill(id);
  await page.getByTestId('load-model').click();
}

async function expectRefused(page: Page, file: string, what: RegExp): Promise<void> {
  await expect(status(page)).toHaveAttribute('data-state', 'error', { timeout: 60_000 });
  await expect(status(page)).toHaveAttribute('data-code', 'model-file');
  await expect(status(page)).toContainText(file);
  await expect(status(page)).toContainText(what);
  console.log(`refused: ${await status(page).textContent()}`);
}

/** The weight store's keys (records and chunks) that belong to `file` ("<model>/<name>"), read from the page's IndexedDB. */
function storedKeys(page: Page, file: string): Promise<string[]> {
  return page.evaluate(async (f) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('webvlm-weights');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    if (!db.objectStoreNames.contains('files')) return [];
    const keys = await new Promise<IDBValidKey[]>((resolve, reject) => {
      const r = db.transaction('files').objectStore('files').getAllKeys();
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    db.close();
    return keys.map(String).filter((k) => k.slice(2).startsWith(f));
  }, file);
}

async function expectNotOffered(page: Page, id: string): Promise<void> {
  await expect(page.getByTestId('model-select')).toHaveAttribute('data-listed', /\d+/);
  await expect(page.getByTestId('model-select').locator(`option[value="${id}"]`)).toHaveCount(0);
}

async function expectLoadsWhenHealthy(page: Page): Promise<void> {
  hub.html = false;
  hub.truncate.clear();
  hub.wrongSha256.clear();
  await page.getByTestId('load-model').click();
  await expect(status(page)).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(status(page)).toContainText(REPO);
  await expect(page.getByTestId('model-select').locator(`option[value="${REPO}"]`)).toHaveCount(1);
}

test.describe('downloads that are not the file', () => {
  test.setTimeout(120_000);

  test('a hub answering 200 text/html caches nothing and a mistyped id is not offered; the healthy hub then loads', async ({ page }) => {
    await openChat(page);
    hub.html = true;
    await load(page, REPO);
    await expectRefused(page, `${REPO}/config.json`, /HTML page/);
    expect(await storedKeys(page, `${REPO}/`)).toEqual([]);
    const cached = await page.evaluate(() => (window as unknown as { vlm: { cacheList(): Promise<{ id: string }[]> } }).vlm.cacheList());
    expect(cached.map((m) => m.id)).not.toContain(REPO);
    await expectNotOffered(page, REPO);

    // An id without an org is a folder served with the app: the dev server answers a mistyped one with its index.html.
    await load(page, 'webvlm-tinyy');
    await expectRefused(page, 'webvlm-tinyy/config.json', /HTML page/);
    expect(await storedKeys(page, 'webvlm-tinyy/')).toEqual([]);
    await expectNotOffered(page, 'webvlm-tinyy');

    await page.getByTestId('hub-model-id').fill(REPO);
    await expectLoadsWhenHealthy(page);
  });

  test('a weights body that ends early without a Content-Length is not stored', async ({ page }) => {
    await openChat(page);
    // Behind the redirect, as on the real hub, no ETag names the sha256: only the size the hub lists tells.
    hub.lfsRedirect = true;
    hub.truncate.set(WEIGHTS, 2.5 * MiB);
    await load(page, REPO);
    await expectRefused(page, `${REPO}/${WEIGHTS}`, /ended at byte 2621440 of the \d+ bytes/);
    expect(await storedKeys(page, `${REPO}/${WEIGHTS}`)).toEqual([]);
    await expectNotOffered(page, REPO);
    await expectLoadsWhenHealthy(page);
  });

  test('weights whose sha256 is not the one the hub lists are refused behind the LFS redirect', async ({ page }) => {
    await openChat(page);
    hub.lfsRedirect = true;
    hub.wrongSha256.add(WEIGHTS);
    await load(page, REPO);
    await expectRefused(page, `${REPO}/${WEIGHTS}`, /do not match the sha256 the hub lists/);
    expect(await storedKeys(page, `${REPO}/${WEIGHTS}`)).toEqual([]);
    await expectNotOffered(page, REPO);
    await expectLoadsWhenHealthy(page);
    // The good copy came through the redirect too and was checked against the hub's sha256.
    expect(hub.gets(WEIGHTS).at(-1)?.status).toBe(200);
  });
});

interface CacheApi {
  cacheList(): Promise<{ id: string; files: number; bytes: number }[]>;
  cacheDelete(id: string): Promise<number>;
  ocrImage(image: { width: number; height: number; data: Uint8ClampedArray }): Promise<unknown>;
}

test('the OCR models are kept in the weight cache: listed with the models, deleted with them, never offered as a model', async ({ page }) => {
  test.setTimeout(120_000);
  await openChat(page);
  const ocr = 'OCR models (PP-OCRv4)';
  // A blank page: the models load (and are cached) before the detector finds no text.
  const outcome = await page.evaluate(async () => {
    const vlm = (window as unknown as { vlm: CacheApi }).vlm;
    const data = new Uint8ClampedArray(64 * 64 * 4).fill(255);
    return vlm.ocrImage({ width: 64, height: 64, data }).then(
      () => 'text',
      (e: unknown) => (e as { code?: string }).code ?? String(e),
    );
  });
  expect(outcome).toBe('no-text');
  expect(await storedKeys(page, `${ocr}/`)).toEqual(expect.arrayContaining([`m:${ocr}/ch_PP-OCRv4_det_infer.onnx`, `m:${ocr}/ch_PP-OCRv4_rec_infer.onnx`, `m:${ocr}/ppocr_keys_v1.txt`, `m:${ocr}/ch_ppocr_mobile_v2.0_cls_infer.onnx`]));
  await page.reload();
  await expect(status(page)).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await page.getByTestId('cached-models').locator('summary').click();
  const row = page.getByTestId('cached-model').filter({ hasText: ocr });
  await expect(row).toContainText(/1[0-9]\.\d MB in 4 files/);
  await expectNotOffered(page, ocr);
  await row.getByTestId('cached-delete').click();
  await expect(page.getByTestId('cached-models-note')).toContainText(new RegExp(`Deleted ${ocr.replace(/[()]/g, '\\$&')}: 1[0-9]\\.\\d MB freed`));
  expect(await storedKeys(page, `${ocr}/`)).toEqual([]);
  const left = await page.evaluate(() => (window as unknown as { vlm: CacheApi }).vlm.cacheList());
  expect(left.map((m) => m.id)).not.toContain(ocr);
});
