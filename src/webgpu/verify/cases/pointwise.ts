/** Check cases of the pointwise kernels: activations, SwiGLU, add/mul and scale. */
import type { ActivationOp } from '../../kernels/activations';
import { activationBackwardRef, activationRef, swigluBackwardRef, swigluRef } from '../../reference/activations';
import { elementwiseRef, scaleRef } from '../../reference/elementwise';
import { input, kernelCase, type CheckCase } from '../check-case';
import { tolerance } from '../tolerance';

// 65: one past a 64-wide workgroup, and not a multiple of 4.
const N = 65;
const flat = (data: Float32Array) => ({ data, shape: [data.length] });
const f32 = (inputs: Parameters<typeof input>[0], i: number) => input(inputs, i) as Float32Array;

const activationOf = (op: ActivationOp): CheckCase =>
  kernelCase({
    kernel: 'activation',
    label: `${op} n=${N}`,
    tolerance: tolerance('f32Transcendental'),
    seed: 500 + N,
    params: { op, n: N },
    build: (rng, p) => ({ inputs: [flat(rng.floats(p.n, -6, 6))], outputs: [{ shape: [p.n] }] }),
    reference: (ins, p) => [activationRef(p.op, input(ins, 0))],
  });

const activationBackwardOf = (op: ActivationOp): CheckCase =>
  kernelCase({
    kernel: 'activationBackward',
    label: `${op} n=${N}`,
    tolerance: tolerance('f32Transcendental'),
    seed: 600 + N,
    params: { op, n: N },
    build: (rng, p) => ({ inputs: [flat(rng.floats(p.n, -6, 6)), flat(rng.floats(p.n, -1, 1))], outputs: [{ shape: [p.n] }] }),
    reference: (ins, p) => [activationBackwardRef(p.op, input(ins, 0), input(ins, 1))],
  });

const OPS: ActivationOp[] = ['gelu_tanh', 'gelu_erf', 'silu', 'quick_gelu'];

export const POINTWISE_CASES = {
  activation: OPS.map(activationOf),
  activationBackward: OPS.map(activationBackwardOf),
  swiglu: [
    kernelCase({
      kernel: 'swiglu',
      label: `n=${N}`,
      tolerance: tolerance('f32Transcendental'),
      seed: 700 + N,
      params: { n: N },
      build: (rng, p) => ({ inputs: [flat(rng.floats(p.n, -6, 6)), flat(rng.floats(p.n, -2, 2))], outputs: [{ shape: [p.n] }] }),
      reference: (ins) => [swigluRef(input(ins, 0), input(ins, 1))],
    }),
  ],
  swigluBackward: [
    kernelCase({
      kernel: 'swigluBackward',
      label: `n=${N}`,
      tolerance: tolerance('f32Transcendental'),
      seed: 800 + N,
      params: { n: N },
      build: (rng, p) => ({
        inputs: [flat(rng.floats(p.n, -6, 6)), flat(rng.floats(p.n, -2, 2)), flat(rng.floats(p.n, -1, 1))],
        outputs: [{ shape: [p.n] }, { shape: [p.n] }],
      }),
      reference: (ins) => {
        const want = swigluBackwardRef(input(ins, 0), input(ins, 1), input(ins, 2));
        return [want.dgate, want.dup];
      },
    }),
  ],
  elementwise: (['add', 'mul'] as const).map((op) =>
    kernelCase({
      kernel: 'elementwise',
      label: `${op} n=${N}`,
      tolerance: tolerance('f32Exact'),
      seed: 1000 + N,
      params: { op, n: N },
      build: (rng, p) => ({ inputs: [flat(rng.floats(p.n, -4, 4)), flat(rng.floats(p.n, -4, 4))], outputs: [{ shape: [p.n] }] }),
      reference: (ins, p) => [elementwiseRef(p.op, f32(ins, 0), f32(ins, 1))],
    }),
  ),
  scale: [
    kernelCase({
      kernel: 'scale',
      label: `n=${N} s=-3.25`,
      tolerance: tolerance('f32Exact'),
      seed: 3000 + N,
      params: { n: N, s: -3.25 },
      build: (rng, p) => ({ inputs: [flat(rng.floats(p.n, -4, 4))], outputs: [{ shape: [p.n] }] }),
      reference: (ins, p) => [scaleRef(f32(ins, 0), p.s)],
    }),
  ],
} satisfies Record<string, CheckCase[]>;
