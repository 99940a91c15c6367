import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { elementwise, scale, type ElementwiseOp } from '../../src/webgpu/kernels/elementwise';
import { elementwiseRef, scaleRef } from '../../src/webgpu/reference/elementwise';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { describeWorst, TOLERANCE, worstElement } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectClose, runKernel } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

// 1-sized, non-multiple-of-4, exactly one workgroup, one past it, several groups.
const SIZES = [1, 3, 7, 64, 65, 1000, 4099];
const OPS: ElementwiseOp[] = ['add', 'mul'];

describe('elementwise kernel', () => {
  for (const op of OPS) {
    for (const n of SIZES) {
      it(`${op} n=${n} matches the CPU reference`, async () => {
        const rng = new Rng(1000 + n);
        const a = rng.floats(n, -4, 4);
        const b = rng.floats(n, -4, 4);
        const ta = rt.upload(a, [n], 'test.a');
        const tb = rt.upload(b, [n], 'test.b');
        const out = rt.empty([n], 'f32', 'test.out');
        rt.write(out, new Float32Array(n).fill(Number.NaN));
        rt.run(elementwise, [ta, tb], [out], { op, n });
        const got = await rt.readF32(out);
        const worst = worstElement(got, elementwiseRef(op, a, b));
        expect(worst.absError, describeWorst(`${op} n=${n}`, worst)).toBeLessThanOrEqual(TOLERANCE.f32Exact);
      });
    }
  }

  it('records several dispatches in one step and reads the chained result', async () => {
    const n = 257;
    const rng = new Rng(7);
    const [a, b, c] = [rng.floats(n), rng.floats(n), rng.floats(n)];
    const [ta, tb, tc] = [rt.upload(a, [n], 'a'), rt.upload(b, [n], 'b'), rt.upload(c, [n], 'c')];
    const ab = rt.empty([n], 'f32', 'ab');
    const out = rt.empty([n], 'f32', 'out');
    rt.run(elementwise, [ta, tb], [ab], { op: 'add', n });
    rt.run(elementwise, [ab, tc], [out], { op: 'mul', n });
    const got = await rt.readF32(out);
    const want = elementwiseRef('mul', elementwiseRef('add', a, b), c);
    const worst = worstElement(got, want);
    expect(worst.absError, describeWorst('(a+b)*c', worst)).toBeLessThanOrEqual(TOLERANCE.f32Exact);
  });

  it('rejects mismatched shapes before dispatch, naming the kernel and shapes', () => {
    const ta = rt.empty([4], 'f32', 'a');
    const tb = rt.empty([5], 'f32', 'b');
    const out = rt.empty([4], 'f32', 'out');
    expect(() => rt.run(elementwise, [ta, tb], [out], { op: 'add', n: 4 })).toThrow(KernelInputError);
    expect(() => rt.run(elementwise, [ta, tb], [out], { op: 'add', n: 4 })).toThrow(/elementwise.*\[4\] \[5\] \[4\]/);
  });

  it('rejects a non-f32 operand', () => {
    const ta = rt.upload(new Int32Array([1, 2]), [2], 'a');
    const tb = rt.empty([2], 'f32', 'b');
    const out = rt.empty([2], 'f32', 'out');
    expect(() => rt.run(elementwise, [ta, tb], [out], { op: 'add', n: 2 })).toThrow(/dtype i32/);
  });
});

describe('elementwise scale', () => {
  // s of both signs, exact and inexact in f32, tiny and large.
  const SCALES = [0.5, -3.25, 0.1, 1e-3, 4096.7];
  for (const n of SIZES) {
    it(`scale n=${n} matches the CPU reference for every s`, async () => {
      const rng = new Rng(3000 + n);
      const a = rng.floats(n, -4, 4);
      for (const s of SCALES) {
        const [out] = await runKernel(rt, scale, [{ data: a, shape: [n] }], [{ shape: [n] }], { n, s });
        expectClose(out as Float32Array, scaleRef(a, s), TOLERANCE.f32Exact, `scale n=${n} s=${s}`);
      }
    });
  }

  it('takes any shape holding n values', async () => {
    const a = new Rng(8).floats(30);
    const [out] = await runKernel(rt, scale, [{ data: a, shape: [2, 3, 5] }], [{ shape: [5, 6] }], { n: 30, s: -2 });
    expectClose(out as Float32Array, scaleRef(a, -2), TOLERANCE.f32Exact, 'scale [2,3,5]');
  });

  it('rejects a wrong count, dtype or a non-finite s before dispatch, naming the kernel and shapes', () => {
    const a = rt.empty([4], 'f32', 'a');
    const out = rt.empty([5], 'f32', 'out');
    expect(() => rt.run(scale, [a], [out], { n: 4, s: 2 })).toThrow(KernelInputError);
    expect(() => rt.run(scale, [a], [out], { n: 4, s: 2 })).toThrow(/elementwise-scale.*\[4\] \[5\]/);
    const ints = rt.upload(new Int32Array(4), [4], 'a');
    expect(() => rt.run(scale, [ints], [a], { n: 4, s: 2 })).toThrow(/elementwise-scale: dtype i32/);
    expect(() => rt.run(scale, [a, a], [a], { n: 4, s: 2 })).toThrow(/expects one input and one output/);
    expect(() => rt.run(scale, [a], [a], { n: 4, s: Number.NaN })).toThrow(/s must be finite/);
  });
});
