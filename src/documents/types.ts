/**
 * What the document pipeline produces for each page, and the JSON a user
 * scripts against (`npm run ocr -- FILE --json OUT` writes the same shape).
 */
import type { Box, OcrLine } from '../ocr/types';

/** "text-layer": the PDF carried the text; "ocr": it was read from the pixels. */
export type PageSource = 'text-layer' | 'ocr';

/** Who reads a page's pixels: PP-OCRv4 (detector and recognizer), or a loaded Florence-2 by its OCR-with-regions task. */
export type OcrEngine = 'pp-ocr' | 'florence-2';

export interface TextLine {
  text: string;
  box: Box;
  /**
   * 1 for text-layer lines (the PDF states them), the recognizer's for PP-OCR;
   * null where the reader gives none (Florence-2 names lines and quads only).
   */
  confidence: number | null;
}

export interface PageResult {
  /** 1-based page number. */
  page: number;
  source: PageSource;
  /** Size of the image the boxes refer to, in pixels. */
  width: number;
  height: number;
  lines: TextLine[];
  ms: number;
  /** Which OCR read an 'ocr' page; absent on text-layer pages (and read as PP-OCR on older results). */
  ocrEngine?: OcrEngine;
}

export function fromOcrLines(lines: readonly OcrLine[]): TextLine[] {
  return lines.map((l) => ({ text: l.text, box: l.box, confidence: l.confidence }));
}
