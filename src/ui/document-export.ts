/**
 * Exports of a processed document: plain text (pages separated by a form
 * feed line, as pdftotext does) and the JSON `npm run ocr --json` writes:
 * {"pages":[{"page","source","lines":[{"text","box","confidence"}]}]}.
 */
import type { PageResult, PageSource, TextLine } from '../worker/api';

export interface ExportLine {
  text: string;
  box: TextLine['box'];
  /** null where the OCR gives none (Florence-2). */
  confidence: number | null;
}

export interface ExportPage {
  page: number;
  source: PageSource;
  lines: ExportLine[];
}

export interface ExportDocument {
  pages: ExportPage[];
}

const tenth = (v: number) => Math.round(v * 10) / 10;

export function toExportJson(pages: readonly PageResult[]): ExportDocument {
  return {
    pages: [...pages]
      .sort((a, b) => a.page - b.page)
      .map((p) => ({
        page: p.page,
        source: p.source,
        lines: p.lines.map((l) => ({
          text: l.text,
          box: { x: tenth(l.box.x), y: tenth(l.box.y), width: tenth(l.box.width), height: tenth(l.box.height) },
          confidence: l.confidence === null ? null : Math.round(l.confidence * 1000) / 1000,
        })),
      })),
  };
}

export function toPlainText(pages: readonly PageResult[]): string {
  return [...pages]
    .sort((a, b) => a.page - b.page)
    .map((p) => p.lines.map((l) => l.text).join('\n'))
    .join('\n\f\n');
}
