import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { layerNorm, layerNormBackward, layerNormParamGrad, type LayerNormParams } from '../../src/webgpu/kernels/layer-norm';
import { layerNormBackwardRef, layerNormRef } from '../../src/webgpu/reference/layer-norm';
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

function inputs(rows: number, cols: number, seed: number, offset = 0) {
  const rng = new Rng(seed);
  const x = rng.floats(rows * cols, -2, 2).map((v) => v + offset);
  return { x, weight: rng.floats(cols, -1.5, 1.5), bias: rng.floats(cols, -0.5, 0.5), dy: rng.floats(rows * cols, -1, 1) };
}

async function runForward(p: LayerNormParams, x: Float32Array, weight: Float32Array, bias: Float32Array): Promise<Float32Array> {
  const [y] = await runKernel(
    rt,
    layerNorm,
    [
      { data: x, shape: [p.rows, p.cols] },
      { data: weight, shape: [p.cols] },
      { data: bias, shape: [p.cols] },
    ],
    [{ shape: [p.rows, p.cols] }],
    p,
  );
  return y as Float32Array;
}

/** Runs the dx pass and the parameter pass in one step, as training does. */
async function runBackward(p: LayerNormParams, x: Float32Array, weight: Float32Array, dy: Float32Array) {
  const tx = rt.upload(x, [p.rows, p.cols], 'test.x');
  const tw = rt.upload(weight, [p.cols], 'test.weight');
  const tdy = rt.upload(dy, [p.rows, p.cols], 'test.dy');
  const dx = poisoned(rt, [p.rows, p.cols], 'test.dx');
  const stats = poisoned(rt, [p.rows, 2], 'test.stats');
  const dweight = poisoned(rt, [p.cols], 'test.dweight');
  const dbias = poisoned(rt, [p.cols], 'test.dbias');
  rt.run(layerNormBackward, [tx, tw, tdy], [dx, stats], p);
  rt.run(layerNormParamGrad, [tx, tdy, stats], [dweight, dbias], p);
  const got = { dx: await rt.readF32(dx), dweight: await rt.readF32(dweight), dbias: await rt.readF32(dbias) };
  for (const t of [tx, tw, tdy, dx, stats, dweight, dbias]) rt.release(t);
  return got;
}

describe('layer-norm reference', () => {
  it('backward matches finite differences of the forward', () => {
    const rows = 3;
    const cols = 7;
    const { x, weight, bias, dy } = inputs(rows, cols, 11);
    const grads = layerNormBackwardRef(x, weight, dy, rows, cols, EPS);
    expectGradientsMatch(
      ([xs, ws, bs]) => layerNormRef(xs as Float64Array, ws as Float64Array, bs as Float64Array, rows, cols, EPS),
      [Float64Array.from(x), Float64Array.from(weight), Float64Array.from(bias)],
      dy,
      { 0: grads.dx, 1: grads.dweight, 2: grads.dbias },
      'layer-norm',
    );
  });
});

describe('layer-norm kernel', () => {
  for (const rows of ROWS) {
    for (const cols of COLS) {
      const p: LayerNormParams = { rows, cols, eps: EPS };
      it(`forward N=${rows} C=${cols} matches the reference`, async () => {
        const { x, weight, bias } = inputs(rows, cols, 100 * rows + cols);
        const y = await runForward(p, x, weight, bias);
        expectClose(y, layerNormRef(x, weight, bias, rows, cols, EPS), TOLERANCE.f32Reduction, `y N=${rows} C=${cols}`);
      });

      it(`backward N=${rows} C=${cols} matches the reference`, async () => {
        const { x, weight, dy } = inputs(rows, cols, 200 * rows + cols);
        const got = await runBackward(p, x, weight, dy);
        const want = layerNormBackwardRef(x, weight, dy, rows, cols, EPS);
        expectClose(got.dx, want.dx, TOLERANCE.f32Reduction, `dx N=${rows} C=${cols}`);
        expectClose(got.dweight, want.dweight, TOLERANCE.f32Reduction, `dweight N=${rows} C=${cols}`);
        expectClose(got.dbias, want.dbias, TOLERANCE.f32Reduction, `dbias N=${rows} C=${cols}`);
      });
    }
  }

  // At mean 100 the f32 mean alone is off by up to half an ulp (3.8e-6), which
  // puts the floor near 6e-6; a one-pass E[x^2] - E[x]^2 would be off by ~1e-3.
  it('keeps the variance accurate when the mean dwarfs the spread', async () => {
    const p: LayerNormParams = { rows: 5, cols: 130, eps: EPS };
    const { x, weight, bias, dy } = inputs(p.rows, p.cols, 9, 100);
    expectClose(await runForward(p, x, weight, bias), layerNormRef(x, weight, bias, p.rows, p.cols, EPS), TOLERANCE.f32Reduction, 'y, mean 100');
    const got = await runBackward(p, x, weight, dy);
    expectClose(got.dx, layerNormBackwardRef(x, weight, dy, p.rows, p.cols, EPS).dx, TOLERANCE.f32Reduction, 'dx, mean 100');
  });

  it('rejects a wrong shape or dtype before dispatch, naming the kernel and shapes', () => {
    const p: LayerNormParams = { rows: 2, cols: 4, eps: EPS };
    const x = rt.empty([2, 4], 'f32', 'x');
    const w = rt.empty([4], 'f32', 'weight');
    const badBias = rt.empty([3], 'f32', 'bias');
    const y = rt.empty([2, 4], 'f32', 'y');
    expect(() => rt.run(layerNorm, [x, w, badBias], [y], p)).toThrow(KernelInputError);
    expect(() => rt.run(layerNorm, [x, w, badBias], [y], p)).toThrow(/layer-norm.*bias.*\[2,4\] \[4\] \[3\] \[2,4\]/);
    const intStats = rt.upload(new Int32Array(4), [2, 2], 'stats');
    const dy = rt.empty([2, 4], 'f32', 'dy');
    expect(() => rt.run(layerNormParamGrad, [x, dy, intStats], [w, w], p)).toThrow(/layer-norm-param-grad: stats must be f32, got dtype i32/);
    expect(() => rt.run(layerNormBackward, [x, w, dy], [y], p)).toThrow(/layer-norm-backward: expects 3 inputs and 2 outputs/);
  });
});
