import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { characterErrorRate } from '../src/eval/cer';
import { makeDocument, openDocuments, pick } from './documents-helpers';

test('a PDF without a text layer is OCR-read: lines, overlay search, dates and exports', async ({ page }) => {
  test.setTimeout(180_000);
  const doc = await makeDocument(page, 'image-pdf', 1, 11);
  await openDocuments(page);
  await pick(page, 'scan.pdf', 'application/pdf', doc.buffer);
  await expect(page.getByTestId('page-source')).toContainText('read by OCR', { timeout: 120_000 });
  await expect(page.getByTestId('thumbnail')).toHaveAttribute('data-source', 'ocr');
  const lines = await page.getByTestId('ocr-line').locator('.line-text').allTextContents();
  const cer = characterErrorRate(doc.text[0] ?? '', lines.join('\n'));
  expect(cer.cer, `OCR text:\n${lines.join('\n')}`).toBeLessThanOrEqual(0.05);
  await expect(page.getByTestId('overlay-line')).toHaveCount(lines.length);

  // Search marks the lines holding a word that is really on the page.
  const word = (doc.text[0] ?? '').split('\n')[2]?.split(' ')[0] ?? '';
  await page.getByTestId('doc-search').fill(word);
  expect(await page.locator('[data-testid="overlay-line"].match').count()).toBeGreaterThan(0);
  await expect(page.getByTestId('search-count')).toContainText('on this page');

  // Questions wait for a model, except the deterministic date extraction.
  await expect(page.getByTestId('model-needed')).toContainText('Load a model to ask questions');
  for (const b of await page.getByTestId('preset-question').all()) await expect(b).toBeDisabled();
  await page.getByTestId('extract-dates').click();
  await expect(page.getByTestId('dates-result')).toBeVisible();
  const isos = await page.getByTestId('date-row').locator('td:first-child').allTextContents();
  for (const iso of isos) expect(iso).toMatch(/^\d{4}-\d{2}-\d{2}$/);

  const download = page.waitForEvent('download');
  await page.getByTestId('export-json').click();
  const json = JSON.parse(readFileSync(await (await download).path(), 'utf8')) as { pages: { page: number; source: string; lines: { text: string; box: object; confidence: number }[] }[] };
  expect(json.pages).toHaveLength(1);
  expect(json.pages[0]?.source).toBe('ocr');
  expect(json.pages[0]?.lines.map((l) => l.text)).toEqual(lines);
});

test('a PDF with a text layer is read from it, without OCR', async ({ page }) => {
  const doc = await makeDocument(page, 'text-pdf', 2, 21);
  await openDocuments(page);
  await pick(page, 'typed.pdf', 'application/pdf', doc.buffer);
  await expect(page.getByTestId('thumbnail')).toHaveCount(2, { timeout: 60_000 });
  for (const t of await page.getByTestId('thumbnail').all()) await expect(t).toHaveAttribute('data-source', 'text-layer');
  await expect(page.getByTestId('page-source')).toContainText('text layer of the PDF');
  expect(await page.getByTestId('ocr-line').locator('.line-text').allTextContents()).toEqual((doc.text[0] ?? '').split('\n'));
  await page.getByTestId('thumbnail').nth(1).click();
  expect(await page.getByTestId('ocr-line').locator('.line-text').allTextContents()).toEqual((doc.text[1] ?? '').split('\n'));
});

test('a multi-page PDF shows progress and can be cancelled, and the page keeps working', async ({ page }) => {
  test.setTimeout(180_000);
  const doc = await makeDocument(page, 'image-pdf', 6, 31);
  await openDocuments(page);
  await pick(page, 'long.pdf', 'application/pdf', doc.buffer);
  await expect(page.getByTestId('doc-progress')).toBeVisible();
  await expect(page.getByTestId('doc-status')).toContainText(/of 6/);
  await expect(page.getByTestId('thumbnail')).toHaveCount(1, { timeout: 120_000 });
  await page.getByTestId('doc-cancel').click();
  await expect(page.getByTestId('doc-status')).toContainText('cancelled after');
  await expect(page.getByTestId('doc-progress')).toBeHidden();
  const done = await page.getByTestId('thumbnail').count();
  expect(done).toBeLessThan(6);
  await expect(page.getByTestId('more-pages')).toContainText(`Process pages ${done + 1}-6 of 6`);
  // Nothing else was lost: the finished page is still there and searchable.
  await page.getByTestId('doc-search').fill((doc.text[0] ?? '').split('\n')[1]?.split(' ')[0] ?? '');
  expect(await page.locator('[data-testid="overlay-line"].match').count()).toBeGreaterThan(0);
});

test('bad inputs say what is wrong and leave the open document alone', async ({ page }) => {
  test.setTimeout(180_000);
  const good = await makeDocument(page, 'text-pdf', 1, 41);
  const encrypted = await makeDocument(page, 'encrypted-pdf');
  const corrupt = await makeDocument(page, 'corrupt-pdf');
  const blank = await makeDocument(page, 'blank-png');
  await openDocuments(page);
  await pick(page, 'good.pdf', 'application/pdf', good.buffer);
  await expect(page.getByTestId('thumbnail')).toHaveCount(1, { timeout: 60_000 });

  const error = page.getByTestId('doc-error');
  await pick(page, 'locked.pdf', 'application/pdf', encrypted.buffer);
  await expect(error).toContainText('password-protected');
  await expect(error).toHaveAttribute('data-code', 'pdf-encrypted');
  await pick(page, 'broken.pdf', 'application/pdf', corrupt.buffer);
  await expect(error).toHaveAttribute('data-code', 'pdf-corrupt');
  await expect(error).toContainText('could not be read as a PDF');
  await pick(page, 'notes.txt', 'text/plain', Buffer.from('just some notes\n'));
  await expect(error).toHaveAttribute('data-code', 'unsupported-file');
  await expect(error).toContainText('is not a PDF, PNG, JPEG or WebP file');
  // The good document is untouched by the three refusals.
  await expect(page.getByTestId('thumbnail')).toHaveCount(1);
  expect(await page.getByTestId('ocr-line').locator('.line-text').allTextContents()).toEqual((good.text[0] ?? '').split('\n'));

  await pick(page, 'blank.png', 'image/png', blank.buffer);
  await expect(error).toHaveAttribute('data-code', 'no-text', { timeout: 120_000 });
  await expect(error).toContainText('No text found in blank.png');
  await expect(page.getByTestId('no-text')).toBeVisible();
});

test('a 500-page scan is read lazily, 20 pages at a time, and can be cancelled and continued', async ({ page }) => {
  test.setTimeout(240_000);
  const doc = await makeDocument(page, 'long-scan-pdf', 500, 51);
  await openDocuments(page);
  await pick(page, 'book.pdf', 'application/pdf', doc.buffer);
  await expect(page.getByTestId('doc-status')).toContainText(/book\.pdf: page \d+ of 500/, { timeout: 60_000 });
  await expect(page.getByTestId('thumbnail')).toHaveCount(1, { timeout: 120_000 });
  await page.getByTestId('doc-cancel').click();
  await expect(page.getByTestId('doc-status')).toContainText('cancelled after');
  const first = await page.getByTestId('thumbnail').count();
  expect(first).toBeLessThan(20);
  // The rest waits for the person to ask for it, a slice at a time.
  await expect(page.getByTestId('more-pages')).toHaveText(`Process pages ${first + 1}-${first + 20} of 500`);
  await page.getByTestId('more-pages').click();
  await expect(page.getByTestId('doc-status')).toContainText(`page ${first + 1} of 500`);
  await expect(page.getByTestId('thumbnail')).toHaveCount(first + 1, { timeout: 120_000 });
  await page.getByTestId('doc-cancel').click();
  await expect(page.getByTestId('doc-status')).toContainText('cancelled after');
  const done = await page.getByTestId('thumbnail').count();
  expect(done).toBeGreaterThan(first);
  await expect(page.getByTestId('more-pages')).toHaveText(`Process pages ${done + 1}-${done + 20} of 500`);
  // The pages read in the second slice hold their text, and the first page is still there.
  await page.getByTestId('thumbnail').nth(done - 1).click();
  const lines = await page.getByTestId('ocr-line').locator('.line-text').allTextContents();
  expect(lines.length).toBeGreaterThan(4);
  await expect(page.getByTestId('page-source')).toContainText(`Page ${done}: read by OCR`);
  await page.getByTestId('thumbnail').first().click();
  await expect(page.getByTestId('page-source')).toContainText('Page 1: read by OCR');
});

test('an empty page in a PDF says no text was found on it, and the other pages keep theirs', async ({ page }) => {
  test.setTimeout(120_000);
  const doc = await makeDocument(page, 'blank-page-pdf', 1, 61);
  await openDocuments(page);
  await pick(page, 'gap.pdf', 'application/pdf', doc.buffer);
  await expect(page.getByTestId('thumbnail')).toHaveCount(2, { timeout: 60_000 });
  await expect(page.getByTestId('doc-error')).toBeHidden();
  await page.getByTestId('thumbnail').nth(1).click();
  await expect(page.getByTestId('no-text')).toHaveText('No text found on this page.');
  await expect(page.getByTestId('page-source')).toContainText('Page 2: read by OCR');
  await page.getByTestId('thumbnail').first().click();
  expect(await page.getByTestId('ocr-line').locator('.line-text').allTextContents()).toEqual((doc.text[0] ?? '').split('\n'));
});
