import { describe, expect, it } from 'vitest';
import { toExportJson, toPlainText } from '../../src/ui/document-export';
import type { PageResult } from '../../src/documents/types';

const pages: PageResult[] = [
  { page: 2, source: 'text-layer', width: 100, height: 100, ms: 3, lines: [{ text: 'Second page', box: { x: 1, y: 2, width: 30, height: 8 }, confidence: 1 }] },
  {
    page: 1,
    source: 'ocr',
    width: 100,
    height: 100,
    ms: 9,
    lines: [
      { text: 'Title', box: { x: 10.04, y: 5.55, width: 40.123, height: 12 }, confidence: 0.98765 },
      { text: 'Body', box: { x: 10, y: 30, width: 20, height: 9 }, confidence: 0.9 },
    ],
  },
];

describe('document export', () => {
  it('JSON has pages in order with source and lines of text, box and confidence only', () => {
    const json = toExportJson(pages);
    expect(Object.keys(json)).toEqual(['pages']);
    expect(json.pages.map((p) => [p.page, p.source])).toEqual([[1, 'ocr'], [2, 'text-layer']]);
    for (const p of json.pages) {
      expect(Object.keys(p).sort()).toEqual(['lines', 'page', 'source']);
      for (const l of p.lines) {
        expect(Object.keys(l).sort()).toEqual(['box', 'confidence', 'text']);
        expect(Object.keys(l.box).sort()).toEqual(['height', 'width', 'x', 'y']);
      }
    }
    expect(json.pages[0]?.lines[0]).toEqual({ text: 'Title', box: { x: 10, y: 5.6, width: 40.1, height: 12 }, confidence: 0.988 });
    // It survives a JSON round trip unchanged (no class instances, no undefined).
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('text has one line per line and a form feed between pages', () => {
    expect(toPlainText(pages)).toBe('Title\nBody\n\f\nSecond page');
  });
});
