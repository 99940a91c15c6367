import { describe, expect, it } from 'vitest';
import { GLYPH_HEIGHT, GLYPH_WIDTH } from '../../src/data/font-glyphs';
import { canDraw, drawText, FONT_CHARS, glyph, runBox, textWidth } from '../../src/data/font';
import { createRaster, drawLine, fillRect, getPixel, sameRgb, strokeRect } from '../../src/data/raster';
import type { Rgb } from '../../src/data/raster';
import { shapeContains, shapeMask } from '../../src/data/shapes';
import { SHAPES } from '../../src/data/vocabulary';
import { readText } from './pixels';

const INK: Rgb = [10, 20, 30];
const BG: Rgb = [200, 200, 200];

function inked(r: ReturnType<typeof createRaster>): number {
  let n = 0;
  for (let y = 0; y < r.height; y++) for (let x = 0; x < r.width; x++) n += sameRgb(getPixel(r, x, y), INK) ? 1 : 0;
  return n;
}

describe('raster primitives', () => {
  it('fills exactly the rectangle and clips at the edges', () => {
    const r = createRaster(10, 8, BG);
    fillRect(r, 7, 6, 5, 5, INK);
    expect(inked(r)).toBe(3 * 2);
    expect(sameRgb(getPixel(r, 9, 7), INK)).toBe(true);
    expect(sameRgb(getPixel(r, 6, 7), BG)).toBe(true);
  });

  it('strokes a one-pixel outline inside the rectangle', () => {
    const r = createRaster(10, 10, BG);
    strokeRect(r, 1, 2, 6, 5, INK);
    expect(inked(r)).toBe(2 * 6 + 2 * 3);
    expect(sameRgb(getPixel(r, 3, 4), BG)).toBe(true);
  });

  it('draws lines with both end points and one pixel per step of the long axis', () => {
    const r = createRaster(20, 20, BG);
    drawLine(r, 2, 3, 15, 9, INK);
    expect(inked(r)).toBe(14);
    expect(sameRgb(getPixel(r, 2, 3), INK)).toBe(true);
    expect(sameRgb(getPixel(r, 15, 9), INK)).toBe(true);
  });
});

describe('shape coverage', () => {
  it('covers a pixel exactly when its centre is inside the shape', () => {
    for (const shape of SHAPES) {
      const m = shapeMask(shape, 13);
      for (let y = 0; y < 13; y++) {
        for (let x = 0; x < 13; x++) {
          expect(m.bits[y * 13 + x]).toBe(shapeContains(shape, (x + 0.5) / 13, (y + 0.5) / 13) ? 1 : 0);
        }
      }
    }
  });

  it('is mirror-symmetric left to right and its bounds are tight', () => {
    for (const shape of SHAPES) {
      for (let side = 4; side <= 24; side++) {
        const m = shapeMask(shape, side);
        const at = (x: number, y: number): number => m.bits[y * side + x] ?? 0;
        let x1 = side, y1 = side, x2 = 0, y2 = 0;
        for (let y = 0; y < side; y++) {
          for (let x = 0; x < side; x++) {
            expect(at(x, y), `${shape} ${side} (${x},${y})`).toBe(at(side - 1 - x, y));
            if (at(x, y)) [x1, y1, x2, y2] = [Math.min(x1, x), Math.min(y1, y), Math.max(x2, x + 1), Math.max(y2, y + 1)];
          }
        }
        expect(m.bounds).toEqual({ x1, y1, x2, y2 });
      }
    }
  });

  it('has the area of its geometry at a large size', () => {
    const side = 200;
    const area = (s: (typeof SHAPES)[number]): number => shapeMask(s, side).bits.reduce((a, b) => a + b, 0) / side ** 2;
    // Pixel centres on an edge count as inside, which adds about one row per edge: 1/side.
    const near = (got: number, want: number): void => expect(Math.abs(got - want)).toBeLessThan(2 / side);
    expect(area('square')).toBe(1);
    near(area('circle'), Math.PI / 4);
    near(area('diamond'), 0.5);
    near(area('triangle'), 0.5);
    near(area('cross'), 5 / 9);
    // Ten triangles between the centre and consecutive outer (0.5) and inner (0.225) points.
    near(area('star'), 10 * 0.5 * 0.5 * 0.225 * Math.sin(Math.PI / 5));
  });
});

describe('bitmap font', () => {
  it('has upper and lower case letters, digits and punctuation', () => {
    expect(canDraw('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,:;-+=_/()!?\'"%$#&*<>@')).toBe(true);
    expect(canDraw('é')).toBe(false);
  });

  it('gives every character a distinct bitmap, so text can be read back unambiguously', () => {
    const seen = new Map<string, string>();
    for (const ch of FONT_CHARS) {
      const key = Array.from(glyph(ch)).join('');
      expect(seen.get(key), `${JSON.stringify(ch)} looks like ${JSON.stringify(seen.get(key))}`).toBeUndefined();
      seen.set(key, ch);
    }
    expect(glyph('A').length).toBe(GLYPH_WIDTH * GLYPH_HEIGHT);
  });

  it('draws scaled text that reads back exactly and stays inside its box', () => {
    for (const scale of [1, 2, 3]) {
      const text = 'Date: 2024-03-15 qjy!';
      const r = createRaster(textWidth(text, scale) + 4, GLYPH_HEIGHT * scale + 4, BG);
      const run = { text, x: 2, y: 2, scale, colour: INK };
      drawText(r, run);
      expect(readText(r, 2, 2, scale, INK, text.length)).toBe(text);
      const box = runBox(run);
      for (let y = 0; y < r.height; y++) {
        for (let x = 0; x < r.width; x++) {
          const inside = x >= box.x1 && x < box.x2 && y >= box.y1 && y < box.y2;
          if (!inside) expect(sameRgb(getPixel(r, x, y), BG)).toBe(true);
        }
      }
    }
  });

  it('refuses characters it has no glyph for', () => {
    expect(() => drawText(createRaster(20, 20), { text: 'ü', x: 0, y: 0, scale: 1, colour: INK })).toThrow(/no glyph/);
  });
});
