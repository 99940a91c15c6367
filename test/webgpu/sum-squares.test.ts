import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { adamw, clipGradScale } from '../../src/webgpu/kernels/adamw';
import { SUM_SQUARES_WORKGROUP, sumSquares } from '../../src/webgpu/kernels/sum-squares';
import { adamwRef } from '../../src/webgpu/reference/adamw';
import { gradNormRef, sumSquaresIntoRef, sumSquaresRef } from '../../src/webgpu/reference/sum-squares';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import type { Tensor } from '../../src/webgpu/tensor';
import { sumSquaresTolerance } from '../../src/webgpu/verify/tolerance';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectClose, runKernel } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

const tol = (n: number) => sumSquaresTolerance(n, SUM_SQUARES_WORKGROUP).value;

describe('sum-squares reference', () => {
  it('is the squared 2-norm, and the norm of a set is taken over all its values', () => {
    const rng = new Rng(60);
    const parts = [rng.floats(7), rng.floats(1), rng.floats(30)];
    expect(sumSquaresRef(parts[0] ?? [])).toBeCloseTo(Math.hypot(...(parts[0] ?? [])) ** 2, 12);
    const all = parts.flatMap((p) => Array.from(p));
    expect(gradNormRef(parts)).toBeCloseTo(Math.hypot(...all), 12);
    expect(Array.from(sumSquaresIntoRef([3, 4], [1, 2], 1, true))).toEqual([1, 27]);
    expect(Array.from(sumSquaresIntoRef([3, 4], [1, 2], 0, false))).toEqual([25, 2]);
  });
});

describe('sum-squares kernel', () => {
  // 1-sized, non-multiple of 4, one under, at and past the 256 invocations, many loads each.
  for (const n of [1, 3, 255, 256, 257, 1000, 65_537]) {
    it(`n=${n} matches the reference`, async () => {
      const x = new Rng(n + 61).floats(n, -2, 2);
      const [got] = await runKernel(rt, sumSquares, [{ data: x, shape: [n] }], [{ shape: [1] }], { n });
      expectClose(got ?? [], [sumSquaresRef(x)], tol(n), `sum-squares n=${n}`);
    });
  }

  it('keeps its relative accuracy for large and tiny gradients', async () => {
    const rng = new Rng(62);
    for (const scale of [1e-12, 1e3]) {
      const x = rng.floats(4099, -1, 1).map((v) => v * scale);
      const [got] = await runKernel(rt, sumSquares, [{ data: x, shape: [4099] }], [{ shape: [1] }], { n: 4099 });
      const want = sumSquaresRef(x);
      expect(Math.abs((got?.[0] ?? NaN) / want - 1), `scale ${scale}`).toBeLessThanOrEqual(tol(4099));
    }
  });

  it('takes a tensor of any shape, writes only its slot, and accumulates a total over several tensors', async () => {
    const rng = new Rng(63);
    const shapes = [[8, 192], [64, 8], [3]];
    const grads = shapes.map((s) => rng.floats(s.reduce((a, b) => a * b, 1)));
    const start = Float32Array.from([5, 0.5, 7]);
    const sums = rt.upload(start, [3], 'test.sums');
    const ins: Tensor[] = [];
    let want: Float64Array = Float64Array.from(start);
    grads.forEach((g, i) => {
      const t = rt.upload(g, shapes[i] ?? [], 'test.grad');
      ins.push(t);
      rt.run(sumSquares, [t], [sums], { n: g.length, slots: 3, slot: 1, accumulate: true });
      want = sumSquaresIntoRef(g, want, 1, true);
    });
    // Overwrite slot 2 with the last tensor alone.
    const last = grads[2] ?? new Float32Array(0);
    rt.run(sumSquares, [ins[2] as Tensor], [sums], { n: last.length, slots: 3, slot: 2 });
    want = sumSquaresIntoRef(last, want, 2, false);
    const got = await rt.readF32(sums);
    for (const t of [sums, ...ins]) rt.release(t);
    expect(got[0]).toBe(5);
    // Each total is within tol of its own sum; each add into the slot rounds once more.
    expectClose(got, want, tol(8 * 192) + grads.length * 2 ** -24, 'slots');
    expect(Math.sqrt(got[1] as number - 0.5)).toBeCloseTo(gradNormRef(grads), 3);
  });

  // clip_grad_norm_ then AdamW without reading a gradient back: sum-squares
  // totals the squares on the GPU, the host reads one float and passes
  // min(1, max_norm / (norm + 1e-6)) to adamw as gradScale.
  it('drives gradient clipping: the clipped AdamW step equals the step on torch-style clipped gradients', async () => {
    const rng = new Rng(64);
    const shapes = [[8, 24], [40, 8]];
    const grads = shapes.map((s) => rng.floats(s.reduce((a, b) => a * b, 1), -3, 3));
    const maxNorm = 1;
    const total = rt.upload(new Float32Array([0]), [1], 'test.total');
    const gradT = grads.map((g, i) => rt.upload(g, shapes[i] ?? [], 'test.grad'));
    gradT.forEach((t, i) => rt.run(sumSquares, [t], [total], { n: grads[i]?.length ?? 0, accumulate: true }));
    const norm = Math.sqrt((await rt.readF32(total))[0] as number);
    expect(Math.abs(norm / gradNormRef(grads) - 1)).toBeLessThan(tol(320));
    const scale = clipGradScale(norm, maxNorm);
    expect(scale).toBeLessThan(0.1);
    const exactScale = Math.min(1, maxNorm / (gradNormRef(grads) + 1e-6));
    const hyper = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 1 };
    for (const [i, g] of grads.entries()) {
      const shape = shapes[i] ?? [];
      const param = rng.floats(g.length);
      const state = { param, m: new Float32Array(g.length), v: new Float32Array(g.length) };
      const [p, m, v] = [state.param, state.m, state.v].map((d, j) => rt.upload(d, shape, `test.state${j}`)) as [Tensor, Tensor, Tensor];
      rt.run(adamw, [gradT[i] as Tensor], [p, m, v], { ...hyper, shape, gradScale: scale });
      const want = adamwRef(g.map((x) => x * exactScale), state, { ...hyper, shape });
      expectClose(await rt.readF32(m), want.m, TOLERANCE.f32Reduction, `clipped m ${i}`);
      expectClose(await rt.readF32(p), want.param, TOLERANCE.f32Reduction, `clipped param ${i}`);
      for (const t of [p, m, v]) rt.release(t);
    }
    for (const t of [total, ...gradT]) rt.release(t);
  });

  it('rejects a wrong size, dtype, slot or an aliased output before dispatch, naming the kernel', () => {
    const x = rt.empty([4, 2], 'f32', 'x');
    const sums = rt.empty([2], 'f32', 'sums');
    expect(() => rt.run(sumSquares, [x], [sums], { n: 9, slots: 2 })).toThrow(KernelInputError);
    expect(() => rt.run(sumSquares, [x], [sums], { n: 9, slots: 2 })).toThrow(/^sum-squares: x must hold 9 values, got 8/);
    expect(() => rt.run(sumSquares, [x], [sums], { n: 8 })).toThrow(/sums must be \[1\], got \[2\]/);
    expect(() => rt.run(sumSquares, [x], [sums], { n: 8, slots: 2, slot: 2 })).toThrow(/slot must be an integer in \[0, 2\)/);
    const ints = rt.empty([8], 'i32', 'x.i32');
    expect(() => rt.run(sumSquares, [ints], [sums], { n: 8, slots: 2 })).toThrow(/x must be f32, got dtype i32/);
    const one = rt.empty([1], 'f32', 'one');
    expect(() => rt.run(sumSquares, [one], [one], { n: 1 })).toThrow(/distinct buffers/);
  });
});
