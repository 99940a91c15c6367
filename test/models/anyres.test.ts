import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  anyresTiles,
  gridShape,
  imageTokenCount,
  packFeatures,
  patchOutputSize,
  resizeChw,
  selectBestResolution,
  unpadShape,
  type Size,
} from '../../src/models/anyres';
import { describeWorst, worstElement } from '../helpers/compare';

/** test/fixtures/anyres.json, written by tools/train/anyres_fixture.py from tools/train/anyres.py. */
interface ViewStats {
  sum: number;
  mean: number;
  std: number;
  checksum: number;
  first: number[];
  last: number[];
}
interface ImageCase {
  name: string;
  height: number;
  width: number;
  best: Size;
  resized: Size;
  grid: { rows: number; cols: number };
  views: ViewStats[];
}
interface PackCase {
  height: number;
  width: number;
  patchesPerSide: number;
  channels: number;
  shape: [number, number];
  sum: number;
  checksum: number;
  rows: Record<string, number[]>;
  newlineRows: number[];
}
interface ResizeCase {
  height: number;
  width: number;
  outHeight: number;
  outWidth: number;
  sum: number;
  checksum: number;
  samples: number[];
}
interface Fixture {
  format: number;
  pinpoints: Size[];
  tile: number;
  sampleStride: number;
  resizes: ResizeCase[];
  images: ImageCase[];
  packs: PackCase[];
}

const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/anyres.json', import.meta.url), 'utf8')) as Fixture;
const { pinpoints: PINPOINTS, tile: TILE } = FIXTURE;

/**
 * Tolerances against torch's f32 resize. Both sides form the same f32 taps
 * (anyres.ts rounds scale, centres and weights as torch does); what remains is
 * torch summing up to 9 taps per pass in f32, each add rounding by <= 6e-8 of
 * values |x| <= 1, while we sum in f64 and round once per pass.
 */
const TOL = {
  /**
   * One pixel, as |got - want| / (1 + |want|). Measured worst 7.5e-8; the
   * bound (2 passes x 9 adds x 6e-8) is 1.1e-6 but is never approached. Taps
   * centred in f64 instead of f32 miss torch by 2.7e-6 to 3e-5 on the
   * non-integer resizes, so this still tells the two apart.
   */
  pixel: 1e-6,
  /** Mean and std over >= 12,288 pixels: the per-pixel errors have both signs and average out (measured 1e-8). */
  meanStd: 1e-7,
  /**
   * Sums and checksums (weights |w| <= 6) of up to 84,390 pixels: measured
   * 1.3e-4; one misplaced tap or a shifted row moves them by far more than 1e-3.
   */
  sum: 1e-3,
} as const;

/** The fixture's input: ((7x + 13y + 5c) % 256) / 255 normalised with mean = std = 0.5, in f32 as torch forms it. */
function patternImage(height: number, width: number): Float32Array {
  const out = new Float32Array(3 * height * width);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = Math.fround(((x * 7 + y * 13 + c * 5) % 256) / 255);
        out[(c * height + y) * width + x] = (v - 0.5) / 0.5;
      }
    }
  }
  return out;
}

/** The fixture's position weights: a value in the wrong place moves the checksum even when sums agree. */
function checksum(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += (values[i] as number) * (((i * 7919) % 13) - 6);
  return s;
}

function stats(values: Float32Array): { sum: number; mean: number; std: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return { sum, mean, std: Math.sqrt(sq / values.length) };
}

function expectClose(label: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  const worst = worstElement(got, want);
  expect(worst.absError, describeWorst(label, worst)).toBeLessThanOrEqual(tol);
}

describe('resizeChw against torch interpolate (bilinear, antialias)', () => {
  for (const r of FIXTURE.resizes) {
    it(`${r.height}x${r.width} -> ${r.outHeight}x${r.outWidth}`, () => {
      const out = resizeChw(patternImage(r.height, r.width), r.height, r.width, r.outHeight, r.outWidth);
      expect(out.length).toBe(3 * r.outHeight * r.outWidth);
      const samples = Array.from(out).filter((_, i) => i % FIXTURE.sampleStride === 0);
      expectClose(`resize to ${r.outHeight}x${r.outWidth}`, samples, r.samples, TOL.pixel);
      expect(Math.abs(stats(out).sum - r.sum)).toBeLessThanOrEqual(TOL.sum);
      expect(Math.abs(checksum(out) - r.checksum)).toBeLessThanOrEqual(TOL.sum);
    });
  }
});

describe('anyres tiles against anyres.py', () => {
  it('reads fixture format 1', () => {
    expect(FIXTURE.format).toBe(1);
  });

  for (const img of FIXTURE.images) {
    const size: Size = [img.height, img.width];

    it(`${img.name} ${img.height}x${img.width}: pinpoint, resized size and grid`, () => {
      expect(selectBestResolution(size, PINPOINTS)).toEqual(img.best);
      expect(patchOutputSize(size, img.best)).toEqual(img.resized);
      expect(gridShape(img.height, img.width, PINPOINTS, TILE)).toEqual(img.grid);
    });

    it(`${img.name} ${img.height}x${img.width}: every view's pixels`, () => {
      const views = anyresTiles(patternImage(img.height, img.width), img.height, img.width, PINPOINTS, TILE);
      expect(views.length).toBe(img.views.length);
      expect(views.length).toBe(1 + img.grid.rows * img.grid.cols);
      views.forEach((view, i) => {
        const want = img.views[i] as ViewStats;
        const got = stats(view);
        const label = `${img.name} view ${i}`;
        expect(view.length).toBe(3 * TILE * TILE);
        expectClose(`${label} first`, view.subarray(0, 8), want.first, TOL.pixel);
        expectClose(`${label} last`, view.subarray(view.length - 8), want.last, TOL.pixel);
        expectClose(`${label} mean, std`, [got.mean, got.std], [want.mean, want.std], TOL.meanStd);
        expect(Math.abs(got.sum - want.sum), `${label} sum ${got.sum} want ${want.sum}`).toBeLessThanOrEqual(TOL.sum);
        const cs = checksum(view);
        expect(Math.abs(cs - want.checksum), `${label} checksum ${cs} want ${want.checksum}`).toBeLessThanOrEqual(TOL.sum);
      });
    });
  }
});

/** The fixture's features: ((31v + 7t + 3d) % 17 - 8) / 8 for view v, token t, channel d; exact in f32. */
function patternViews(count: number, tokens: number, channels: number): Float32Array[] {
  return Array.from({ length: count }, (_, v) => Float32Array.from({ length: tokens * channels }, (_, i) => {
    const t = Math.floor(i / channels);
    const d = i % channels;
    return (((v * 31 + t * 7 + d * 3) % 17) - 8) / 8;
  }));
}

describe('packFeatures against pack_features', () => {
  for (const p of FIXTURE.packs) {
    it(`${p.height}x${p.width}, ${p.patchesPerSide}x${p.patchesPerSide} tokens per view, ${p.channels} channels`, () => {
      const size: Size = [p.height, p.width];
      const { rows, cols } = gridShape(p.height, p.width, PINPOINTS, TILE);
      const side = p.patchesPerSide;
      const views = patternViews(1 + rows * cols, side * side, p.channels);
      const newline = Float32Array.from({ length: p.channels }, (_, d) => 2 + d / 4);
      const { tokens, data } = packFeatures(views, size, PINPOINTS, TILE, side, newline);
      expect([tokens, data.length / tokens]).toEqual(p.shape);
      expect(imageTokenCount(size, PINPOINTS, TILE, side)).toBe(tokens);
      // Packing only moves exact values (multiples of 1/8 and 1/4), so everything matches exactly.
      let sum = 0;
      for (const v of data) sum += v;
      expect(sum).toBe(p.sum);
      expect(checksum(data)).toBe(p.checksum);
      for (const [row, want] of Object.entries(p.rows)) {
        const r = Number(row);
        expect(Array.from(data.subarray(r * p.channels, (r + 1) * p.channels)), `token ${r}`).toEqual(want);
      }
      const newlines: number[] = [];
      for (let r = 0; r < tokens; r++) {
        if (data.subarray(r * p.channels, (r + 1) * p.channels).every((v, d) => v === newline[d])) newlines.push(r);
      }
      expect(newlines).toEqual(p.newlineRows);
    });
  }

  it('rejects a view count or view size that does not fit the grid', () => {
    const newline = new Float32Array(2);
    expect(() => packFeatures(patternViews(4, 4, 2), [256, 192], PINPOINTS, TILE, 2, newline)).toThrow(/5 views, got 4/);
    expect(() => packFeatures(patternViews(5, 9, 2), [256, 192], PINPOINTS, TILE, 2, newline)).toThrow(/not 2\^2 tokens/);
  });
});

describe('selectBestResolution', () => {
  const P = PINPOINTS;
  // Expected values checked against tools/train/anyres.py.
  const ROWS: { name: string; size: Size; pinpoints: Size[]; want: Size }[] = [
    { name: 'exact fit of a square pinpoint', size: [128, 128], pinpoints: P, want: [128, 128] },
    { name: 'exact fit of a wide pinpoint', size: [64, 192], pinpoints: P, want: [64, 192] },
    { name: 'half an exact fit: every pinpoint keeps it all, so the least waste wins', size: [32, 96], pinpoints: P, want: [64, 128] },
    { name: 'equal effective and waste: the earlier pinpoint', size: [40, 50], pinpoints: P, want: [64, 128] },
    { name: 'equal effective: the smaller waste, though listed later', size: [40, 50], pinpoints: [[128, 128], [64, 128]], want: [64, 128] },
    { name: 'one pixel: every pinpoint keeps it, least waste wins', size: [1, 1], pinpoints: P, want: [64, 128] },
    { name: 'keeps no pixel anywhere: the first pinpoint, as HF', size: [1, 10000], pinpoints: P, want: [64, 128] },
    { name: 'huge square: the most pixels', size: [10000, 10000], pinpoints: P, want: [128, 128] },
    { name: 'huge wide', size: [1000, 3000], pinpoints: P, want: [64, 192] },
    { name: 'huge tall', size: [3000, 1000], pinpoints: P, want: [192, 64] },
    { name: '300 * 0.64 = 192.00000000000003 truncates to 192', size: [100, 300], pinpoints: P, want: [64, 192] },
    { name: 'just over a pinpoint', size: [65, 129], pinpoints: P, want: [128, 128] },
    { name: 'tall document', size: [256, 192], pinpoints: P, want: [128, 128] },
    { name: 'single pinpoint', size: [5, 7], pinpoints: [[64, 64]], want: [64, 64] },
  ];
  for (const row of ROWS) {
    it(row.name, () => {
      expect(selectBestResolution(row.size, row.pinpoints)).toEqual(row.want);
    });
  }

  it('needs at least one pinpoint', () => {
    expect(() => selectBestResolution([10, 10], [])).toThrow(/at least one grid pinpoint/);
  });
});

describe('patchOutputSize and unpadShape', () => {
  it('clamps the ceil of a product that overshoots in floating point', () => {
    expect(patchOutputSize([100, 300], [64, 192])).toEqual([64, 192]);
  });

  it('cuts the padding symmetrically, keeping one extra row for an odd remainder', () => {
    // 128x160 on a 12x12 grid covers int(9.6) = 9 rows; (12 - 9) // 2 = 1 per side leaves 10.
    expect(unpadShape(12, 12, [128, 160])).toEqual({ top: 1, left: 0, height: 10, width: 12 });
    expect(unpadShape(10, 10, [256, 192])).toEqual({ top: 0, left: 1, height: 10, width: 8 });
  });

  it('rounds to 7 decimals before truncating, as HF', () => {
    // 11 * (15 / 11) is 14.999999999999998: without the rounding it would cut one column per side.
    expect(unpadShape(16, 15, [11, 11])).toEqual({ top: 0, left: 0, height: 16, width: 15 });
  });
});

describe('resizeChw', () => {
  it('keeps a constant image constant at any scale (weights renormalised at the edges)', () => {
    const src = new Float32Array(3 * 7 * 5).fill(0.25);
    for (const [h, w] of [[1, 1], [3, 2], [7, 5], [16, 11], [64, 3]] as const) {
      const out = resizeChw(src, 7, 5, h, w);
      expectClose(`constant to ${h}x${w}`, out, new Float32Array(3 * h * w).fill(0.25), 1e-7);
    }
  });

  it('returns a copy at the same size', () => {
    const src = patternImage(4, 6);
    const out = resizeChw(src, 4, 6, 4, 6);
    expect(out).not.toBe(src);
    expect(Array.from(out)).toEqual(Array.from(src));
  });
});
