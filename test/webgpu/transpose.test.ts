import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { swapped, transpose } from '../../src/webgpu/kernels/transpose';
import { transposeRef } from '../../src/webgpu/reference/transpose';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { numel } from '../../src/webgpu/tensor';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectClose, runKernel } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

type Shape4 = [number, number, number, number];

// All-ones, non-multiple-of-4 everywhere, 1-sized outer and inner axes,
// an attention-like [B, T, H, D], and a 2-D transpose written as (1, T, C, 1).
const SHAPES: Shape4[] = [
  [1, 1, 1, 1],
  [2, 3, 5, 7],
  [1, 9, 3, 1],
  [3, 1, 6, 2],
  [2, 65, 4, 16],
  [1, 37, 130, 1],
];

async function run(x: Float32Array, shape: Shape4): Promise<Float32Array> {
  const [out] = await runKernel(rt, transpose, [{ data: x, shape }], [{ shape: swapped(shape) }], { shape });
  return out ?? new Float32Array();
}

describe('transpose kernel (swap axes 1 and 2)', () => {
  for (const shape of SHAPES) {
    it(`[${shape.join(',')}] matches the reference and round-trips`, async () => {
      const x = new Rng(numel(shape) + shape[1]).floats(numel(shape), -3, 3);
      const out = await run(x, shape);
      // A pure copy: every element must come through bit for bit.
      expectClose(out, transposeRef(x, shape), TOLERANCE.f32Exact, `[${shape.join(',')}]`);
      const back = await run(out, swapped(shape));
      expect(Array.from(back)).toEqual(Array.from(x));
    });
  }

  it('reference moves element (a, b, c, d) to (a, c, b, d)', () => {
    const shape: Shape4 = [2, 3, 4, 5];
    const x = Float64Array.from({ length: numel(shape) }, (_, i) => i);
    const out = transposeRef(x, shape);
    const [a, b, c, d] = [1, 2, 3, 4];
    expect(out[((a * 4 + c) * 3 + b) * 5 + d]).toBe(((a * 3 + b) * 4 + c) * 5 + d);
  });

  it('rejects a wrong shape or dtype before dispatch, naming the kernel and shapes', () => {
    const shape: Shape4 = [2, 3, 4, 5];
    const x = rt.empty(shape, 'f32', 'x');
    const sameShapeOut = rt.empty(shape, 'f32', 'out.unswapped');
    const intX = rt.empty(shape, 'i32', 'x.i32');
    const out = rt.empty(swapped(shape), 'f32', 'out');
    expect(() => rt.run(transpose, [x], [sameShapeOut], { shape })).toThrow(KernelInputError);
    const named = /transpose: out must be \[2,4,3,5\].*\[2,3,4,5\] \[2,3,4,5\]/;
    expect(() => rt.run(transpose, [x], [sameShapeOut], { shape })).toThrow(named);
    expect(() => rt.run(transpose, [intX], [out], { shape })).toThrow(/transpose: x must be f32, got dtype i32/);
  });
});
