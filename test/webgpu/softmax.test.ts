import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { softmax, softmaxBackward, type SoftmaxParams } from '../../src/webgpu/kernels/softmax';
import { softmaxBackwardRef, softmaxRef } from '../../src/webgpu/reference/softmax';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectGradientsMatch } from '../helpers/grad-check';
import { expectClose, runKernel } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

// 1-sized, non-multiples of 4, exactly one workgroup (64) and past it (130).
const COLS = [1, 3, 7, 64, 130];
const ROWS = [1, 5];

async function forward(p: SoftmaxParams, x: Float32Array): Promise<Float32Array> {
  const [y] = await runKernel(rt, softmax, [{ data: x, shape: [p.rows, p.cols] }], [{ shape: [p.rows, p.cols] }], p);
  return y as Float32Array;
}

async function backward(p: SoftmaxParams, y: Float32Array, dy: Float32Array): Promise<Float32Array> {
  const shape = [p.rows, p.cols];
  const [dx] = await runKernel(rt, softmaxBackward, [{ data: y, shape }, { data: dy, shape }], [{ shape }], p);
  return dx as Float32Array;
}

/** Forward, then backward from the kernel's own y, both against the reference. */
async function checkBoth(p: SoftmaxParams, x: Float32Array, dy: Float32Array, label: string): Promise<void> {
  const want = softmaxRef(x, p.rows, p.cols);
  const y = await forward(p, x);
  expectClose(y, want, TOLERANCE.f32Reduction, `y ${label}`);
  const dx = await backward(p, y, dy);
  expectClose(dx, softmaxBackwardRef(y, dy, p.rows, p.cols), TOLERANCE.f32Reduction, `dx ${label}`);
}

describe('softmax reference', () => {
  it('backward matches finite differences of the forward', () => {
    const [rows, cols] = [3, 7];
    const rng = new Rng(21);
    const x = rng.floats(rows * cols, -3, 3);
    const dy = rng.floats(rows * cols, -1, 1);
    const dx = softmaxBackwardRef(softmaxRef(x, rows, cols), dy, rows, cols);
    expectGradientsMatch(([xs]) => softmaxRef(xs as Float64Array, rows, cols), [Float64Array.from(x)], dy, { 0: dx }, 'softmax');
  });
});

describe('softmax kernel', () => {
  for (const rows of ROWS) {
    for (const cols of COLS) {
      it(`N=${rows} C=${cols} forward and backward match the reference`, async () => {
        const rng = new Rng(100 * rows + cols);
        await checkBoth({ rows, cols }, rng.floats(rows * cols, -4, 4), rng.floats(rows * cols, -1, 1), `N=${rows} C=${cols}`);
      });
    }
  }

  it('loops over a vocabulary-sized row (C = 32000)', async () => {
    const p = { rows: 2, cols: 32_000 };
    const rng = new Rng(32);
    const x = rng.floats(p.rows * p.cols, -20, 20);
    await checkBoth(p, x, rng.floats(p.rows * p.cols, -1, 1), 'C=32000');
    // Probabilities here are ~1e-4 or far less, below what an absolute bound
    // sees; a wrong row sum would move every ratio.
    const want = softmaxRef(x, p.rows, p.cols);
    const ratioLessOne = Float64Array.from(await forward(p, x), (g, i) => g / (want[i] as number) - 1);
    expectClose(ratioLessOne, new Float64Array(want.length), TOLERANCE.f32Reduction, 'y / want - 1, C=32000');
  });

  it('subtracts the row max, so logits near 1e3 do not overflow exp', async () => {
    const p = { rows: 3, cols: 70 };
    const rng = new Rng(33);
    await checkBoth(p, rng.floats(p.rows * p.cols, 990, 1010), rng.floats(p.rows * p.cols, -1, 1), 'x in [990, 1010)');
  });

  it('gives masked (-inf) entries zero probability', async () => {
    const p = { rows: 4, cols: 9 };
    const rng = new Rng(34);
    const x = rng.floats(p.rows * p.cols, -3, 3);
    // Causal mask: row r sees columns 0..r; the first column of each row is masked too, so a row starts with -inf.
    for (let r = 0; r < p.rows; r++) {
      for (let c = 0; c < p.cols; c++) if (c === 0 || c > r + 1) x[r * p.cols + c] = -Infinity;
    }
    const y = await forward(p, x);
    expectClose(y, softmaxRef(x, p.rows, p.cols), TOLERANCE.f32Reduction, 'masked y');
  });

  it('rejects a wrong shape or dtype before dispatch, naming the kernel and shapes', () => {
    const p = { rows: 2, cols: 4 };
    const x = rt.empty([2, 4], 'f32', 'x');
    const y = rt.empty([4, 2], 'f32', 'y');
    expect(() => rt.run(softmax, [x], [y], p)).toThrow(KernelInputError);
    expect(() => rt.run(softmax, [x], [y], p)).toThrow(/softmax: y must be \[2,4\], got \[4,2\].*\[2,4\] \[4,2\]/);
    const intDy = rt.upload(new Int32Array(8), [2, 4], 'dy');
    expect(() => rt.run(softmaxBackward, [x, intDy], [x], p)).toThrow(/softmax-backward: dy must be f32, got dtype i32/);
  });
});
