import { describe, expect, it } from 'vitest';
import { cropChw, gridTiles } from '../../src/models/tiling';

/** A [3, h, w] image whose value names its place: c * 10000 + y * 100 + x. */
function labelled(h: number, w: number): Float32Array {
  return Float32Array.from({ length: 3 * h * w }, (_, i) => {
    const c = Math.floor(i / (h * w));
    const y = Math.floor((i % (h * w)) / w);
    return c * 10000 + y * 100 + (i % w);
  });
}

describe('tiling shared by AnyRes and Idefics3 splitting', () => {
  it('crops the window at (top, left) of every channel', () => {
    const out = cropChw(labelled(5, 7), 5, 7, 2, 3, 2, 3);
    expect(Array.from(out)).toEqual([203, 204, 205, 303, 304, 305, 10203, 10204, 10205, 10303, 10304, 10305, 20203, 20204, 20205, 20303, 20304, 20305]);
  });

  it('refuses a window past the image', () => {
    expect(() => cropChw(labelled(4, 4), 4, 4, 3, 0, 2, 2)).toThrow(RangeError);
    expect(() => cropChw(labelled(4, 4), 4, 4, 0, -1, 2, 2)).toThrow(RangeError);
  });

  it('cuts a 2 x 3 grid of 2 x 1 tiles row-major, covering the image once', () => {
    const tiles = gridTiles(labelled(4, 3), 4, 3, 2, 3, 2, 1);
    expect(tiles.map((t) => t[0])).toEqual([0, 1, 2, 200, 201, 202]);
    const seen = new Set(tiles.flatMap((t) => Array.from(t)));
    expect(seen.size).toBe(3 * 4 * 3);
  });
});
