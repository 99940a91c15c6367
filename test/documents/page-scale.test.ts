import { describe, expect, it } from 'vitest';
import { cappedScale, MAX_PAGE_PIXELS, MAX_PAGE_SIDE } from '../../src/documents/page-scale';

const pixels = (w: number, h: number, s: number) => Math.round(w * s) * Math.round(h * s);

describe('PDF page render scale', () => {
  it('keeps the asked scale for ordinary pages', () => {
    expect(cappedScale(595, 842, 2)).toBe(2); // A4 at 144 dpi
    expect(cappedScale(612, 792, 3)).toBe(3); // Letter at 216 dpi
  });

  it('caps a 14400 pt page (the largest PDF allows) to the side and pixel limits', () => {
    const s = cappedScale(14400, 14400, 2);
    expect(s).toBeLessThan(2);
    expect(Math.round(14400 * s)).toBeLessThanOrEqual(MAX_PAGE_SIDE);
    expect(pixels(14400, 14400, s)).toBeLessThanOrEqual(MAX_PAGE_PIXELS);
  });

  it('caps a long strip by its side and a wide sheet by its area', () => {
    const strip = cappedScale(595, 14400, 2);
    expect(Math.round(14400 * strip)).toBeLessThanOrEqual(MAX_PAGE_SIDE);
    const a0 = cappedScale(2384, 3370, 2);
    expect(pixels(2384, 3370, a0)).toBeLessThanOrEqual(MAX_PAGE_PIXELS);
    expect(a0).toBeGreaterThan(1);
  });
});
