import { beforeAll, describe, expect, it } from 'vitest';
import { DeviceLimitError, KernelInputError } from '../../src/webgpu/errors';
import type { KernelContext, KernelSpec } from '../../src/webgpu/kernel';
import { matmul, matmulInputs, type MatmulEpilogue, type MatmulParams, type MatmulVariant } from '../../src/webgpu/kernels/matmul';
import { matmulVec4 } from '../../src/webgpu/kernels/matmul-vec4';
import { matmulRef } from '../../src/webgpu/reference/matmul';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { expectClose } from '../helpers/kernel-run';
import { testRuntime } from '../helpers/gpu';
import { caseName, MATMUL_TOLERANCE, matmulData, paramsFor, runF32Matmul, type MatmulCase } from '../helpers/matmul';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

// 1-sized, non-multiple-of-4 and multi-tile sizes: K = 130 leaves a tail of 2
// after the vector steps and spans 9 tiled K slabs; M = 17 and N = 33 spill
// one past a 4-wide register tile or a 32-wide workgroup tile.
const MS = [1, 3, 17];
const KS = [1, 5, 64, 130];
const KS_VEC4 = [4, 64, 132];
const NS = [1, 7, 33];
const EPILOGUES: MatmulEpilogue[] = ['none', 'gelu', 'silu', 'residual'];

interface SpecUnderTest {
  spec: KernelSpec<MatmulParams>;
  variants: MatmulVariant[];
  ks: number[];
}
const SPECS: SpecUnderTest[] = [
  { spec: matmul, variants: ['blocked', 'tiled', 'matvec'], ks: KS },
  { spec: matmulVec4, variants: ['blocked', 'matvec'], ks: KS_VEC4 },
];

async function check(s: KernelSpec<MatmulParams>, variant: MatmulVariant, c: MatmulCase): Promise<void> {
  const d = matmulData(c);
  const got = await runF32Matmul(rt, s, c, paramsFor(c, variant), d);
  const want = matmulRef(d.x, d.w, { ...c, bias: c.bias ? d.bias : undefined, residual: d.residual });
  expectClose(got, want, MATMUL_TOLERANCE.f32(c.k), `${s.name}.${variant} ${caseName(c)}`);
}

for (const { spec, variants, ks } of SPECS) {
  describe(`${spec.name} forward`, () => {
    for (const variant of variants) {
      for (const m of MS) {
        for (const k of ks) {
          it(`${variant} M=${m} K=${k}, N in ${NS.join('/')}`, async () => {
            for (const n of NS) await check(spec, variant, { m, k, n });
          });
        }
      }
      it(`${variant}: every epilogue with and without bias`, async () => {
        for (const epilogue of EPILOGUES) {
          for (const bias of [false, true]) await check(spec, variant, { m: 9, k: 36, n: 13, bias, epilogue });
        }
      });
      it(`${variant}: X batched with W shared, and W batched`, async () => {
        await check(spec, variant, { m: 5, k: 20, n: 6, batch: 3, bias: true, epilogue: 'residual' });
        await check(spec, variant, { m: 3, k: 12, n: 35, batch: 4, wBatched: true });
        await check(spec, variant, { m: 1, k: 8, n: 9, batch: 2, wBatched: true, epilogue: 'silu' });
      });
    }
  });
}

describe('matmul epilogue extremes', () => {
  it('gelu and silu stay finite on large pre-activations', async () => {
    const c: MatmulCase = { m: 4, k: 8, n: 8, epilogue: 'gelu' };
    const d = matmulData(c);
    d.x = d.x.map((v) => v * 40);
    for (const epilogue of ['gelu', 'silu'] as const) {
      const got = await runF32Matmul(rt, matmul, { ...c, epilogue }, paramsFor({ ...c, epilogue }, 'blocked'), d);
      expectClose(got, matmulRef(d.x, d.w, { m: c.m, k: c.k, n: c.n, epilogue }), 1e-5, `${epilogue} large inputs`);
    }
  });
});

describe('matmul at 256 x 256 x 256', () => {
  it('matmul-vec4.blocked matches the reference', async () => {
    const c: MatmulCase = { m: 256, k: 256, n: 256, bias: true };
    await check(matmulVec4, 'blocked', c);
  });
});

describe('matmul validation', () => {
  const f32 = (shape: number[]) => rt.empty(shape, 'f32', 'test.operand');
  const params: MatmulParams = { variant: 'blocked', m: 3, k: 8, n: 5 };

  it('rejects a K mismatch between X and W, naming the kernel and shapes', () => {
    const x = f32([3, 8]);
    const w = f32([5, 9]);
    const run = () => rt.run(matmul, matmulInputs(x, [w]), [f32([3, 5])], params);
    expect(run).toThrow(KernelInputError);
    expect(run).toThrow(/^matmul: K of x \(8\) and w \(9\) differ.*\[3,8\] \[5,9\]/);
  });

  it('rejects non-positive sizes and an unknown variant', () => {
    const inputs = matmulInputs(f32([3, 8]), [f32([5, 8])]);
    expect(() => rt.run(matmul, inputs, [f32([3, 5])], { ...params, m: 0 })).toThrow(/^matmul: m must be a positive integer, got 0/);
    const bad = { ...params, variant: 'fast' as MatmulVariant };
    expect(() => rt.run(matmul, inputs, [f32([3, 5])], bad)).toThrow(/unknown variant fast/);
  });

  it('rejects a wrong dtype and a wrong output shape', () => {
    const x = rt.upload(new Int32Array(24), [3, 8], 'test.x');
    expect(() => rt.run(matmul, matmulInputs(x, [f32([5, 8])]), [f32([3, 5])], params)).toThrow(/x must be f32, got dtype i32/);
    expect(() => rt.run(matmul, matmulInputs(f32([3, 8]), [f32([5, 8])]), [f32([3, 6])], params)).toThrow(/y must be \[3,5\]/);
  });

  it('rejects a missing bias or residual when the params ask for one', () => {
    const x = f32([3, 8]);
    const w = f32([5, 8]);
    expect(() => rt.run(matmul, matmulInputs(x, [w]), [f32([3, 5])], { ...params, bias: true })).toThrow(/bias must be \[5\]/);
    expect(() => rt.run(matmul, matmulInputs(x, [w]), [f32([3, 5])], { ...params, epilogue: 'residual' })).toThrow(
      /residual must be \[3,5\]/,
    );
  });

  it('matmul-vec4 refuses K not a multiple of 4 and the tiled variant', () => {
    const x = f32([3, 6]);
    const w = f32([5, 6]);
    const p = { ...params, k: 6 };
    expect(() => rt.run(matmulVec4, matmulInputs(x, [w]), [f32([3, 5])], p)).toThrow(/matmul-vec4: K=6 is not a multiple of 4/);
    const x8 = f32([3, 8]);
    expect(() => rt.run(matmulVec4, matmulInputs(x8, [f32([5, 8])]), [f32([3, 5])], { ...params, variant: 'tiled' })).toThrow(
      /no tiled variant/,
    );
  });

  it('refuses an output larger than the device binding limit before allocating it', () => {
    const small: KernelContext = { ...rt.ctx, limits: { ...rt.ctx.limits, maxStorageBufferBindingSize: 1 << 20 } };
    const big: MatmulParams = { variant: 'tiled', m: 512, k: 64, n: 1024 };
    expect(() => matmul.dispatch(big, small)).toThrow(DeviceLimitError);
    expect(() => matmul.dispatch(big, small)).toThrow(/matmul output Y needs 2097152 .* maxStorageBufferBindingSize/);
    expect(matmul.dispatch({ ...big, m: 256 }, small)).toEqual([32, 8, 1]);
  });

  it('keys pipelines by variant, epilogue and bias only', () => {
    const a = matmul.pipelineKey({ ...params, bias: true, epilogue: 'gelu' }, rt.ctx);
    expect(a).toBe('matmul.blocked.gelu.bias');
    expect(matmul.pipelineKey({ ...params, m: 99, k: 7, n: 1 }, rt.ctx)).toBe('matmul.blocked.none');
  });
});
