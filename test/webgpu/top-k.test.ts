import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { topK, TOP_K_MAX, type TopKParams } from '../../src/webgpu/kernels/top-k';
import { topKRef } from '../../src/webgpu/reference/top-k';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectClose, runKernel } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

async function run(x: Float32Array, p: TopKParams): Promise<{ values: Float32Array; indices: number[] }> {
  const outputs = [{ shape: [p.rows, p.k] }, { shape: [p.rows, p.k], dtype: 'i32' as const }];
  const [values, indices] = await runKernel(rt, topK, [{ data: x, shape: [p.rows, p.vocab] }], outputs, p);
  return { values: values ?? new Float32Array(), indices: Array.from(indices ?? []) };
}

async function expectMatchesReference(x: Float32Array, p: TopKParams, label: string): Promise<void> {
  const got = await run(x, p);
  const want = topKRef(x, p.vocab, p.k);
  // Indices are exact; values are copies of inputs, so they must be too.
  expect(got.indices, `${label} indices`).toEqual(Array.from(want.indices));
  expectClose(got.values, want.values, TOLERANCE.f32Exact, `${label} values`);
}

// k = V = 1; k = V with V not a multiple of 4; V one past a workgroup;
// k = 1; the maximum k with V smaller than the 32 per-invocation lists
// could fill; a Llama-sized vocabulary.
const CASES: TopKParams[] = [
  { rows: 1, vocab: 1, k: 1 },
  { rows: 3, vocab: 7, k: 7 },
  { rows: 2, vocab: 65, k: 5 },
  { rows: 3, vocab: 100, k: 1 },
  { rows: 2, vocab: 70, k: TOP_K_MAX },
  { rows: 4, vocab: 2000, k: TOP_K_MAX },
  { rows: 2, vocab: 32000, k: 50 },
];

describe('top-k kernel', () => {
  for (const p of CASES) {
    const label = `N=${p.rows} V=${p.vocab} k=${p.k}`;
    it(`${label} matches the reference`, async () => {
      const x = new Rng(p.rows * 1000 + p.vocab + p.k).floats(p.rows * p.vocab, -5, 5);
      await expectMatchesReference(x, p, label);
    });
  }

  it('orders ties by lower index first, across invocations and merges', async () => {
    const p = { rows: 4, vocab: 500, k: 40 };
    const rng = new Rng(23);
    // Three levels only: the top 40 are all ties among many equal values.
    const x = Float32Array.from({ length: p.rows * p.vocab }, () => rng.int(1, 3) + 0.25);
    x.fill(-Infinity, 2 * p.vocab, 3 * p.vocab);
    const want = topKRef(x, p.vocab, p.k);
    expect(Array.from(want.indices.subarray(2 * p.k, 2 * p.k + 4))).toEqual([0, 1, 2, 3]);
    const got = await run(x, p);
    expect(got.indices).toEqual(Array.from(want.indices));
    // Exact comparison: the worst-element measure is NaN for -inf against -inf.
    expect(Array.from(got.values)).toEqual(Array.from(want.values));
  });

  it('reference ranks by value descending, then index', () => {
    const { values, indices } = topKRef([1, 3, 2, 3, -1], 5, 4);
    expect(Array.from(indices)).toEqual([1, 3, 2, 0]);
    expect(Array.from(values)).toEqual([3, 3, 2, 1]);
  });

  it('rejects a wrong k, shape or dtype before dispatch, naming the kernel and shapes', () => {
    const x = rt.empty([2, 10], 'f32', 'x');
    const values = rt.empty([2, 3], 'f32', 'values');
    const indices = rt.empty([2, 3], 'i32', 'indices');
    const p = { rows: 2, vocab: 10, k: 3 };
    expect(() => rt.run(topK, [x], [values, values], p)).toThrow(KernelInputError);
    const named = /top-k: indices must be i32, got dtype f32.*\[2,10\] \[2,3\] \[2,3\]/;
    expect(() => rt.run(topK, [x], [values, values], p)).toThrow(named);
    const badK = /top-k: k 11 must be in \[1, min\(64, V = 10\)\]/;
    expect(() => rt.run(topK, [x], [values, indices], { ...p, k: 11 })).toThrow(badK);
    expect(() => rt.run(topK, [x], [values, indices], { ...p, vocab: 9 })).toThrow(/top-k: x must be \[2,9\], got \[2,10\]/);
  });
});
