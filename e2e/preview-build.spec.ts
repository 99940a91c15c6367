import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { PDFDocument } from 'pdf-lib';
import { build, preview, type PreviewServer } from 'vite';
import { encodePng, generateScene } from '../src/data/index';
import { Rng } from '../src/data/random';
import { characterErrorRate } from '../src/eval/cer';

/**
 * The production build, served by `vite preview`: every file the code fetches
 * at run time (ORT's wasm, the OCR models, pdf.js's worker) must be in it, and
 * its Content-Security-Policy must let the app run. With nothing but
 * 127.0.0.1 reachable, the page loads the bundled model, answers a question
 * about a picture and OCRs a scanned PDF page. The build and the server are
 * this spec's own, so the other specs never wait for a build.
 */
const PORT = Number(process.env.E2E_PREVIEW_PORT ?? 4183);
const OUT_DIR = '.cache/preview-build';
const BASE = `http://127.0.0.1:${PORT}/`;

let server: PreviewServer | undefined;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  await build({ logLevel: 'warn', build: { outDir: OUT_DIR, emptyOutDir: true } });
  server = await preview({ logLevel: 'warn', build: { outDir: OUT_DIR }, preview: { host: '127.0.0.1', port: PORT, strictPort: true } });
});

test.afterAll(async () => server?.close());

test.use({ baseURL: BASE });

/** A one-page PDF holding only a picture of a text line, so its text comes from OCR, not a text layer. */
async function scannedPdf(): Promise<{ buffer: Buffer; text: string }> {
  const pdf = await PDFDocument.create();
  const png = await pdf.embedPng(readFileSync('test/fixtures/ocr-line.png'));
  const page = pdf.addPage([png.width, png.height + 40]);
  page.drawImage(png, { x: 0, y: 20, width: png.width, height: png.height });
  return { buffer: Buffer.from(await pdf.save()), text: readFileSync('test/fixtures/ocr-line.txt', 'utf8').trim() };
}

test('the preview build loads the bundled model, answers, and OCRs a page offline, with every asset served and no policy violation', async ({ page }) => {
  test.setTimeout(180_000);
  const blocked: string[] = [];
  const failed: string[] = [];
  const violations: string[] = [];
  await page.context().route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  page.context().on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  page.on('worker', (w) => w.on('console', (m) => /Content Security Policy/i.test(m.text()) && violations.push(m.text())));

  const first = await page.goto('/');
  expect(first?.headers()['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
  // The build's own <meta> carries the policy too, for hosts that send no headers.
  await expect(page.locator('meta[http-equiv="Content-Security-Policy"]')).toHaveCount(1);

  // Chat: the bundled model, served from the build, answers about a picture the generator drew.
  await expect(page.getByTestId('model-status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  const scene = generateScene(new Rng(100), { minObjects: 1, maxObjects: 1 });
  await page.getByTestId('chat-file-input').setInputFiles({ name: 'scene.png', mimeType: 'image/png', buffer: Buffer.from(encodePng(scene.raster)) });
  await expect(page.getByTestId('attachment')).toHaveCount(1);
  await page.getByTestId('chat-input').fill('What colour is the object?');
  await page.getByTestId('chat-input').press('Enter');
  const answer = page.getByTestId('msg-assistant').last();
  await expect(answer).toHaveAttribute('data-finish', 'stop', { timeout: 60_000 });
  await expect(answer.getByTestId('answer-text')).toHaveText(scene.meta.objects[0]?.colour ?? '');

  // Documents: pdf.js's worker renders the scanned page, ORT's wasm runs the OCR models, all from the build.
  const doc = await scannedPdf();
  await page.getByTestId('tab-documents').click();
  await page.getByTestId('doc-file-input').setInputFiles({ name: 'scan.pdf', mimeType: 'application/pdf', buffer: doc.buffer });
  await expect(page.getByTestId('page-source')).toContainText('read by OCR', { timeout: 120_000 });
  const lines = await page.getByTestId('ocr-line').locator('.line-text').allTextContents();
  expect(characterErrorRate(doc.text, lines.join('\n')).cer, `OCR text: ${lines.join('\n')}`).toBeLessThanOrEqual(0.1);

  expect(failed).toEqual([]);
  expect(blocked).toEqual([]);
  expect(violations).toEqual([]);
});
