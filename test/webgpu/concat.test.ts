import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { concat, concatShape, type ConcatParams } from '../../src/webgpu/kernels/concat';
import { concatRef } from '../../src/webgpu/reference/concat';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { numel } from '../../src/webgpu/tensor';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectClose, runKernel } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

const CASES: [string, ConcatParams][] = [
  ['rows, all 1-sized', { shapeA: [1, 1], shapeB: [1, 1], axis: 0 }],
  ['rows', { shapeA: [3, 7], shapeB: [5, 7], axis: 0 }],
  ['rows, wide', { shapeA: [1, 130], shapeB: [66, 130], axis: 0 }],
  ['last axis, all 1-sized', { shapeA: [1, 1], shapeB: [1, 1], axis: 1 }],
  ['last axis', { shapeA: [4, 3], shapeB: [4, 5], axis: -1 }],
  ['last axis, many rows', { shapeA: [67, 1], shapeB: [67, 65], axis: 1 }],
  ['batched sequences', { shapeA: [2, 3, 6], shapeB: [2, 5, 6], axis: 1 }],
];

describe('concat kernel', () => {
  for (const [label, p] of CASES) {
    it(`${label}: [${p.shapeA.join(',')}] + [${p.shapeB.join(',')}] on axis ${p.axis}`, async () => {
      const rng = new Rng(numel(p.shapeA) * 31 + numel(p.shapeB));
      const a = rng.floats(numel(p.shapeA), -3, 3);
      const b = rng.floats(numel(p.shapeB), 5, 9);
      const inputs = [
        { data: a, shape: p.shapeA },
        { data: b, shape: p.shapeB },
      ];
      const [out] = await runKernel(rt, concat, inputs, [{ shape: concatShape(p) }], p);
      // A pure copy: every element must come through bit for bit.
      expectClose(out ?? [], concatRef(a, p.shapeA, b, p.shapeB, p.axis), TOLERANCE.f32Exact, label);
    });
  }

  it('reference joins rows and columns the way they read', () => {
    expect(Array.from(concatRef([1, 2, 3, 4], [2, 2], [5, 6], [1, 2], 0))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(concatRef([1, 2, 3, 4], [2, 2], [5, 6], [2, 1], 1))).toEqual([1, 2, 5, 3, 4, 6]);
  });

  it('rejects mismatched operands before dispatch, naming the kernel and shapes', () => {
    const a = rt.empty([3, 4], 'f32', 'a');
    const b = rt.empty([2, 4], 'f32', 'b');
    const out = rt.empty([5, 4], 'f32', 'out');
    const rowsP = { shapeA: [3, 4], shapeB: [2, 4], axis: 0 };
    expect(() => rt.run(concat, [a, b], [out], { ...rowsP, axis: 1 })).toThrow(KernelInputError);
    const named = /concat: operands must match on every axis but 1.*\[3,4\] \[2,4\] \[5,4\]/;
    expect(() => rt.run(concat, [a, b], [out], { ...rowsP, axis: 1 })).toThrow(named);
    expect(() => rt.run(concat, [a, b], [out], { ...rowsP, axis: 2 })).toThrow(/concat: axis 2 is outside rank 2/);
    const wrongOut = rt.empty([6, 4], 'f32', 'out.wrong');
    expect(() => rt.run(concat, [a, b], [wrongOut], rowsP)).toThrow(/concat: out must be \[5,4\], got \[6,4\]/);
    const intB = rt.empty([2, 4], 'i32', 'b.i32');
    expect(() => rt.run(concat, [a, intB], [out], rowsP)).toThrow(/concat: b must be f32, got dtype i32/);
  });
});
