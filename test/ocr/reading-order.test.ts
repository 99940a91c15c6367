import { describe, expect, it } from 'vitest';
import { groupRows, readingOrder, readingOrderOfQuads } from '../../src/ocr/reading-order';
import { quadBounds, type Point, type Quad } from '../../src/ocr/types';

const item = (text: string, x: number, y: number, width = 50, height = 20) => ({ text, box: { x, y, width, height } });

describe('reading order', () => {
  it('reads rows top to bottom and each row left to right', () => {
    const items = [item('d', 300, 102), item('c', 10, 100), item('b', 300, 8), item('a', 10, 10), item('e', 10, 200)];
    expect(readingOrder(items).map((i) => i.text)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('keeps a word on a drifting baseline in its row, and stacked lines apart', () => {
    const items = [item('left', 10, 50), item('right', 200, 58), item('below', 10, 72)];
    const rows = groupRows(items);
    expect(rows.map((r) => r.map((i) => i.text))).toEqual([['left', 'right'], ['below']]);
  });

  it('compares overlap with the shorter box, so a big heading does not swallow small text beside it', () => {
    const items = [item('heading', 10, 0, 200, 60), item('small', 300, 20, 50, 14), item('next', 10, 62, 50, 14)];
    expect(readingOrder(items).map((i) => i.text)).toEqual(['heading', 'small', 'next']);
  });

  it('leaves an empty page empty', () => {
    expect(readingOrder([])).toEqual([]);
  });

  it('orders the lines of a page skewed by 5 degrees in the page\'s own frame, where their boxes overlap', () => {
    // Eight 400 px lines 24 px apart, turned 5 degrees about the origin; the right half of each line is read as its own box.
    const a = (5 * Math.PI) / 180;
    const turn = ([x, y]: Point): Point => [x * Math.cos(a) - y * Math.sin(a), x * Math.sin(a) + y * Math.cos(a)];
    const line = (text: string, x: number, y: number, w: number) => {
      const quad = [turn([x, y]), turn([x + w, y]), turn([x + w, y + 16]), turn([x, y + 16])] as unknown as Quad;
      return { text, quad, box: quadBounds(quad) };
    };
    const items = Array.from({ length: 8 }, (_, i) => [line(`${i}a`, 100, 100 + 24 * i, 190), line(`${i}b`, 310, 100 + 24 * i, 190)]).flat();
    const want = items.map((i) => i.text);
    // Their axis-aligned boxes overlap (each spans 16 + 400 * sin 5deg = 51 px across rows 24 px apart).
    expect(readingOrder([...items].reverse()).map((i) => i.text)).not.toEqual(want);
    expect(readingOrderOfQuads([...items].reverse()).map((i) => i.text)).toEqual(want);
  });
});
