import { describe, expect, it } from 'vitest';
import { matmul } from '../../src/webgpu/kernels/matmul';
import { matmulF16 } from '../../src/webgpu/kernels/matmul-f16';
import { matmulQuant } from '../../src/webgpu/kernels/matmul-quant';
import {
  isCpuEmulated,
  matmulFlops,
  selectGradVariant,
  selectMatmul,
  selectMatmulVariant,
  weightStorageFor,
  type AdapterFacts,
} from '../../src/webgpu/kernels/matmul-select';
import { matmulVec4 } from '../../src/webgpu/kernels/matmul-vec4';

// Adapter facts as describeAdapter reports them on the machines we know.
const SWIFTSHADER: AdapterFacts = { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true, features: { 'shader-f16': false } };
const SWIFTSHADER_NOT_FLAGGED: AdapterFacts = { ...SWIFTSHADER, isFallbackAdapter: false };
const LAVAPIPE: AdapterFacts = { vendor: 'mesa', architecture: 'software', isFallbackAdapter: true, features: { 'shader-f16': true } };
const GPU: AdapterFacts = { vendor: 'nvidia', architecture: 'hopper', isFallbackAdapter: false, features: { 'shader-f16': true } };
const GPU_NO_F16: AdapterFacts = { ...GPU, vendor: 'intel', architecture: 'gen-12lp', features: { 'shader-f16': false } };

describe('matmul selection', () => {
  it('treats fallback adapters and SwiftShader as CPU-emulated', () => {
    expect(isCpuEmulated(SWIFTSHADER)).toBe(true);
    expect(isCpuEmulated(SWIFTSHADER_NOT_FLAGGED)).toBe(true);
    expect(isCpuEmulated(LAVAPIPE)).toBe(true);
    expect(isCpuEmulated(GPU)).toBe(false);
  });

  it('picks blocked on CPU emulation, tiled on GPUs, matvec for one row, and honours an override', () => {
    expect(selectMatmulVariant(SWIFTSHADER, 17)).toBe('blocked');
    expect(selectMatmulVariant(GPU, 17)).toBe('tiled');
    expect(selectMatmulVariant(SWIFTSHADER, 1)).toBe('matvec');
    expect(selectMatmulVariant(GPU, 1)).toBe('matvec');
    expect(selectMatmulVariant(GPU, 1, 'blocked')).toBe('blocked');
    expect(selectMatmulVariant(SWIFTSHADER, 64, 'tiled')).toBe('tiled');
    expect(selectGradVariant(SWIFTSHADER)).toBe('blocked');
    expect(selectGradVariant(GPU)).toBe('tiled');
    expect(selectGradVariant(GPU, 'blocked')).toBe('blocked');
  });

  it('uses the vec4 module for f32 when K is a multiple of 4, except for tiled', () => {
    expect(selectMatmul(SWIFTSHADER, { m: 8, k: 64, weights: 'f32' })).toEqual({ spec: matmulVec4, variant: 'blocked' });
    expect(selectMatmul(SWIFTSHADER, { m: 8, k: 65, weights: 'f32' })).toEqual({ spec: matmul, variant: 'blocked' });
    expect(selectMatmul(SWIFTSHADER, { m: 1, k: 64, weights: 'f32' })).toEqual({ spec: matmulVec4, variant: 'matvec' });
    expect(selectMatmul(GPU, { m: 8, k: 64, weights: 'f32' })).toEqual({ spec: matmul, variant: 'tiled' });
    expect(selectMatmul(GPU, { m: 8, k: 64, weights: 'f32', variant: 'blocked' })).toEqual({ spec: matmulVec4, variant: 'blocked' });
  });

  it('sends int8/int4 to the quantized kernel, blocked where tiled would be chosen', () => {
    expect(selectMatmul(GPU, { m: 8, k: 64, weights: 'int8' })).toEqual({ spec: matmulQuant, variant: 'blocked' });
    expect(selectMatmul(SWIFTSHADER, { m: 1, k: 64, weights: 'int4' })).toEqual({ spec: matmulQuant, variant: 'matvec' });
    // An explicit override passes through; the spec's validate refuses what it lacks.
    expect(selectMatmul(GPU, { m: 8, k: 64, weights: 'int4', variant: 'tiled' }).variant).toBe('tiled');
  });

  it('uses the f16 module only where the adapter has shader-f16', () => {
    expect(selectMatmul(GPU, { m: 8, k: 64, weights: 'f16' })).toEqual({ spec: matmulF16, variant: 'tiled' });
    expect(selectMatmul(LAVAPIPE, { m: 8, k: 5, weights: 'f16' })).toEqual({ spec: matmulF16, variant: 'blocked' });
    expect(() => selectMatmul(SWIFTSHADER, { m: 8, k: 64, weights: 'f16' })).toThrow(/shader-f16/);
    expect(() => selectMatmul(GPU_NO_F16, { m: 1, k: 64, weights: 'f16' })).toThrow(/upcast/);
    expect(weightStorageFor(GPU, 'f16')).toBe('f16');
    expect(weightStorageFor(SWIFTSHADER, 'f16')).toBe('f32');
    expect(weightStorageFor(GPU, 'f32')).toBe('f32');
  });

  it('counts two flops per multiply-add', () => {
    expect(matmulFlops(1, 1, 1)).toBe(2);
    expect(matmulFlops(256, 256, 256)).toBe(2 * 256 ** 3);
    expect(matmulFlops(3, 5, 7, 4)).toBe(2 * 3 * 5 * 7 * 4);
  });
});
