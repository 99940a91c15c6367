/**
 * Check cases of the matmul family: f32 (the variant this adapter's selector
 * picks, and matvec), vec4, int8/int4 weights, f16 (needs shader-f16), and
 * the backward kernels dX, dW and db.
 */
import { packF16, unpackF16 } from '../../f16';
import type { MatmulParams } from '../../kernels/matmul-params';
import { kernels } from '../../kernels/registry';
import { selectGradVariant, selectMatmulVariant } from '../../kernels/matmul-select';
import { dequantize, quantize, wordsPerRow, type QuantBits } from '../../quant';
import { matmulBackwardRef, matmulRef } from '../../reference/matmul';
import type { GpuRuntime } from '../../runtime';
import { worstElement } from '../compare';
import { input, kernelCase, type CheckCase, type Expected } from '../check-case';
import { caseName, epilogueHostInputs, f32MatmulInputs, matmulOperands, matmulSeed, paramsFor, type MatmulCase } from '../matmul-operands';
import type { HostArray } from '../run-kernel';
import { MATMUL_TOLERANCE, sumTolerance } from '../tolerance';

/** matmulRef on the host inputs of an f32 spec (x, w, bias slot, residual slot). */
function f32Reference(c: MatmulCase, ins: HostArray[]): Expected[] {
  return [matmulRef(input(ins, 0), input(ins, 1), { ...c, bias: c.bias ? input(ins, 2) : undefined, residual: input(ins, 3) })];
}

function f32Case(kernel: 'matmul' | 'matmulVec4', c: MatmulCase, variant: (rt: GpuRuntime) => MatmulParams['variant'], how: string): CheckCase {
  return kernelCase<'matmul' | 'matmulVec4'>({
    kernel,
    label: `${caseName(c)}, ${how}`,
    tolerance: sumTolerance(c.k),
    seed: matmulSeed(c),
    params: (rt) => paramsFor(c, variant(rt)),
    build: (rng) => ({ inputs: f32MatmulInputs(c, matmulOperands(c, rng)), outputs: [{ shape: [c.batch ?? 1, c.m, c.n] }] }),
    reference: (ins) => f32Reference(c, ins),
  });
}

function quantCase(c: MatmulCase, bits: QuantBits, groupSize: number): CheckCase {
  return kernelCase({
    kernel: 'matmulQuant',
    label: `${caseName(c)}, int${bits} weights (group ${groupSize}), selected variant`,
    tolerance: sumTolerance(c.k),
    seed: matmulSeed(c, bits),
    params: (rt) => ({ ...paramsFor(c, selectMatmulVariant(rt.gpu.report, c.m)), bits, groupSize }),
    build: (rng) => {
      const d = matmulOperands(c, rng);
      const q = quantize(d.w, c.n, c.k, bits, groupSize);
      const xHost = { data: d.x, shape: [c.batch ?? 1, c.m, c.k] };
      const weights = [
        { data: q.packed, shape: [c.n, wordsPerRow(c.k, bits)] },
        { data: q.scales, shape: [c.n, c.k / groupSize] },
      ];
      return { inputs: [xHost, ...weights, ...epilogueHostInputs(c, d, xHost)], outputs: [{ shape: [c.batch ?? 1, c.m, c.n] }] };
    },
    // Against the dequantized weights the kernel's only error is f32 rounding.
    reference: (ins) => {
      const q = { bits, groupSize, n: c.n, k: c.k, packed: input(ins, 1) as Uint32Array, scales: input(ins, 2) as Float32Array };
      return [matmulRef(input(ins, 0), dequantize(q), { ...c, bias: c.bias ? input(ins, 3) : undefined, residual: input(ins, 4) })];
    },
  });
}

/** f16 operands packed two to a u32 word; the reference sees the same f16-rounded values. */
function f16Case(c: MatmulCase): CheckCase {
  return {
    kernel: 'matmulF16',
    label: `${caseName(c)}, f16 operands, selected variant`,
    tolerance: { name: 'f16 output + f32 sum', value: MATMUL_TOLERANCE.f16Output + MATMUL_TOLERANCE.f32(c.k) },
    seed: matmulSeed(c, 16),
    requires: 'shader-f16',
    async run(rt, rng) {
      const d = matmulOperands(c, rng);
      const round = (a: Float32Array) => unpackF16(packF16(a), a.length);
      const h = { x: round(d.x), w: round(d.w), bias: round(d.bias), residual: round(d.residual) };
      const up = (a: Float32Array, label: string) => rt.upload(packF16(a), [Math.ceil(a.length / 2)], `matmul-f16.${label}`);
      const x = up(h.x, 'x');
      const inputs = [x, up(h.w, 'w'), c.bias ? up(h.bias, 'bias') : x, c.epilogue === 'residual' ? up(h.residual, 'residual') : x];
      const count = (c.batch ?? 1) * c.m * c.n;
      const y = rt.empty([Math.ceil(count / 2)], 'u32', 'matmul-f16.y');
      rt.write(y, new Uint32Array(Math.ceil(count / 2)).fill(0x7e007e00)); // f16 NaN poison
      try {
        rt.run(kernels.matmulF16, inputs, [y], paramsFor(c, selectMatmulVariant(rt.gpu.report, c.m)));
        const got = unpackF16((await rt.read(y)) as Uint32Array, count);
        return worstElement(got, matmulRef(h.x, h.w, { ...c, bias: c.bias ? h.bias : undefined, residual: h.residual }));
      } finally {
        for (const t of new Set([...inputs, y])) rt.release(t);
      }
    },
  };
}

/** f16 W packed two to a u32 word, x, bias, residual and y f32; the reference sees W rounded to f16. */
function w16Case(c: MatmulCase): CheckCase {
  return {
    kernel: 'matmulW16',
    label: `${caseName(c)}, f16 weights, selected variant`,
    tolerance: sumTolerance(c.k),
    seed: matmulSeed(c, 17),
    requires: 'shader-f16',
    async run(rt, rng) {
      const d = matmulOperands(c, rng);
      const w16 = unpackF16(packF16(d.w), d.w.length);
      const rows = (c.batch ?? 1) * c.m;
      const x = rt.upload(d.x, [rows, c.k], 'matmul-w16.x');
      const w = rt.upload(packF16(d.w), [Math.ceil(d.w.length / 2)], 'matmul-w16.w');
      const inputs = [x, w, c.bias ? rt.upload(d.bias, [c.n], 'matmul-w16.bias') : x, c.epilogue === 'residual' ? rt.upload(d.residual, [rows, c.n], 'matmul-w16.residual') : x];
      const y = rt.empty([rows, c.n], 'f32', 'matmul-w16.y');
      rt.write(y, new Float32Array(rows * c.n).fill(Number.NaN));
      try {
        rt.run(kernels.matmulW16, inputs, [y], paramsFor(c, selectMatmulVariant(rt.gpu.report, c.m)));
        return worstElement((await rt.read(y)) as Float32Array, matmulRef(d.x, w16, { ...c, bias: c.bias ? d.bias : undefined, residual: d.residual }));
      } finally {
        for (const t of new Set([...inputs, y])) rt.release(t);
      }
    },
  };
}

const GRAD = { m: 7, k: 13, n: 33 };
const gradVariant = (rt: GpuRuntime) => ({ ...GRAD, variant: selectGradVariant(rt.gpu.report) });
const gradLabel = `M=${GRAD.m} K=${GRAD.k} N=${GRAD.n}, selected variant`;
const BIAS_GRAD = { m: 17, n: 33, batch: 2 };

/** dX from (dY, W) or dW from (dY, X): dY [M, N] and one operand in, one gradient out. */
function gradCase(
  kernel: 'matmulGradInput' | 'matmulGradWeight',
  terms: number,
  operand: number[],
  out: number[],
  seed: number,
  reference: (dy: HostArray, operand: HostArray) => Expected,
): CheckCase {
  return kernelCase<'matmulGradInput' | 'matmulGradWeight'>({
    kernel,
    label: gradLabel,
    tolerance: sumTolerance(terms),
    seed,
    params: gradVariant,
    build: (rng) => ({
      inputs: [
        { data: rng.floats(GRAD.m * GRAD.n), shape: [GRAD.m, GRAD.n] },
        { data: rng.floats(operand.reduce((a, b) => a * b, 1)), shape: operand },
      ],
      outputs: [{ shape: out }],
    }),
    reference: (ins) => [reference(input(ins, 0), input(ins, 1))],
  });
}

export const MATMUL_CASES = {
  matmul: [
    f32Case('matmul', { m: 17, k: 64, n: 33, bias: true, epilogue: 'gelu' }, (rt) => selectMatmulVariant(rt.gpu.report, 17), 'selected variant'),
    f32Case('matmul', { m: 1, k: 130, n: 7, bias: true }, () => 'matvec', 'matvec'),
    f32Case('matmul', { m: 5, k: 20, n: 6, batch: 3, bias: true, epilogue: 'residual' }, (rt) => selectMatmulVariant(rt.gpu.report, 15), 'selected variant'),
  ],
  matmulVec4: [f32Case('matmulVec4', { m: 9, k: 36, n: 13, bias: true, epilogue: 'silu' }, () => 'blocked', 'blocked')],
  matmulQuant: [quantCase({ m: 1, k: 96, n: 40 }, 4, 32), quantCase({ m: 6, k: 64, n: 11, bias: true, epilogue: 'silu' }, 8, 32)],
  matmulF16: [f16Case({ m: 9, k: 36, n: 13, bias: true, epilogue: 'gelu' })],
  matmulW16: [w16Case({ m: 9, k: 36, n: 13, bias: true, epilogue: 'residual' }), w16Case({ m: 1, k: 130, n: 7 })],
  // dX sums N products per element; dW sums one per row of X.
  matmulGradInput: [gradCase('matmulGradInput', GRAD.n, [GRAD.n, GRAD.k], [GRAD.m, GRAD.k], 22, (dy, w) => matmulBackwardRef(dy, new Float32Array(GRAD.m * GRAD.k), w, GRAD).dx)],
  matmulGradWeight: [
    gradCase('matmulGradWeight', GRAD.m, [GRAD.m, GRAD.k], [GRAD.n, GRAD.k], 23, (dy, x) => matmulBackwardRef(dy, x, new Float32Array(GRAD.n * GRAD.k), GRAD).dw),
    loraAccumulateCase(),
  ],
  matmulBiasGrad: [
    kernelCase({
      kernel: 'matmulBiasGrad',
      label: `M=${BIAS_GRAD.m} N=${BIAS_GRAD.n} Bt=${BIAS_GRAD.batch}`,
      tolerance: sumTolerance(BIAS_GRAD.batch * BIAS_GRAD.m),
      seed: 17 * 100 + 33,
      params: BIAS_GRAD,
      build: (rng) => {
        const { m, n, batch } = BIAS_GRAD;
        return { inputs: [{ data: rng.floats(batch * m * n), shape: [batch, m, n] }], outputs: [{ shape: [n] }] };
      },
      reference: (ins) => {
        const { m, n, batch } = BIAS_GRAD;
        return [matmulBackwardRef(input(ins, 0), new Float32Array(batch * m), new Float32Array(n), { m, n, batch, k: 1 }).db];
      },
    }),
  ],
} satisfies Record<string, CheckCase[]>;

/** LoRA's A gradient (rank 8 rows of K = 96) added onto what the buffer held, as a step accumulates over its sequences. */
function loraAccumulateCase(): CheckCase {
  const lora = { m: 21, k: 96, n: 8 };
  return kernelCase({
    kernel: 'matmulGradWeight',
    label: `M=${lora.m} K=${lora.k} N=${lora.n} (LoRA rank), accumulate, selected variant`,
    tolerance: sumTolerance(lora.m),
    seed: 24,
    params: (rt) => ({ ...lora, variant: selectGradVariant(rt.gpu.report), accumulate: true }),
    build: (rng) => ({
      inputs: [
        { data: rng.floats(lora.m * lora.n), shape: [lora.m, lora.n] },
        { data: rng.floats(lora.m * lora.k), shape: [lora.m, lora.k] },
      ],
      outputs: [{ shape: [lora.n, lora.k], initial: rng.floats(lora.n * lora.k) }],
    }),
    reference: (ins, _p, outs) => {
      const dw = matmulBackwardRef(input(ins, 0), input(ins, 1), new Float32Array(lora.n * lora.k), lora).dw;
      const start = outs[0]?.initial ?? new Float32Array(dw.length);
      return [dw.map((v, i) => v + (start[i] as number))];
    },
  });
}
