import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { encodePng } from '../src/data/png';
import { createRaster } from '../src/data/raster';
import { readEvalExport } from '../src/eval/export-reader';
import { scoreMme } from '../src/eval/mme';

/** Two images of coco_pope_random.json, six questions each. */
const COCO_IMAGES = ['COCO_val2014_000000310196.jpg', 'COCO_val2014_000000210789.jpg'];

/** A folder of stand-in images: PNG bytes under COCO's .jpg names, so the app must sniff the content. */
function folder(names: readonly string[]): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'pope-')), 'val2014');
  mkdirSync(dir);
  names.forEach((n, i) => writeFileSync(join(dir, n), encodePng(createRaster(64, 48, [40 + 80 * i, 120, 200]))));
  return dir;
}

async function openEvaluate(page: Page): Promise<void> {
  await page.goto('/#evaluate');
  await page.getByTestId('eval-load-model').click();
  await expect(page.getByTestId('eval-model')).toContainText('webvlm-tiny', { timeout: 60_000 });
}

test('synthetic POPE runs to the metrics table with F1 and the chart', async ({ page }) => {
  test.setTimeout(240_000);
  await openEvaluate(page);
  await page.getByTestId('eval-count').fill('1');
  await page.getByTestId('eval-start').click();
  await expect(page.getByTestId('eval-status')).toContainText('18 of 18 questions answered', { timeout: 180_000 });
  for (const split of ['random', 'popular', 'adversarial']) await expect(page.getByTestId(`eval-metrics-pope-${split}`).getByTestId('eval-f1')).toHaveText(/^\d+\.\d%$/);
  await expect(page.getByTestId('eval-confusion-pope-random')).toContainText('TP');
  await expect(page.getByTestId('eval-chart')).toBeVisible();
  await expect(page.getByTestId('eval-question-row')).toHaveCount(18);
  await page.getByTestId('eval-only-errors').check();
  const errors = await page.getByTestId('eval-question-row').count();
  expect(errors).toBeLessThan(18);
  await page.screenshot({ path: `${test.info().project.outputDir}/evaluate-synthetic.png`, fullPage: true });
});

test('COCO POPE over a folder of stand-in images: skipped questions said, JSON export read back', async ({ page }) => {
  test.setTimeout(240_000);
  await openEvaluate(page);
  await page.getByTestId('eval-benchmark').selectOption('pope-coco');
  await page.getByTestId('eval-folder').setInputFiles(folder(COCO_IMAGES));
  await expect(page.getByTestId('eval-drop')).toContainText('2 image file(s) chosen');
  await page.getByTestId('eval-start').click();
  await expect(page.getByTestId('eval-status')).toContainText('12 of 12 questions answered', { timeout: 180_000 });
  await expect(page.getByTestId('eval-status')).toContainText('2988 questions skipped, 498 images missing.');
  await expect(page.getByTestId('eval-missing')).toContainText('498 image(s) missing');
  await expect(page.getByTestId('eval-question-row').first().locator('img')).toBeVisible();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('eval-download-json').click()]);
  const exported = readEvalExport(readFileSync(await download.path(), 'utf8'));
  expect(exported.samples).toHaveLength(12);
  expect(exported.results['pope-random']?.pope?.n).toBe(12);
  expect(new Set(exported.samples.map((s) => s.image.split('/').pop()))).toEqual(new Set(COCO_IMAGES));
  await page.screenshot({ path: `${test.info().project.outputDir}/evaluate-coco.png`, fullPage: true });
});

test('bad inputs: no matching image, a malformed question file, a second Start while running', async ({ page }) => {
  test.setTimeout(240_000);
  await openEvaluate(page);
  await page.getByTestId('eval-benchmark').selectOption('pope-coco');
  await page.getByTestId('eval-folder').setInputFiles(folder(['cat.jpg']));
  await page.getByTestId('eval-start').click();
  await expect(page.getByTestId('eval-error')).toContainText('None of the 500 image(s) coco_pope_random.json names is among the 1 file(s) given; nothing was run');
  await expect(page.getByTestId('eval-results')).toBeHidden();

  const bad = '{"question_id": 1, "image": "cat.jpg", "text": "Is there a cat?", "label": "yes"}\n{"question_id": 2, "image": "cat.jpg", "text": "Is there a dog?"}\n';
  await page.getByTestId('eval-data-file').setInputFiles({ name: 'my_pope.json', mimeType: 'application/json', buffer: Buffer.from(bad) });
  await page.getByTestId('eval-start').click();
  await expect(page.getByTestId('eval-error')).toContainText('my_pope.json, line 2: "label" must be "yes" or "no"');

  await page.getByTestId('eval-benchmark').selectOption('pope-synthetic');
  await page.getByTestId('eval-count').fill('3');
  await page.getByTestId('eval-start').click();
  await expect(page.getByTestId('eval-progress-text')).toContainText('/ 54', { timeout: 30_000 });
  await page.getByTestId('eval-start').click();
  await expect(page.getByTestId('eval-error')).toContainText('already running');
  await page.getByTestId('eval-cancel').click();
  await expect(page.getByTestId('eval-status')).toContainText('Stopped early', { timeout: 60_000 });
  await expect(page.getByTestId('eval-progress')).toBeHidden();
});

/** A made-up MME subtask in both of MME's layouts: a.png beside a.txt, b.jpg under images/ with its .txt under questions_answers_YN/. */
function mmeFolder(): string {
  const root = join(mkdtempSync(join(tmpdir(), 'mme-')), 'MME');
  const sub = join(root, 'colour');
  mkdirSync(join(sub, 'images'), { recursive: true });
  mkdirSync(join(sub, 'questions_answers_YN'));
  writeFileSync(join(sub, 'a.png'), encodePng(createRaster(64, 64, [220, 30, 30])));
  writeFileSync(join(sub, 'a.txt'), 'Is the picture red?\tYes\nIs the picture blue?\tNo\n');
  writeFileSync(join(sub, 'images', 'b.jpg'), encodePng(createRaster(64, 64, [30, 30, 220])));
  writeFileSync(join(sub, 'questions_answers_YN', 'b.txt'), 'Is the picture red?\tNo\nIs the picture blue?\tYes\n');
  return root;
}

test('MME-style yes/no over a subtask folder: the table and score equal scoring the answers shown', async ({ page }) => {
  test.setTimeout(240_000);
  await openEvaluate(page);
  await page.getByTestId('eval-benchmark').selectOption('mme');
  await page.getByTestId('eval-folder').setInputFiles(mmeFolder());
  await page.getByTestId('eval-start').click();
  await expect(page.getByTestId('eval-status')).toContainText('4 of 4 questions answered', { timeout: 180_000 });
  await expect(page.getByTestId('eval-mme')).toBeVisible();
  await expect(page.getByTestId('eval-chart')).toBeVisible();
  const rows = page.getByTestId('eval-question-row');
  await expect(rows).toHaveCount(4);
  // The image cell holds a thumbnail named by its alt text.
  const shown = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.querySelector('img')?.alt ?? td.textContent ?? '')));
  const want = scoreMme(shown.map(([image, subtask, , answer, , truth]) => ({ subtask: subtask ?? '', image: image ?? '', answer: answer ?? '', label: truth === 'yes' ? 'yes' : 'no' })));
  const colour = want.subtasks[0];
  expect(colour).toMatchObject({ subtask: 'colour', images: 2, questions: 4 });
  await expect(page.getByTestId('eval-mme-colour').getByTestId('eval-score')).toHaveText((colour?.score ?? -1).toFixed(2));
  await expect(page.getByTestId('eval-mme-colour').getByTestId('eval-mme-acc')).toHaveText(`${(100 * (colour?.accuracy ?? -1)).toFixed(1)}%`);
  await expect(page.getByTestId('eval-mme-colour').getByTestId('eval-mme-acc-plus')).toHaveText(`${(100 * (colour?.accuracyPlus ?? -1)).toFixed(1)}%`);
  await expect(page.getByTestId('eval-mme-MME total').getByTestId('eval-score')).toHaveText(want.total.toFixed(2));
  await page.screenshot({ path: `${test.info().project.outputDir}/evaluate-mme.png`, fullPage: true });
});

test('two synthetic POPE runs, native then onnx, kept and compared side by side', async ({ page }) => {
  test.setTimeout(420_000);
  await openEvaluate(page);
  await page.getByTestId('eval-count').fill('1');
  await page.getByTestId('eval-start').click();
  await expect(page.getByTestId('eval-status')).toContainText('18 of 18 questions answered', { timeout: 180_000 });

  await page.getByTestId('eval-model-choice').selectOption('webvlm-tiny|onnx');
  await page.getByTestId('eval-load-model').click();
  await expect(page.getByTestId('eval-model')).toContainText('webvlm-tiny on onnx', { timeout: 90_000 });
  await page.getByTestId('eval-start').click();
  await expect(page.getByTestId('eval-status')).toContainText('18 of 18 questions answered', { timeout: 180_000 });

  await expect(page.getByTestId('eval-run')).toHaveCount(2);
  const picks = page.getByTestId('eval-run-pick');
  await picks.nth(0).check();
  await picks.nth(1).check();
  await page.getByTestId('eval-compare-runs').click();
  const table = page.getByTestId('eval-compare');
  await expect(table.locator('thead')).toContainText('A: webvlm-tiny · native');
  await expect(table.locator('thead')).toContainText('B: webvlm-tiny · onnx');
  for (const split of ['random', 'popular', 'adversarial']) {
    const row = page.getByTestId(`eval-compare-pope-${split}-f1`);
    await expect(row.getByTestId('eval-compare-a')).toHaveText(/^\d+\.\d%$/);
    await expect(row.getByTestId('eval-compare-b')).toHaveText(/^\d+\.\d%$/);
    await expect(row.getByTestId('eval-compare-diff')).toHaveText(/^[+−±]\d+\.\d$/);
  }
  await expect(page.getByTestId('eval-compare-chart')).toBeVisible();
  await page.getByTestId('eval-comparison').screenshot({ path: `${test.info().project.outputDir}/evaluate-compare.png` });
});
