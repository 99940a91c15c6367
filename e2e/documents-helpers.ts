/** Shared by the document specs: generated documents, and the Documents view with a file picked. */
import { expect, type Page } from '@playwright/test';
import type { TestDocKind } from '../src/bench/ocr-tool';

/** Generated documents come from the OCR tool page, drawn by this Chromium. */
export async function makeDocument(page: Page, kind: TestDocKind, pages = 1, seed = 1): Promise<{ buffer: Buffer; text: string[] }> {
  const tool = await page.context().newPage();
  try {
    await tool.goto('/ocr.html');
    await tool.waitForFunction(() => window.ocrTool !== undefined);
    const doc = await tool.evaluate(({ k, n, s }) => window.ocrTool?.makeDocument(k, n, s), { k: kind, n: pages, s: seed });
    if (!doc) throw new Error('the OCR tool page did not load');
    return { buffer: Buffer.from(doc.base64, 'base64'), text: doc.text };
  } finally {
    await tool.close();
  }
}

export async function openDocuments(page: Page): Promise<void> {
  // Straight to the view: the Chat view (the default) would start loading the bundled model.
  await page.goto('/#documents');
  await expect(page.getByTestId('documents-page')).toBeVisible();
}

export async function pick(page: Page, name: string, mimeType: string, buffer: Buffer): Promise<void> {
  await page.getByTestId('doc-file-input').setInputFiles({ name, mimeType, buffer });
}

