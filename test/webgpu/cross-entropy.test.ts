import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import {
  countTargets,
  crossEntropy,
  crossEntropyBackward,
  IGNORE_INDEX,
  type CrossEntropyParams,
} from '../../src/webgpu/kernels/cross-entropy';
import { crossEntropyBackwardRef, crossEntropyRef } from '../../src/webgpu/reference/cross-entropy';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectGradientsMatch } from '../helpers/grad-check';
import { expectClose, runKernel } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

// 1-sized, non-multiple-of-4, one past the workgroup width, a small vocabulary
// and one Llama-sized vocabulary.
const CASES: [number, number][] = [
  [1, 1],
  [3, 7],
  [4, 65],
  [6, 2000],
  [2, 32000],
];

/** Logits in [-6, 6], every third row shifted by +90 so a naive exp would overflow f32. */
function randomLogits(rng: Rng, n: number, v: number): Float32Array {
  const x = rng.floats(n * v, -6, 6);
  for (let r = 0; r < n; r += 3) for (let j = 0; j < v; j++) x[r * v + j] = (x[r * v + j] as number) + 90;
  return x;
}

/** Random targets with every fourth row (from the second) ignored. */
function randomTargets(rng: Rng, n: number, v: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (i % 4 === 1 ? IGNORE_INDEX : rng.int(0, v - 1)));
}

async function forward(logits: Float32Array, targets: Int32Array, p: CrossEntropyParams): Promise<Float32Array> {
  const inputs = [
    { data: logits, shape: [p.rows, p.vocab] },
    { data: targets, shape: [p.rows] },
  ];
  const [loss] = await runKernel(rt, crossEntropy, inputs, [{ shape: [p.rows] }], p);
  return loss ?? new Float32Array();
}

async function backward(logits: Float32Array, targets: Int32Array, p: CrossEntropyParams, scale: number): Promise<Float32Array> {
  const inputs = [
    { data: logits, shape: [p.rows, p.vocab] },
    { data: targets, shape: [p.rows] },
  ];
  const [grad] = await runKernel(rt, crossEntropyBackward, inputs, [{ shape: [p.rows, p.vocab] }], { ...p, scale });
  return grad ?? new Float32Array();
}

describe('cross-entropy kernel', () => {
  for (const [n, v] of CASES) {
    it(`N=${n} V=${v}: loss and gradient match the CPU reference`, async () => {
      const rng = new Rng(n * 131 + v);
      const logits = randomLogits(rng, n, v);
      const targets = randomTargets(rng, n, v);
      const p = { rows: n, vocab: v };
      // Sums of up to V exps and a log, in f32.
      const loss = await forward(logits, targets, p);
      expectClose(loss, crossEntropyRef(logits, targets, v), TOLERANCE.f32Reduction, `loss N=${n} V=${v}`);
      const scale = 1 / Math.max(1, countTargets(targets));
      const grad = await backward(logits, targets, p, scale);
      expectClose(grad, crossEntropyBackwardRef(logits, targets, v, scale), TOLERANCE.f32Reduction, `dlogits N=${n} V=${v}`);
    });
  }

  it('gives every ignored row zero loss and zero gradient', async () => {
    const [n, v] = [3, 10];
    const rng = new Rng(5);
    const logits = randomLogits(rng, n, v);
    const targets = new Int32Array(n).fill(IGNORE_INDEX);
    expect(countTargets(targets)).toBe(0);
    expect(Array.from(await forward(logits, targets, { rows: n, vocab: v }))).toEqual([0, 0, 0]);
    const grad = await backward(logits, targets, { rows: n, vocab: v }, 1);
    expect(grad.every((g) => g === 0)).toBe(true);
  });

  it('marks an out-of-range target with NaN and leaves the other rows intact', async () => {
    const [n, v] = [4, 9];
    const rng = new Rng(6);
    const logits = randomLogits(rng, n, v);
    const targets = Int32Array.from([2, 9, -1, 8]);
    const loss = await forward(logits, targets, { rows: n, vocab: v });
    const want = crossEntropyRef(logits, targets, v);
    expect([1, 2].map((r) => Number.isNaN(loss[r]) && Number.isNaN(want[r]))).toEqual([true, true]);
    expectClose([loss[0] ?? NaN, loss[3] ?? NaN], [want[0] ?? 0, want[3] ?? 0], TOLERANCE.f32Reduction, 'valid rows');
    const grad = await backward(logits, targets, { rows: n, vocab: v }, 0.5);
    expect(grad.subarray(v, 3 * v).every((g) => Number.isNaN(g))).toBe(true);
    const wantGrad = crossEntropyBackwardRef(logits, targets, v, 0.5);
    expectClose(grad.subarray(3 * v), wantGrad.subarray(3 * v), TOLERANCE.f32Reduction, 'valid row gradient');
  });

  it('backward reference is the gradient of the mean loss, ignored rows included', () => {
    const [n, v] = [5, 6];
    const rng = new Rng(7);
    const logits = Float64Array.from(randomLogits(rng, n, v));
    const targets = Int32Array.from([3, IGNORE_INDEX, 0, 5, IGNORE_INDEX]);
    const count = countTargets(targets);
    const meanLoss = ([x]: Float64Array[]): number[] => [crossEntropyRef(x ?? [], targets, v).reduce((a, b) => a + b, 0) / count];
    const upstream = 0.75;
    const analytic = crossEntropyBackwardRef(logits, targets, v, upstream / count);
    expectGradientsMatch(meanLoss, [logits], [upstream], { 0: analytic }, 'cross-entropy mean loss');
  });

  it('rejects a wrong shape or dtype before dispatch, naming the kernel and shapes', () => {
    const p = { rows: 2, vocab: 5 };
    const logits = rt.empty([2, 5], 'f32', 'logits');
    const targets = rt.empty([2], 'i32', 'targets');
    const targetsF32 = rt.empty([2], 'f32', 'targets.f32');
    const loss = rt.empty([2], 'f32', 'loss');
    const wide = rt.empty([2, 6], 'f32', 'logits.wide');
    expect(() => rt.run(crossEntropy, [wide, targets], [loss], p)).toThrow(KernelInputError);
    const named = /cross-entropy: logits must be \[2,5\].*\[2,6\] \[2\] \[2\]/;
    expect(() => rt.run(crossEntropy, [wide, targets], [loss], p)).toThrow(named);
    expect(() => rt.run(crossEntropy, [logits, targetsF32], [loss], p)).toThrow(/targets must be i32, got dtype f32/);
    expect(() => rt.run(crossEntropyBackward, [logits, targets], [loss], { ...p, scale: 1 })).toThrow(
      /cross-entropy-backward: dlogits must be \[2,5\]/,
    );
  });
});
