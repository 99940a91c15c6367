import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { rmsNorm, rmsNormBackward, rmsNormWeightGrad, type RmsNormParams } from '../../src/webgpu/kernels/rms-norm';
import { rmsNormBackwardRef, rmsNormRef } from '../../src/webgpu/reference/rms-norm';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectGradientsMatch } from '../helpers/grad-check';
import { expectClose, poisoned, runKernel } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

// 1-sized, non-multiples of 4, exactly one workgroup (64) and past it (130).
const COLS = [1, 3, 7, 64, 130];
const ROWS = [1, 5];
const EPS = 1e-5;

function inputs(rows: number, cols: number, seed: number) {
  const rng = new Rng(seed);
  return {
    x: rng.floats(rows * cols, -2, 2),
    weight: rng.floats(cols, -1.5, 1.5),
    dy: rng.floats(rows * cols, -1, 1),
  };
}

/** Runs the dx pass and the dweight pass in one step, as training does. */
async function runBackward(p: RmsNormParams, x: Float32Array, weight: Float32Array, dy: Float32Array) {
  const tx = rt.upload(x, [p.rows, p.cols], 'test.x');
  const tw = rt.upload(weight, [p.cols], 'test.weight');
  const tdy = rt.upload(dy, [p.rows, p.cols], 'test.dy');
  const dx = poisoned(rt, [p.rows, p.cols], 'test.dx');
  const rstd = poisoned(rt, [p.rows], 'test.rstd');
  const dweight = poisoned(rt, [p.cols], 'test.dweight');
  rt.run(rmsNormBackward, [tx, tw, tdy], [dx, rstd], p);
  rt.run(rmsNormWeightGrad, [tx, tdy, rstd], [dweight], p);
  const got = { dx: await rt.readF32(dx), dweight: await rt.readF32(dweight) };
  for (const t of [tx, tw, tdy, dx, rstd, dweight]) rt.release(t);
  return got;
}

describe('rms-norm reference', () => {
  it('backward matches finite differences of the forward', () => {
    const rows = 3;
    const cols = 7;
    const { x, weight, dy } = inputs(rows, cols, 11);
    const grads = rmsNormBackwardRef(x, weight, dy, rows, cols, EPS);
    expectGradientsMatch(
      ([xs, ws]) => rmsNormRef(xs as Float64Array, ws as Float64Array, rows, cols, EPS),
      [Float64Array.from(x), Float64Array.from(weight)],
      dy,
      { 0: grads.dx, 1: grads.dweight },
      'rms-norm',
    );
  });
});

describe('rms-norm kernel', () => {
  for (const rows of ROWS) {
    for (const cols of COLS) {
      const p: RmsNormParams = { rows, cols, eps: EPS };
      it(`forward N=${rows} C=${cols} matches the reference`, async () => {
        const { x, weight } = inputs(rows, cols, 100 * rows + cols);
        const [y] = await runKernel(rt, rmsNorm, [{ data: x, shape: [rows, cols] }, { data: weight, shape: [cols] }], [{ shape: [rows, cols] }], p);
        expectClose(y as Float32Array, rmsNormRef(x, weight, rows, cols, EPS), TOLERANCE.f32Reduction, `y N=${rows} C=${cols}`);
      });

      it(`backward N=${rows} C=${cols} matches the reference`, async () => {
        const { x, weight, dy } = inputs(rows, cols, 200 * rows + cols);
        const got = await runBackward(p, x, weight, dy);
        const want = rmsNormBackwardRef(x, weight, dy, rows, cols, EPS);
        expectClose(got.dx, want.dx, TOLERANCE.f32Reduction, `dx N=${rows} C=${cols}`);
        expectClose(got.dweight, want.dweight, TOLERANCE.f32Reduction, `dweight N=${rows} C=${cols}`);
      });
    }
  }

  it('folds more rows than one dispatch dimension allows into y', async () => {
    const p: RmsNormParams = { rows: 65_537, cols: 2, eps: EPS };
    const { x, weight } = inputs(p.rows, p.cols, 5);
    const [y] = await runKernel(rt, rmsNorm, [{ data: x, shape: [p.rows, p.cols] }, { data: weight, shape: [p.cols] }], [{ shape: [p.rows, p.cols] }], p);
    expectClose(y as Float32Array, rmsNormRef(x, weight, p.rows, p.cols, EPS), TOLERANCE.f32Reduction, 'y N=65537');
  });

  it('rejects a wrong shape or dtype before dispatch, naming the kernel and shapes', () => {
    const p: RmsNormParams = { rows: 2, cols: 4, eps: EPS };
    const x = rt.empty([2, 4], 'f32', 'x');
    const badWeight = rt.empty([5], 'f32', 'weight');
    const y = rt.empty([2, 4], 'f32', 'y');
    expect(() => rt.run(rmsNorm, [x, badWeight], [y], p)).toThrow(KernelInputError);
    expect(() => rt.run(rmsNorm, [x, badWeight], [y], p)).toThrow(/rms-norm.*weight.*\[2,4\] \[5\] \[2,4\]/);
    const intX = rt.upload(new Int32Array(8), [2, 4], 'x');
    const w = rt.empty([4], 'f32', 'weight');
    const dy = rt.empty([2, 4], 'f32', 'dy');
    const rstd = rt.empty([2], 'f32', 'rstd');
    expect(() => rt.run(rmsNormWeightGrad, [intX, dy, rstd], [w], p)).toThrow(/rms-norm-weight-grad: x must be f32, got dtype i32/);
    expect(() => rt.run(rmsNormBackward, [x, w, dy], [y], p)).toThrow(/rms-norm-backward: expects 3 inputs and 2 outputs/);
  });
});
