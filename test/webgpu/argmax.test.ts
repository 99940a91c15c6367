import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { argmax } from '../../src/webgpu/kernels/argmax';
import { argmaxRef } from '../../src/webgpu/reference/argmax';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { testRuntime } from '../helpers/gpu';
import { runKernel } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

async function run(x: Float32Array, rows: number, vocab: number): Promise<number[]> {
  const outputs = [{ shape: [rows], dtype: 'i32' as const }];
  const [out] = await runKernel(rt, argmax, [{ data: x, shape: [rows, vocab] }], outputs, { rows, vocab });
  return Array.from(out ?? []);
}

// 1-sized, non-multiple-of-4, one past the workgroup width, a small vocabulary
// and one Llama-sized vocabulary.
const CASES: [number, number][] = [
  [1, 1],
  [3, 7],
  [5, 65],
  [4, 2000],
  [2, 32000],
];

describe('argmax kernel', () => {
  for (const [n, v] of CASES) {
    it(`N=${n} V=${v} matches the reference`, async () => {
      const x = new Rng(n * 1000 + v).floats(n * v, -5, 5);
      // Indices are exact: any mismatch is a wrong answer, not rounding.
      expect(await run(x, n, v)).toEqual(Array.from(argmaxRef(x, v)));
    });
  }

  it('breaks ties toward the lowest index, like torch.argmax', async () => {
    const [n, v] = [6, 300];
    const rng = new Rng(17);
    // Four levels only, so every row's maximum repeats many times across invocations.
    const x = Float32Array.from({ length: n * v }, () => rng.int(1, 4) + 0.5);
    // Row 1: one maximum at the very end; row 2: every value equal; row 3: all -inf.
    x.fill(1.5, v, 2 * v);
    x[2 * v - 1] = 9;
    x.fill(2.5, 2 * v, 3 * v);
    x.fill(-Infinity, 3 * v, 4 * v);
    const want = argmaxRef(x, v);
    expect([want[1], want[2], want[3]]).toEqual([v - 1, 0, 0]);
    expect(await run(x, n, v)).toEqual(Array.from(want));
  });

  it('rejects a wrong shape or dtype before dispatch, naming the kernel and shapes', () => {
    const x = rt.empty([2, 9], 'f32', 'x');
    const out = rt.empty([2], 'i32', 'out');
    const floatOut = rt.empty([2], 'f32', 'out.f32');
    expect(() => rt.run(argmax, [x], [out], { rows: 2, vocab: 8 })).toThrow(KernelInputError);
    const named = /argmax: x must be \[2,8\], got \[2,9\].*\[2,9\] \[2\]/;
    expect(() => rt.run(argmax, [x], [out], { rows: 2, vocab: 8 })).toThrow(named);
    expect(() => rt.run(argmax, [x], [floatOut], { rows: 2, vocab: 9 })).toThrow(/argmax: out must be i32, got dtype f32/);
  });
});
