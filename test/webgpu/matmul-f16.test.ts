/**
 * The f16 matmul. SwiftShader has no shader-f16, so the GPU tests skip there
 * (reported as skipped, not passed); `npm run test:f16` runs them on Mesa 25
 * lavapipe (scripts/lavapipe.sh), where they must run. The host conversions and the
 * spec's validation need no device and always run.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { KernelInputError } from '../../src/webgpu/errors';
import { f16Bits, f16Round, f16Value, packF16, unpackF16 } from '../../src/webgpu/f16';
import type { KernelContext } from '../../src/webgpu/kernel';
import { matmulF16, matmulW16 } from '../../src/webgpu/kernels/matmul-f16';
import type { MatmulParams, MatmulVariant } from '../../src/webgpu/kernels/matmul-params';
import { matmulRef } from '../../src/webgpu/reference/matmul';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import type { DType, Tensor } from '../../src/webgpu/tensor';
import { needF16, testRuntime } from '../helpers/gpu';
import { expectClose } from '../helpers/kernel-run';
import { caseName, MATMUL_TOLERANCE, matmulData, paramsFor, type MatmulCase, type MatmulData } from '../helpers/matmul';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

describe('f16 host conversions', () => {
  it('round-trips every finite f16 bit pattern', () => {
    for (let b = 0; b < 0x10000; b++) {
      const v = f16Value(b);
      if (Number.isNaN(v)) continue;
      expect(f16Bits(v)).toBe(b);
    }
  });

  it('encodes known values and rounds half to even', () => {
    expect(f16Bits(1)).toBe(0x3c00);
    expect(f16Bits(-2)).toBe(0xc000);
    expect(f16Bits(65504)).toBe(0x7bff);
    expect(f16Bits(65520)).toBe(0x7c00);
    expect(f16Bits(2 ** -24)).toBe(1);
    expect(f16Bits(2 ** -25)).toBe(0);
    expect(f16Bits(1.5 * 2 ** -25)).toBe(1);
    expect(f16Round(1 + 2 ** -11)).toBe(1);
    expect(f16Round(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(Number.isNaN(f16Value(f16Bits(Number.NaN)))).toBe(true);
  });

  it('packs two values per word, low half first', () => {
    const words = packF16([1, -2, 0.5]);
    expect(Array.from(words)).toEqual([0xc0003c00, 0x3800]);
    expect(Array.from(unpackF16(words, 3))).toEqual([1, -2, 0.5]);
  });
});

const fake = (shape: number[], dtype: DType | 'f16'): Tensor => ({
  buffer: {} as GPUBuffer,
  shape,
  dtype: dtype as DType,
  label: 'fake',
});
const withF16 = (has: boolean): KernelContext => ({
  features: { 'shader-f16': has, subgroups: false },
  cpuEmulated: false,
  limits: { maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 1 << 30 },
});

describe('matmul-f16 spec without a device', () => {
  const p: MatmulParams = { variant: 'blocked', m: 3, k: 5, n: 7 };
  // Packed pairs: ceil(count / 2) u32 words.
  const packed = () => [fake([8], 'u32'), fake([18], 'u32'), fake([1], 'u32'), fake([1], 'u32')];

  it('accepts packed u32 pairs and a future f16 dtype with the logical shape', () => {
    expect(() => matmulF16.validate(packed(), [fake([11], 'u32')], p)).not.toThrow();
    const halves = [fake([3, 5], 'f16'), fake([7, 5], 'f16'), fake([7], 'f16'), fake([3, 7], 'f16')];
    expect(() => matmulF16.validate(halves, [fake([3, 7], 'f16')], { ...p, bias: true, epilogue: 'residual' })).not.toThrow();
  });

  it('rejects a K mismatch, a wrong word count and an f32 operand, naming the kernel', () => {
    const halves = [fake([3, 5], 'f16'), fake([7, 6], 'f16'), fake([1], 'f16'), fake([1], 'f16')];
    expect(() => matmulF16.validate(halves, [fake([3, 7], 'f16')], p)).toThrow(/^matmul-f16: w must be \[7,5\], got \[7,6\]/);
    expect(() => matmulF16.validate(packed(), [fake([10], 'u32')], p)).toThrow(/y \[3,7\] as packed f16 pairs must hold 11 u32 words/);
    const f32x = [fake([3, 5], 'f32'), ...packed().slice(1)];
    expect(() => matmulF16.validate(f32x, [fake([11], 'u32')], p)).toThrow(KernelInputError);
    expect(() => matmulF16.validate(f32x, [fake([11], 'u32')], p)).toThrow(/x must be f16 .* got dtype f32/);
  });

  it('refuses to build a pipeline on a device without shader-f16', () => {
    expect(() => matmulF16.dispatch(p, withF16(false))).toThrow(/needs the shader-f16 feature/);
    expect(() => matmulF16.entryPoint(p, withF16(false))).toThrow(KernelInputError);
    expect(matmulF16.dispatch(p, withF16(true))).toEqual([1, 1, 1]);
    expect(matmulF16.pipelineKey({ ...p, epilogue: 'silu' }, withF16(true))).toBe('matmul-f16.blocked.silu');
  });
});

/** Run on the GPU with f16 operands; the reference sees the same f16-rounded values. */
async function checkF16(variant: MatmulVariant, c: MatmulCase): Promise<void> {
  const d: MatmulData = matmulData(c, 16);
  const batch = c.batch ?? 1;
  const round = (a: Float32Array) => unpackF16(packF16(a), a.length);
  const h = { x: round(d.x), w: round(d.w), bias: round(d.bias), residual: round(d.residual) };
  const up = (a: Float32Array, label: string) => rt.upload(packF16(a), [Math.ceil(a.length / 2)], label);
  const x = up(h.x, 'test.x');
  const inputs = [x, up(h.w, 'test.w'), c.bias ? up(h.bias, 'test.bias') : x, c.epilogue === 'residual' ? up(h.residual, 'test.r') : x];
  const count = batch * c.m * c.n;
  const y = rt.empty([Math.ceil(count / 2)], 'u32', 'test.y');
  rt.write(y, new Uint32Array(Math.ceil(count / 2)).fill(0x7e007e00)); // f16 NaN poison
  rt.run(matmulF16, inputs, [y], paramsFor(c, variant));
  const got = unpackF16((await rt.read(y)) as Uint32Array, count);
  for (const t of [...new Set([...inputs, y])]) rt.release(t);
  const want = matmulRef(h.x, h.w, { ...c, bias: c.bias ? h.bias : undefined, residual: h.residual });
  expectClose(got, want, MATMUL_TOLERANCE.f16Output + MATMUL_TOLERANCE.f32(c.k), `matmul-f16.${variant} ${caseName(c)}`);
}

describe('matmul-f16 kernel (needs shader-f16)', () => {
  const variants: MatmulVariant[] = ['blocked', 'tiled', 'matvec'];
  for (const variant of variants) {
    for (const m of [1, 3, 17]) {
      for (const k of [1, 5, 64, 130]) {
        it(`${variant} M=${m} K=${k}, N in 1/7/33`, async ({ skip }) => {
          needF16(rt, skip);
          for (const n of [1, 7, 33]) await checkF16(variant, { m, k, n });
        });
      }
    }
    it(`${variant}: every epilogue with and without bias; batched X and batched W`, async ({ skip }) => {
      needF16(rt, skip);
      for (const epilogue of ['none', 'gelu', 'silu', 'residual'] as const) {
        for (const bias of [false, true]) await checkF16(variant, { m: 9, k: 36, n: 13, bias, epilogue });
      }
      await checkF16(variant, { m: 5, k: 20, n: 6, batch: 3, bias: true, epilogue: 'residual' });
      await checkF16(variant, { m: 3, k: 12, n: 35, batch: 4, wBatched: true });
    });
  }
});

/** f16 W, everything else f32: the reference sees W rounded to f16 and the rest as it is. */
async function checkW16(variant: MatmulVariant, c: MatmulCase): Promise<void> {
  const d: MatmulData = matmulData(c, 17);
  const w16 = unpackF16(packF16(d.w), d.w.length);
  const batch = c.batch ?? 1;
  const x = rt.upload(d.x, [batch * c.m, c.k], 'test.x');
  const w = rt.upload(packF16(d.w), [Math.ceil(d.w.length / 2)], 'test.w16');
  const bias = rt.upload(d.bias, [c.n], 'test.bias');
  const residual = rt.upload(d.residual, [batch * c.m, c.n], 'test.r');
  const y = rt.empty([batch * c.m, c.n], 'f32', 'test.y');
  rt.write(y, new Float32Array(batch * c.m * c.n).fill(Number.NaN));
  rt.run(matmulW16, [x, w, c.bias ? bias : x, c.epilogue === 'residual' ? residual : x], [y], paramsFor(c, variant));
  const got = (await rt.read(y)) as Float32Array;
  for (const t of [x, w, bias, residual, y]) rt.release(t);
  const want = matmulRef(d.x, w16, { ...c, bias: c.bias ? d.bias : undefined, residual: d.residual });
  expectClose(got, want, MATMUL_TOLERANCE.f32(c.k), `matmul-w16.${variant} ${caseName(c)}`);
}

describe('matmul-w16: f16 weights, f32 activations', () => {
  it('validates without a device: f32 x and y, W as packed halves; refuses an f16 x and a device without shader-f16', () => {
    const p: MatmulParams = { variant: 'blocked', m: 3, k: 5, n: 7 };
    const ok = [fake([3, 5], 'f32'), fake([18], 'u32'), fake([1], 'f32'), fake([1], 'f32')];
    expect(() => matmulW16.validate(ok, [fake([3, 7], 'f32')], p)).not.toThrow();
    expect(() => matmulW16.validate([fake([8], 'u32'), ...ok.slice(1)], [fake([3, 7], 'f32')], p)).toThrow(/^matmul-w16: /);
    expect(() => matmulW16.validate([ok[0] as Tensor, fake([7, 5], 'f32'), ...ok.slice(2)], [fake([3, 7], 'f32')], p)).toThrow(/w must be f16/);
    expect(() => matmulW16.dispatch(p, withF16(false))).toThrow(/^matmul-w16: needs the shader-f16 feature/);
  });

  for (const variant of ['blocked', 'tiled', 'matvec'] as const) {
    it(`${variant}: odd sizes, bias and the residual epilogue (needs shader-f16)`, async ({ skip }) => {
      needF16(rt, skip);
      await checkW16(variant, { m: 1, k: 5, n: 7 });
      await checkW16(variant, { m: 17, k: 130, n: 33, bias: true });
      await checkW16(variant, { m: 9, k: 36, n: 13, bias: true, epilogue: 'residual' });
      await checkW16(variant, { m: 5, k: 20, n: 6, batch: 3, epilogue: 'silu' });
    });
  }
});
