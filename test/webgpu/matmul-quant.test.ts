import { beforeAll, describe, expect, it } from 'vitest';
import { KernelInputError } from '../../src/webgpu/errors';
import { matmulInputs } from '../../src/webgpu/kernels/matmul-params';
import { matmulQuant, type QuantMatmulParams } from '../../src/webgpu/kernels/matmul-quant';
import { dequantize, quantize, quantMatmulErrorBound, wordsPerRow, type QuantBits } from '../../src/webgpu/quant';
import { matmulRef } from '../../src/webgpu/reference/matmul';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { testRuntime } from '../helpers/gpu';
import { expectClose, runKernel, type HostTensor } from '../helpers/kernel-run';
import { caseName, epilogueHostInputs, MATMUL_TOLERANCE, matmulData, type MatmulCase } from '../helpers/matmul';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

type Variant = 'blocked' | 'matvec';
const VARIANTS: Variant[] = ['blocked', 'matvec'];
const MS = [1, 3, 17];
const NS = [1, 7, 33];
// K must be a multiple of the group size (>= 32), so K = 1, 5 or 130 cannot be
// quantized at all; the validation tests below check they are refused. These
// cover one group, several groups, the largest group and a group of 48.
const LAYOUTS: { bits: QuantBits; k: number; group: number }[] = [
  { bits: 8, k: 32, group: 32 },
  { bits: 8, k: 160, group: 32 },
  { bits: 8, k: 128, group: 128 },
  { bits: 4, k: 32, group: 32 },
  { bits: 4, k: 96, group: 48 },
  { bits: 4, k: 256, group: 64 },
];

interface QuantRun {
  got: Float32Array;
  deq: Float32Array;
  d: ReturnType<typeof matmulData>;
  bound: Float64Array;
}

async function runQuant(c: MatmulCase, variant: Variant, bits: QuantBits, group: number): Promise<QuantRun> {
  const d = matmulData(c, bits);
  const q = quantize(d.w, c.n, c.k, bits, group);
  const batch = c.batch ?? 1;
  const xHost: HostTensor = { data: d.x, shape: [batch, c.m, c.k] };
  const inputs = [
    xHost,
    { data: q.packed, shape: [c.n, wordsPerRow(c.k, bits)] },
    { data: q.scales, shape: [c.n, c.k / group] },
    ...epilogueHostInputs(c, d, xHost),
  ];
  const p: QuantMatmulParams = { variant, m: c.m, k: c.k, n: c.n, batch, bias: c.bias, epilogue: c.epilogue, bits, groupSize: group };
  const [got] = await runKernel(rt, matmulQuant, inputs, [{ shape: [batch, c.m, c.n] }], p);
  if (!got) throw new Error('no output');
  return { got, deq: dequantize(q), d, bound: quantMatmulErrorBound(d.x, batch * c.m, q) };
}

function refOn(w: Float32Array, c: MatmulCase, d: QuantRun['d']): Float64Array {
  return matmulRef(d.x, w, { ...c, bias: c.bias ? d.bias : undefined, residual: d.residual });
}

describe('matmul-quant forward against the dequantized weights', () => {
  for (const variant of VARIANTS) {
    for (const { bits, k, group } of LAYOUTS) {
      for (const m of MS) {
        it(`${variant} int${bits} K=${k} group ${group} M=${m}, N in ${NS.join('/')}`, async () => {
          for (const n of NS) {
            const c: MatmulCase = { m, k, n, bias: true };
            const r = await runQuant(c, variant, bits, group);
            // Same weights on both sides, so only f32 rounding separates them.
            expectClose(r.got, refOn(r.deq, c, r.d), MATMUL_TOLERANCE.f32(k), `${variant} int${bits} ${caseName(c)}`);
          }
        });
      }
    }
    it(`${variant}: every epilogue with and without bias, int8 and int4`, async () => {
      for (const epilogue of ['none', 'gelu', 'silu', 'residual'] as const) {
        for (const bias of [false, true]) {
          for (const bits of [8, 4] as const) {
            const c: MatmulCase = { m: 6, k: 64, n: 11, bias, epilogue };
            const r = await runQuant(c, variant, bits, 32);
            expectClose(r.got, refOn(r.deq, c, r.d), MATMUL_TOLERANCE.f32(c.k), `${variant} int${bits} ${caseName(c)}`);
          }
        }
      }
    });
    it(`${variant}: X batched over a shared quantized W`, async () => {
      const c: MatmulCase = { m: 3, k: 64, n: 9, batch: 3, bias: true, epilogue: 'residual' };
      const r = await runQuant(c, variant, 4, 32);
      expectClose(r.got, refOn(r.deq, c, r.d), MATMUL_TOLERANCE.f32(c.k), `${variant} ${caseName(c)}`);
    });
  }
});

describe('matmul-quant against the original f32 weights', () => {
  for (const variant of VARIANTS) {
    for (const bits of [8, 4] as const) {
      it(`${variant} int${bits}: within the quantizer's bound propagated through K`, async () => {
        const c: MatmulCase = { m: 5, k: 128, n: 17 };
        const r = await runQuant(c, variant, bits, 32);
        const exact = refOn(r.d.w, c, r.d);
        let used = 0;
        for (let i = 0; i < exact.length; i++) {
          const want = exact[i] as number;
          const slack = MATMUL_TOLERANCE.f32(c.k) * (1 + Math.abs(want));
          const err = Math.abs((r.got[i] as number) - want);
          expect(err, `element ${i}: got ${r.got[i]} want ${want}`).toBeLessThanOrEqual((r.bound[i] as number) + slack);
          used = Math.max(used, err / (r.bound[i] as number));
        }
        // Rounding errors partly cancel along K, so the worst-case bound is far from reached.
        expect(used).toBeLessThan(1);
        expect(used).toBeGreaterThan(0);
      });
    }
  }
});

describe('matmul-quant validation', () => {
  const base: QuantMatmulParams = { variant: 'blocked', m: 2, k: 64, n: 3, bits: 8, groupSize: 32 };
  const operands = (k: number, bits: QuantBits, group: number) => {
    const x = rt.empty([2, k], 'f32', 'test.x');
    const wq = rt.empty([3, Math.max(1, Math.floor((k * bits) / 32))], 'u32', 'test.wq');
    const scales = rt.empty([3, Math.max(1, Math.floor(k / group))], 'f32', 'test.scales');
    return matmulInputs(x, [wq, scales]);
  };
  const y = () => rt.empty([2, 3], 'f32', 'test.y');

  it('rejects a group size that does not divide K, naming the kernel and shapes', () => {
    const run = () => rt.run(matmulQuant, operands(80, 8, 64), [y()], { ...base, k: 80, groupSize: 64 });
    expect(run).toThrow(KernelInputError);
    expect(run).toThrow(/^matmul-quant: int8 weights: group size 64 does not divide K=80.*\[2,80\] \[3,20\] \[3,1\]/);
  });

  it('refuses K = 1 and K = 5, which no group size divides', () => {
    for (const k of [1, 5]) {
      expect(() => rt.run(matmulQuant, operands(k, 4, 32), [y()], { ...base, k, bits: 4 })).toThrow(/does not divide K=/);
    }
  });

  it('rejects mismatched K between X and the packed weights', () => {
    const inputs = operands(64, 8, 32);
    inputs[0] = rt.empty([2, 96], 'f32', 'test.x96');
    expect(() => rt.run(matmulQuant, inputs, [y()], base)).toThrow(/x must be \[2,64\], got \[2,96\]/);
  });

  it('rejects float weights, batched weights and the tiled variant', () => {
    const inputs = operands(64, 8, 32);
    inputs[1] = rt.empty([3, 16], 'f32', 'test.wf');
    expect(() => rt.run(matmulQuant, inputs, [y()], base)).toThrow(/wq must be u32, got dtype f32/);
    expect(() => rt.run(matmulQuant, operands(64, 8, 32), [y()], { ...base, wBatched: true })).toThrow(/wBatched/);
    expect(() => rt.run(matmulQuant, operands(64, 8, 32), [y()], { ...base, variant: 'tiled' })).toThrow(/no tiled/);
  });

  it('keys pipelines by bits and group size, not by shape', () => {
    expect(matmulQuant.pipelineKey({ ...base, bits: 4, bias: true }, rt.ctx)).toBe('matmul-quant.blocked.none.bias.int4.g32');
    expect(matmulQuant.pipelineKey({ ...base, m: 1000, k: 4096 }, rt.ctx)).toBe('matmul-quant.blocked.none.int8.g32');
  });
});
