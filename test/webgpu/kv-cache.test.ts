import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { attention, type AttentionVariant } from '../../src/webgpu/kernels/attention';
import { KvCache } from '../../src/webgpu/kv-cache';
import { attentionRef } from '../../src/webgpu/reference/attention';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { testRuntime } from '../helpers/gpu';
import { expectClose } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

const ATTN_F32 = 2e-5;
const B = 1;
const H = 4;
const HKV = 2;
const D = 16;
const T = 9;
const CAP = 12;

describe('KV cache and decode over it', () => {
  for (const variant of ['split', 'rows', 'block4'] as AttentionVariant[]) {
    it(`prefill then token-by-token decode (${variant}) equals full causal recompute`, async () => {
      const rng = new Rng(77);
      const q = rng.floats(B * T * H * D);
      const k = rng.floats(B * T * HKV * D);
      const v = rng.floats(B * T * HKV * D);
      const full = attentionRef(q, k, v, null, {
        batch: B, tLen: T, sLen: T, sCap: T, heads: H, kvHeads: HKV, headDim: D, qOffset: 0, causal: true, scale: 1 / Math.sqrt(D),
      });
      const cache = new KvCache(rt, { layers: 2, batch: B, capacity: CAP, kvHeads: HKV, headDim: D });
      const mask = rt.upload(new Int32Array([1]), [1], 'mask');
      const prefill = 5;
      const rowsOf = (x: Float32Array, from: number, n: number, width: number) => x.slice(from * width, (from + n) * width);
      const got = new Float32Array(B * T * H * D).fill(Number.NaN);
      for (let start = 0; start < T; ) {
        const n = start === 0 ? prefill : 1;
        const kt = rt.upload(rowsOf(k, start, n, HKV * D), [B, n, HKV, D], 'k.new');
        const vt = rt.upload(rowsOf(v, start, n, HKV * D), [B, n, HKV, D], 'v.new');
        const qt = rt.upload(rowsOf(q, start, n, H * D), [B, n, H, D], 'q.new');
        // Layer 1 holds the same rows: appending to one layer must not disturb another.
        cache.append(0, kt, vt, n);
        cache.append(1, kt, vt, n);
        cache.advance(n);
        const o = rt.empty([B, n, H, D], 'f32', 'o');
        const [k1, v1] = [cache.keys[1], cache.values[1]];
        if (!k1 || !v1) throw new Error('cache has no layer 1');
        rt.run(attention, [qt, k1, v1, mask], [o], {
          batch: B, tLen: n, sLen: cache.length, sCap: CAP, heads: H, kvHeads: HKV, headDim: D, causal: true, hasMask: false, variant,
        });
        got.set(await rt.readF32(o), start * H * D);
        for (const t of [kt, vt, qt, o]) rt.release(t);
        start += n;
      }
      expectClose(got, full, ATTN_F32, `decode over cache (${variant})`);
      expect(cache.length).toBe(T);
      cache.release();
    });
  }

  it('refuses rows past the capacity, naming the context size, and can truncate', () => {
    const cache = new KvCache(rt, { layers: 1, batch: 1, capacity: 4, kvHeads: 1, headDim: 2 });
    const rows = rt.empty([1, 3, 1, 2], 'f32', 'rows');
    cache.append(0, rows, rows, 3);
    cache.advance(3);
    expect(() => cache.append(0, rows, rows, 3)).toThrow(KernelInputError);
    expect(() => cache.append(0, rows, rows, 3)).toThrow(/3 of 4 positions/);
    cache.truncate(1);
    expect(cache.remaining).toBe(3);
    expect(() => cache.append(0, rows, rows, 3)).not.toThrow();
    cache.release();
  });
});
