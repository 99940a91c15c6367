import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHubServer, type HubServer } from '../test/helpers/hub-server';
import { pick } from './documents-helpers';
import { HUB_DIR, loadFromHub, modelStatus as status, offline } from './hub-page';

/**
 * Documents with hub models on the transformers engine, loaded from the model
 * picker through a hub-like server on 127.0.0.1 that serves the tiny family
 * fixtures under their real repo ids: Florence-2 as the OCR engine fills the
 * line list with the lines of its OCR-with-regions post-processing (the
 * fixture's golden line among them, boxed where PyTorch puts it) and is
 * offered its tasks instead of free-form questions; a SmolVLM answers a
 * question about a page with the page image and its text, the same answer
 * each time it is asked (the random model's words are gibberish, but
 * deterministic). test/worker/documents-hub.test.ts checks in Node that such
 * an answer is the one the same chat prompt gives.
 */
const FLORENCE = { dir: 'microsoft-tiny-florence2', repo: 'onnx-community/Florence-2-base' };
const SMOL = { dir: 'HuggingFaceTB-tiny-smolvlm', repo: 'HuggingFaceTB/SmolVLM-256M-Instruct' };

/** Loads a fixture from the Chat view's picker, then shows Documents without reloading the page (the model stays loaded). */
async function loadThenDocuments(page: Page, hub: HubServer): Promise<void> {
  // SmolVLM runs on the native engine too; these are the transformers engine's checks.
  await loadFromHub(page, hub, { repo: hub.repo, engine: 'transformers', dtype: 'fp32' });
  await expect(status(page)).toContainText(`${hub.repo} · transformers.js · fp32`, { timeout: 60_000 });
  await page.evaluate(() => (location.hash = '#documents'));
  await expect(page.getByTestId('documents-page')).toBeVisible();
}

/** PyTorch's post-processed <OCR_WITH_REGION> lines for the fixture's 96x96 image: each label with its quad's bounds. */
function goldenLines(): { text: string; x: number; y: number; width: number; height: number }[] {
  const golden = JSON.parse(readFileSync(join(HUB_DIR, FLORENCE.dir, 'golden.json'), 'utf8')) as {
    cases: { task: string; post_processed: { image_size: number[]; result: Record<string, { labels: string[]; quad_boxes: number[][] }> }[] }[];
  };
  const result = golden.cases.find((c) => c.task === '<OCR_WITH_REGION>')?.post_processed.find((p) => p.image_size.join('x') === '96x96')?.result['<OCR_WITH_REGION>'];
  if (!result?.quad_boxes.length) throw new Error('the Florence-2 golden has no OCR regions at 96x96');
  return result.quad_boxes.map((q, i) => {
    const xs = q.filter((_, k) => k % 2 === 0);
    const ys = q.filter((_, k) => k % 2 === 1);
    const x = Math.min(...xs);
    const y = Math.min(...ys);
    return { text: result.labels[i] ?? '', x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
  });
}

/** Where each overlay line is placed on the page, in page pixels (its CSS box is in percent of the page). */
async function overlayBoxes(page: Page, size: number): Promise<{ text: string; x: number; y: number; width: number; height: number }[]> {
  return page.getByTestId('overlay-line').evaluateAll(
    (els, n) =>
      els.map((el) => {
        const s = (el as HTMLElement).style;
        const px = (v: string) => (parseFloat(v) * n) / 100;
        return { text: el.textContent ?? '', x: px(s.left), y: px(s.top), width: px(s.width), height: px(s.height) };
      }),
    size,
  );
}

/** A small page with two printed lines, drawn by this Chromium, as PNG bytes. */
async function printedPage(page: Page): Promise<Buffer> {
  const base64 = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(360, 120);
    const g = canvas.getContext('2d');
    if (!g) throw new Error('no 2d context');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, 360, 120);
    g.fillStyle = '#000';
    g.font = '28px sans-serif';
    g.fillText('Invoice 2024-17', 16, 44);
    g.fillText('Total: 41.50', 16, 96);
    const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  });
  return Buffer.from(base64, 'base64');
}

test.describe('Documents with hub models on the transformers engine', () => {
  test.setTimeout(120_000);

  test("Florence-2 as the OCR engine: the page's lines are its OCR-with-regions post-processing, boxed on the page; it is offered its tasks, not questions", async ({ page }) => {
    const blocked = await offline(page);
    const hub = await startHubServer(join(HUB_DIR, FLORENCE.dir), FLORENCE.repo);
    try {
      await loadThenDocuments(page, hub);
      const engine = page.getByTestId('ocr-engine');
      await expect(engine).toBeVisible();
      await expect(engine.locator('option')).toHaveText(['PP-OCR', 'Florence-2 (loaded model)']);
      await engine.selectOption('florence-2');
      await pick(page, 'golden.png', 'image/png', readFileSync(join(HUB_DIR, FLORENCE.dir, 'golden.png')));
      await expect(page.getByTestId('page-source')).toContainText('read by Florence-2 OCR', { timeout: 60_000 });
      await expect(page.getByTestId('page-source')).toContainText('no confidence');

      // The golden stops after 24 tokens and the OCR reads on: its lines are among the page's, where PyTorch puts them.
      const lines = await page.getByTestId('ocr-line').locator('.line-text').allTextContents();
      const boxes = await overlayBoxes(page, 96);
      expect(boxes.map((b) => b.text)).toEqual(lines);
      for (const want of goldenLines()) {
        const got = boxes.find((b) => b.text === want.text && Math.abs(b.x - want.x) < 0.01 && Math.abs(b.y - want.y) < 0.01 && Math.abs(b.width - want.width) < 0.01 && Math.abs(b.height - want.height) < 0.01);
        expect(got, `${JSON.stringify(want)} among ${JSON.stringify(boxes)}`).toBeDefined();
      }
      // No confidence is made up for its lines.
      await expect(page.getByTestId('ocr-line').locator('.conf').first()).toHaveText('');

      // No free-form questions: the page says so and offers its tasks, which answer about the page image.
      await expect(page.getByTestId('model-needed')).toContainText('answers only its task prompts');
      await expect(page.getByTestId('ask-button')).toBeDisabled();
      await expect(page.getByTestId('doc-task')).toHaveText(['Caption', 'Detailed caption', 'Read the text (OCR)', 'Objects']);
      await page.getByTestId('doc-task').filter({ hasText: 'Objects' }).click();
      await expect(page.getByTestId('question-answer')).toContainText('Page 1: Objects');
      await expect(page.getByTestId('doc-task').first()).toBeEnabled({ timeout: 60_000 });
      await expect(page.getByTestId('answer-error')).toHaveCount(0);
      await expect(page.getByTestId('answer-text')).not.toBeEmpty();
      expect(blocked).toEqual([]);
    } finally {
      await hub.close();
    }
  });

  test('SmolVLM answers a question about a page with its image and text, the same answer each time; Evaluate offers it', async ({ page }) => {
    const blocked = await offline(page);
    const hub = await startHubServer(join(HUB_DIR, SMOL.dir), SMOL.repo);
    try {
      await loadThenDocuments(page, hub);
      // Not a Florence-2: PP-OCR is the only engine, so none is offered.
      await expect(page.getByTestId('ocr-engine')).toBeHidden();
      await pick(page, 'invoice.png', 'image/png', await printedPage(page));
      await expect(page.getByTestId('page-source')).toContainText('read by OCR', { timeout: 60_000 });
      await expect(page.getByTestId('model-needed')).toContainText(`Questions go to ${SMOL.repo} with the page image and its text`);

      const ask = async (): Promise<string> => {
        await page.getByTestId('question-input').fill('What is the total?');
        await page.getByTestId('ask-button').click();
        await expect(page.getByTestId('answer-source')).not.toBeEmpty({ timeout: 60_000 });
        return (await page.getByTestId('answer-text').textContent()) ?? '';
      };
      const first = await ask();
      expect(first.length).toBeGreaterThan(0);
      await expect(page.getByTestId('answer-error')).toHaveCount(0);
      expect(await ask()).toBe(first);

      // Evaluate offers the hub model on the transformers engine too, in the file variant now cached.
      await page.evaluate(() => (location.hash = '#evaluate'));
      await expect(page.getByTestId('eval-model-choice').locator(`option[value="${SMOL.repo}|transformers|fp32"]`)).toHaveText(`${SMOL.repo} · transformers.js · fp32`);
      expect(blocked).toEqual([]);
    } finally {
      await hub.close();
    }
  });
});
