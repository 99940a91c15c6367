import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import {
  dequantize,
  quantErrorBound,
  quantize,
  quantizedValue,
  quantLayoutProblem,
  quantMax,
  quantMatmulErrorBound,
  QuantizationError,
  type QuantBits,
} from '../../src/webgpu/quant';

const BITS: QuantBits[] = [8, 4];

describe('per-group symmetric quantization', () => {
  for (const bits of BITS) {
    for (const [n, k, group] of [
      [1, 32, 32],
      [7, 96, 32],
      [5, 128, 64],
      [3, 256, 128],
      [4, 120, 40],
    ] as const) {
      it(`int${bits} [${n},${k}] group ${group}: every element within scale/2 of the original`, () => {
        const rng = new Rng(bits * 1000 + n * 31 + k);
        // Spread magnitudes over groups so scales differ by orders of magnitude.
        const w = rng.floats(n * k, -1, 1).map((v, i) => v * 10 ** ((i % 7) - 3));
        const q = quantize(w, n, k, bits, group);
        const deq = dequantize(q);
        const bound = quantErrorBound(q);
        let worst = 0;
        for (let i = 0; i < w.length; i++) {
          const err = Math.abs((w[i] as number) - (deq[i] as number));
          worst = Math.max(worst, err / (bound[i] as number));
          expect(err, `element ${i}: w=${w[i]} deq=${deq[i]}`).toBeLessThanOrEqual(bound[i] as number);
        }
        // The bound is tight: rounding to a grid of step `scale` uses most of it.
        expect(worst).toBeGreaterThan(0.5);
      });
    }

    it(`int${bits} packs little end first and sign-extends`, () => {
      const k = 32;
      const qmax = quantMax(bits);
      // Weights equal to integer multiples of the scale quantize exactly.
      const ints = Array.from({ length: k }, (_, i) => ((i * 5) % (2 * qmax + 1)) - qmax);
      ints[3] = qmax;
      const w = Float32Array.from(ints, (v) => v * 0.25);
      const q = quantize(w, 1, k, bits, 32);
      expect(q.scales[0]).toBe(0.25);
      for (let c = 0; c < k; c++) expect(quantizedValue(q, 0, c)).toBe(ints[c]);
      expect(q.packed.length).toBe((k * bits) / 32);
      const low = (q.packed[0] as number) & ((1 << bits) - 1);
      expect(low).toBe((ints[0] as number) & ((1 << bits) - 1));
      expect(Array.from(dequantize(q))).toEqual(Array.from(w));
    });

    it(`int${bits} quantizes an all-zero group to zero scale and exact zeros`, () => {
      const w = new Float32Array(64);
      w.fill(0.5, 32);
      const q = quantize(w, 1, 64, bits, 32);
      expect(q.scales[0]).toBe(0);
      expect(Array.from(dequantize(q).subarray(0, 32))).toEqual(new Array(32).fill(0));
    });
  }

  it('propagates the element bound through K for X W^T', () => {
    const rng = new Rng(5);
    const [rows, n, k] = [3, 4, 64];
    const w = rng.floats(n * k);
    const x = rng.floats(rows * k);
    const q = quantize(w, n, k, 4, 32);
    const deq = dequantize(q);
    const bound = quantMatmulErrorBound(x, rows, q);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < n; c++) {
        let exact = 0;
        let approx = 0;
        for (let i = 0; i < k; i++) {
          exact += (x[r * k + i] as number) * (w[c * k + i] as number);
          approx += (x[r * k + i] as number) * (deq[c * k + i] as number);
        }
        expect(Math.abs(exact - approx)).toBeLessThanOrEqual(bound[r * n + c] as number);
      }
    }
  });

  it('rejects a group size that does not divide K, naming both', () => {
    const w = new Float32Array(2 * 100).fill(1);
    expect(() => quantize(w, 2, 100, 8, 64)).toThrow(QuantizationError);
    expect(() => quantize(w, 2, 100, 8, 64)).toThrow(/group size 64 does not divide K=100/);
  });

  it('rejects group sizes outside [32, 128] or not a multiple of 8', () => {
    expect(quantLayoutProblem(64, 16, 8)).toMatch(/group size 16/);
    expect(quantLayoutProblem(256, 256, 4)).toMatch(/group size 256/);
    expect(quantLayoutProblem(36, 36, 4)).toMatch(/multiple of 8/);
    expect(quantLayoutProblem(64, 32, 3)).toMatch(/bits/);
    expect(quantLayoutProblem(96, 48, 4)).toBeNull();
  });

  it('rejects non-finite weights and a wrong element count', () => {
    const w = new Float32Array(32).fill(1);
    w[7] = Number.NaN;
    expect(() => quantize(w, 1, 32, 8, 32)).toThrow(/weight 7 is NaN/);
    expect(() => quantize(new Float32Array(31), 1, 32, 8, 32)).toThrow(/31 weights/);
  });
});
