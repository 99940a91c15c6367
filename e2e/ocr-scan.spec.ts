import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { openDocuments, pick } from './documents-helpers';

// A small photographed page as the scan layout of bench:ocr makes it (seed
// 100, page 1: `npm run bench:ocr -- --layout scan --save-pages DIR`):
// 382x256 px, x-height about 7 px, a deep shadow over the right and lower
// part, two lines of code at the bottom. The text it holds is beside it.
const PNG = readFileSync('e2e/fixtures/scan-shadow-page.png');
const LINES = readFileSync('e2e/fixtures/scan-shadow-page.txt', 'utf8').trim().split('\n');

test('a small shadowed photo of a page: every line found and read, their boxes shown, a region read again', async ({ page }) => {
  test.setTimeout(90_000);
  await openDocuments(page);
  await pick(page, 'scan-shadow-page.png', 'image/png', PNG);
  await expect(page.getByTestId('page-source')).toContainText('read by OCR', { timeout: 60_000 });

  // All nine lines, in reading order, exactly: the heading, the prose in the shadow and both code lines.
  const texts = page.getByTestId('ocr-line').locator('.line-text');
  await expect(texts).toHaveText(LINES);

  // Each line found is outlined on the page image.
  const boxes = page.getByTestId('overlay-line');
  await expect(boxes).toHaveCount(LINES.length);
  await expect(page.locator('.page-frame.show-boxes')).toHaveCount(1);
  for (const b of await boxes.all()) {
    const r = await b.boundingBox();
    expect(r && r.width > 20 && r.height > 4).toBe(true);
    expect(await b.evaluate((el) => getComputedStyle(el).boxShadow)).not.toBe('none');
  }

  // Drawing over the two code lines reads them again: two lines come back and take the place of the old ones.
  await page.getByTestId('region-ocr').click();
  await page.locator('.page-frame').scrollIntoViewIfNeeded();
  const first = await boxes.nth(LINES.length - 2).boundingBox();
  const last = await boxes.nth(LINES.length - 1).boundingBox();
  if (!first || !last) throw new Error('no boxes for the code lines');
  await page.mouse.move(first.x - 6, first.y - 3);
  await page.mouse.down();
  await page.mouse.move(Math.max(first.x + first.width, last.x + last.width) + 6, last.y + last.height + 3, { steps: 4 });
  await page.mouse.up();
  await expect(page.getByTestId('doc-status')).toContainText('2 lines read in the region', { timeout: 30_000 });
  await expect(page.getByTestId('ocr-line').locator('.line-text')).toHaveText(LINES);
});
