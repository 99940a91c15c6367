/**
 * What the document pipeline produces for each page, and the JSON a user
 * scripts against (`npm run ocr -- FILE --json OUT` writes the same shape).
 */
import type { Box, OcrLine } from '../ocr/types';

/** "text-layer": the PDF carried the text; "ocr": it was read from the pixels. */
export type PageSource = 'text-layer' | 'ocr';

export interface TextLine {
  text: string;
  box: Box;
  /** 1 for text-layer lines (the PDF states them), the recognizer's otherwise. */
  confidence: number;
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
}

export function fromOcrLines(lines: readonly OcrLine[]): TextLine[] {
  return lines.map((l) => ({ text: l.text, box: l.box, confidence: l.confidence }));
}
