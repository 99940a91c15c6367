import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import {
  activation,
  activationBackward,
  swiglu,
  swigluBackward,
  type ActivationOp,
} from '../../src/webgpu/kernels/activations';
import { activationBackwardRef, activationRef, swigluBackwardRef, swigluRef } from '../../src/webgpu/reference/activations';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectGradientsMatch } from '../helpers/grad-check';
import { expectClose, runKernel } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

// 1-sized, non-multiples of 4, one workgroup (64), one past it, several groups.
const SIZES = [1, 3, 7, 64, 65, 1000];
const OPS: ActivationOp[] = ['gelu_tanh', 'gelu_erf', 'silu', 'quick_gelu'];

async function unary(op: ActivationOp, x: Float32Array, dy: Float32Array) {
  const n = x.length;
  const [y] = await runKernel(rt, activation, [{ data: x, shape: [n] }], [{ shape: [n] }], { op, n });
  const [dx] = await runKernel(rt, activationBackward, [{ data: x, shape: [n] }, { data: dy, shape: [n] }], [{ shape: [n] }], { op, n });
  return { y: y as Float32Array, dx: dx as Float32Array };
}

/** Evenly spaced points over [lo, hi], both tails included. */
function grid(n: number, lo: number, hi: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

describe('activation references', () => {
  for (const op of OPS) {
    it(`${op} backward matches finite differences of the forward`, () => {
      const rng = new Rng(3);
      const x = rng.floats(17, -5, 5);
      const dy = rng.floats(17, -1, 1);
      const dx = activationBackwardRef(op, x, dy);
      expectGradientsMatch(([xs]) => activationRef(op, xs as Float64Array), [Float64Array.from(x)], dy, { 0: dx }, op);
    });
  }

  it('swiglu backward matches finite differences of the forward', () => {
    const rng = new Rng(4);
    const [gate, up, dy] = [rng.floats(17, -6, 6), rng.floats(17, -2, 2), rng.floats(17, -1, 1)];
    const want = swigluBackwardRef(gate, up, dy);
    expectGradientsMatch(
      ([g, u]) => swigluRef(g as Float64Array, u as Float64Array),
      [Float64Array.from(gate), Float64Array.from(up)],
      dy,
      { 0: want.dgate, 1: want.dup },
      'swiglu',
    );
  });
});

describe('activation kernels', () => {
  for (const op of OPS) {
    for (const n of SIZES) {
      it(`${op} n=${n} forward and backward match the reference`, async () => {
        const rng = new Rng(500 + n);
        const x = rng.floats(n, -6, 6);
        const dy = rng.floats(n, -1, 1);
        const got = await unary(op, x, dy);
        expectClose(got.y, activationRef(op, x), TOLERANCE.f32Transcendental, `${op} y n=${n}`);
        expectClose(got.dx, activationBackwardRef(op, x, dy), TOLERANCE.f32Transcendental, `${op} dx n=${n}`);
      });
    }

    it(`${op} stays finite and accurate across both tails`, async () => {
      const x = grid(4001, -40, 40);
      const dy = new Float32Array(x.length).fill(1);
      const got = await unary(op, x, dy);
      expectClose(got.y, activationRef(op, x), TOLERANCE.f32Transcendental, `${op} y on [-40, 40]`);
      expectClose(got.dx, activationBackwardRef(op, x, dy), TOLERANCE.f32Transcendental, `${op} dx on [-40, 40]`);
    });
  }

  // Deep in the negative tail y is tiny; an absolute bound would pass even a
  // kernel that cancels 1 + erf or 1 + tanh to zero, so compare ratios.
  for (const op of OPS) {
    it(`${op} keeps its relative accuracy in the negative tail`, async () => {
      const x = grid(256, -9, -1);
      const got = await unary(op, x, new Float32Array(x.length).fill(1));
      const want = activationRef(op, x);
      const ratioLessOne = Float64Array.from(got.y, (g, i) => g / (want[i] as number) - 1);
      expectClose(ratioLessOne, new Float64Array(x.length), TOLERANCE.f32TailRatio, `${op} y / want - 1 on [-9, -1]`);
    });
  }

  it('gelu_tanh and gelu_erf are different variants', async () => {
    const x = grid(64, -3, 3);
    const dy = new Float32Array(64).fill(1);
    const [tanhForm, erfForm] = [await unary('gelu_tanh', x, dy), await unary('gelu_erf', x, dy)];
    const gap = Math.max(...tanhForm.y.map((v, i) => Math.abs(v - (erfForm.y[i] as number))));
    expect(gap).toBeGreaterThan(1e-4);
  });

  for (const n of SIZES) {
    it(`swiglu n=${n} forward and backward match the reference`, async () => {
      const rng = new Rng(700 + n);
      const [gate, up, dy] = [rng.floats(n, -6, 6), rng.floats(n, -2, 2), rng.floats(n, -1, 1)];
      const flat = (data: Float32Array) => ({ data, shape: [n] });
      const [y] = await runKernel(rt, swiglu, [flat(gate), flat(up)], [{ shape: [n] }], { n });
      const [dgate, dup] = await runKernel(rt, swigluBackward, [flat(gate), flat(up), flat(dy)], [{ shape: [n] }, { shape: [n] }], { n });
      const want = swigluBackwardRef(gate, up, dy);
      expectClose(y as Float32Array, swigluRef(gate, up), TOLERANCE.f32Transcendental, `swiglu y n=${n}`);
      expectClose(dgate as Float32Array, want.dgate, TOLERANCE.f32Transcendental, `swiglu dgate n=${n}`);
      expectClose(dup as Float32Array, want.dup, TOLERANCE.f32Transcendental, `swiglu dup n=${n}`);
    });
  }

  it('accepts operands of any shape holding n values', async () => {
    const rng = new Rng(9);
    const x = rng.floats(2 * 3 * 5, -3, 3);
    const [y] = await runKernel(rt, activation, [{ data: x, shape: [2, 3, 5] }], [{ shape: [2, 3, 5] }], { op: 'silu', n: 30 });
    expectClose(y as Float32Array, activationRef('silu', x), TOLERANCE.f32Transcendental, 'silu [2,3,5]');
  });

  it('rejects a wrong size or dtype before dispatch, naming the kernel and shapes', () => {
    const x = rt.empty([2, 4], 'f32', 'x');
    const dy = rt.empty([2, 4], 'f32', 'dy');
    const shortDx = rt.empty([7], 'f32', 'dx');
    const run = () => rt.run(activationBackward, [x, dy], [shortDx], { op: 'gelu_erf', n: 8 });
    expect(run).toThrow(KernelInputError);
    expect(run).toThrow(/activation-backward\.gelu_erf: dx must hold 8 values.*\[2,4\] \[2,4\] \[7\]/);
    const intUp = rt.upload(new Int32Array(8), [8], 'up');
    expect(() => rt.run(swiglu, [x, intUp], [dy], { n: 8 })).toThrow(/swiglu: up must be f32, got dtype i32/);
    expect(() => rt.run(swigluBackward, [x, dy, dy], [dy], { n: 8 })).toThrow(/swiglu-backward: expects 3 inputs .* and 2 outputs/);
  });
});
