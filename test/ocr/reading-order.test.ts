import { describe, expect, it } from 'vitest';
import { groupRows, readingOrder } from '../../src/ocr/reading-order';

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
});
