import { expect, test } from '@playwright/test';
import { makeDocument, openDocuments, pick } from './documents-helpers';

test('a scanned PDF is OCR-read and the bundled model answers its title, with the line highlighted', async ({ page }) => {
  test.setTimeout(240_000);
  const doc = await makeDocument(page, 'form-pdf', 1, 5);
  const [title = '', dateLine = ''] = (doc.text[0] ?? '').split('\n');
  const date = dateLine.replace('Date: ', '');
  await openDocuments(page);
  await pick(page, 'scan.pdf', 'application/pdf', doc.buffer);
  await expect(page.getByTestId('page-source')).toContainText('read by OCR', { timeout: 120_000 });
  const lines = await page.getByTestId('ocr-line').locator('.line-text').allTextContents();
  expect(lines[0], `OCR lines:\n${lines.join('\n')}`).toBe(title);

  // No model yet: questions wait for one, and the page offers the bundled model.
  await expect(page.getByTestId('preset-question').first()).toBeDisabled();
  await page.getByTestId('doc-load-model').click();
  await expect(page.getByTestId('model-needed')).toContainText('Questions go to webvlm-tiny with the page image and its text', { timeout: 60_000 });

  await page.getByTestId('preset-question').filter({ hasText: 'What is the title of this document?' }).click();
  await expect(page.getByTestId('answer-source')).not.toBeEmpty({ timeout: 60_000 });
  await expect(page.getByTestId('answer-text')).toHaveText(title);
  await expect(page.getByTestId('answer-source')).toHaveAttribute('data-match', 'whole');
  await expect(page.getByTestId('answer-source')).toContainText(`line 1 "${title}"`);
  await expect(page.locator('[data-testid="overlay-line"].answer')).toHaveCount(1);
  await expect(page.locator('[data-testid="overlay-line"][data-line="0"]')).toHaveClass(/answer/);
  await expect(page.locator('[data-testid="ocr-line"].answer .line-text')).toHaveText(title);
  await page.screenshot({ path: `${test.info().project.outputDir}/document-qa.png`, fullPage: true });

  // "Extract all dates" shows the model's answer, with its line marked, and beside it the dates parsed
  // from the text (the deterministic path).
  await page.getByTestId('extract-dates').click();
  await expect(page.getByTestId('answer-source')).not.toBeEmpty({ timeout: 60_000 });
  await expect(page.getByTestId('answer-text')).toHaveText(date);
  await expect(page.locator('[data-testid="overlay-line"].answer')).toHaveCount(1);
  await expect(page.locator('[data-testid="overlay-line"][data-line="1"]')).toHaveClass(/answer/);
  await expect(page.getByTestId('date-row').locator('td:first-child')).toHaveText([date]);
  await expect(page.getByTestId('question-answer')).toContainText('Dates found in the document text (deterministic, no model)');

  // An empty question is refused in words, and the last answer's page stays as it was.
  await page.getByTestId('question-input').fill('   ');
  await page.getByTestId('question-input').press('Enter');
  await expect(page.getByTestId('answer-error')).toHaveText('Type a question first.');
  await expect(page.getByTestId('ocr-line')).toHaveCount(lines.length);
});
