import { describe, expect, it } from 'vitest';
import {
  expandImagePrompt,
  parseIdefics3Preprocessor,
  preprocessIdefics3,
  resizeToMaxLen,
  sizeForVisionEncoder,
} from '../../src/models/idefics3-processing';
import type { ImagePixels } from '../../src/models/image-processing';

// SmolVLM's image processor rules apart from the fixture's images (which need no resize):
// HF's sizes, the tile grid, and images far smaller or larger than the tile.
const cfg = parseIdefics3Preprocessor(
  { size: { longest_edge: 256 }, max_image_size: { longest_edge: 64 }, resample: 1, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] },
  64,
);

function solid(width: number, height: number, value: number): ImagePixels {
  return { width, height, data: new Uint8Array(width * height * 3).fill(value), channels: 3 };
}

describe('Idefics3 image processor', () => {
  it("sizes as HF does: the longest edge to size, the other truncated then made even; then multiples of the tile", () => {
    expect(resizeToMaxLen(60, 100, 256)).toEqual([154, 256]);
    expect(resizeToMaxLen(100, 60, 256)).toEqual([256, 154]);
    expect(sizeForVisionEncoder(154, 256, 64)).toEqual([192, 256]);
    expect(sizeForVisionEncoder(256, 154, 64)).toEqual([256, 192]);
  });

  it('splits a 100 x 60 image into 3 x 4 tiles plus the global view, each [3, 64, 64]', () => {
    const out = preprocessIdefics3(solid(100, 60, 255), cfg);
    expect([out.rows, out.cols]).toEqual([3, 4]);
    expect(out.tiles).toHaveLength(13);
    for (const t of out.tiles) {
      expect(t.length).toBe(3 * 64 * 64);
      // White stays white through Lanczos (its taps sum to 1) and normalises to 1.
      expect(Math.max(...t.map((v) => Math.abs(v - 1)))).toBeLessThan(1e-6);
    }
  });

  it('resizes a 1 x 1 image and a 4000 x 10 strip as the processor says, without failing', () => {
    const dot = preprocessIdefics3(solid(1, 1, 0), cfg);
    expect([dot.rows, dot.cols, dot.tiles.length]).toEqual([4, 4, 17]);
    expect(dot.tiles[0]?.[0]).toBe(-1);
    const strip = preprocessIdefics3(solid(4000, 10, 128), cfg);
    expect([strip.rows, strip.cols, strip.tiles.length]).toEqual([1, 4, 5]);
  });

  it('a 3 x 500 and a 500 x 3 sliver keep an even edge of at least 2 and become one column or row of tiles', () => {
    expect(resizeToMaxLen(500, 3, 256)).toEqual([256, 2]);
    const tall = preprocessIdefics3(solid(3, 500, 255), cfg);
    expect([tall.rows, tall.cols, tall.tiles.length]).toEqual([4, 1, 5]);
    const wide = preprocessIdefics3(solid(500, 3, 255), cfg);
    expect([wide.rows, wide.cols, wide.tiles.length]).toEqual([1, 4, 5]);
    for (const t of [...tall.tiles, ...wide.tiles]) {
      expect(t.length).toBe(3 * 64 * 64);
      expect(t.every(Number.isFinite)).toBe(true);
    }
  });

  it("an 8000 x 6000 photo at SmolVLM-256M's real sizes (size 2048, tiles 512) is brought down to 4 x 3 tiles plus the global view first", () => {
    const real = parseIdefics3Preprocessor({ size: { longest_edge: 2048 }, max_image_size: { longest_edge: 512 }, resample: 1 }, 512);
    const photo = { width: 8000, height: 6000, channels: 3 as const, data: new Uint8Array(8000 * 6000 * 3) };
    // A gradient, so the resize has something to filter.
    for (let i = 0; i < photo.data.length; i++) photo.data[i] = (i * 7) & 255;
    const out = preprocessIdefics3(photo, real);
    expect([out.rows, out.cols, out.tiles.length]).toEqual([3, 4, 13]);
    // 13 tiles of [3, 512, 512] f32: 41 MB, however large the photo was.
    for (const t of out.tiles) expect(t.length).toBe(3 * 512 * 512);
    expect(out.tiles.every((t) => t.every(Number.isFinite))).toBe(true);
  });

  it('squashes to one tile without splitting, and refuses a max_image_size the tower cannot take', () => {
    const one = preprocessIdefics3(solid(100, 60, 0), { ...cfg, doImageSplitting: false });
    expect([one.rows, one.cols, one.tiles.length, one.tiles[0]?.length]).toEqual([0, 0, 1, 3 * 64 * 64]);
    expect(() => parseIdefics3Preprocessor({ max_image_size: { longest_edge: 512 } }, 64)).toThrow(/max_image_size.longest_edge is 512 but the vision tower takes 64x64/);
  });

  it('expands every <image> in order and refuses a count that does not match', () => {
    const text = expandImagePrompt('A<image>B<image>', [{ rows: 1, cols: 2 }, { rows: 0, cols: 0 }], 2);
    const blocks = '<fake_token_around_image><row_1_col_1><image><image><fake_token_around_image><row_1_col_2><image><image>\n\n';
    const global = '<fake_token_around_image><global-img><image><image><fake_token_around_image>';
    expect(text).toBe(`A${blocks}${global}B${global}`);
    expect(() => expandImagePrompt('<image>', [], 2)).toThrow(/1 <image> tokens but 0 image/);
  });
});
