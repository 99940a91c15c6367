import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { avgPool } from '../../src/webgpu/kernels/avg-pool';
import { avgPoolRef } from '../../src/webgpu/reference/avg-pool';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectClose, runKernel } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

describe('avg-pool kernel', () => {
  for (const [batch, gridH, gridW, channels, k] of [
    [1, 1, 1, 1, 1],
    [1, 8, 8, 3, 2],
    [2, 6, 9, 5, 3],
    [1, 8, 8, 130, 4],
  ] as const) {
    it(`[${batch},${gridH},${gridW},${channels}] k=${k}`, async () => {
      const x = new Rng(gridH * 10 + channels).floats(batch * gridH * gridW * channels);
      const p = { batch, gridH, gridW, channels, k };
      const [got] = await runKernel(rt, avgPool, [{ data: x, shape: [batch, gridH, gridW, channels] }], [{ shape: [batch, gridH / k, gridW / k, channels] }], p);
      // A mean of k^2 f32 values: one rounding per add.
      expectClose(got as Float32Array, avgPoolRef(x, batch, gridH, gridW, channels, k), TOLERANCE.f32Reduction, `avg-pool k=${k}`);
    });
  }

  it('refuses a grid that k does not divide', () => {
    const x = rt.empty([1, 5, 4, 2], 'f32', 'x');
    const out = rt.empty([1, 2, 2, 2], 'f32', 'out');
    expect(() => rt.run(avgPool, [x], [out], { batch: 1, gridH: 5, gridW: 4, channels: 2, k: 2 })).toThrow(KernelInputError);
  });
});
