import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { attention, pickAttentionVariant, resolveAttention, TILE16_MAX_HEAD_DIM, type AttentionParams, type AttentionVariant } from '../../src/webgpu/kernels/attention';
import { attentionRef } from '../../src/webgpu/reference/attention';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectClose, runKernel } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

interface Case extends AttentionParams {
  name: string;
  maskDrop?: number;
}

function makeInputs(c: Case, seed: number) {
  const p = resolveAttention(c);
  const rng = new Rng(seed);
  const q = rng.floats(p.batch * p.tLen * p.heads * p.headDim);
  const k = rng.floats(p.batch * p.sCap * p.kvHeads * p.headDim);
  const v = rng.floats(p.batch * p.sCap * p.kvHeads * p.headDim);
  const mask = new Int32Array(p.batch * p.sCap).map(() => (rng.next() < (c.maskDrop ?? 0) ? 0 : 1));
  return { p, q, k, v, mask };
}

/** Run one case on a runtime and compare with the reference. */
async function checkCase(runtime: GpuRuntime, c: Case, variant: AttentionVariant, seed: number, label: string): Promise<void> {
  const { p, q, k, v, mask } = makeInputs(c, seed);
  const [o] = await runKernel(
    runtime,
    attention,
    [
      { data: q, shape: [p.batch, p.tLen, p.heads, p.headDim] },
      { data: k, shape: [p.batch, p.sCap, p.kvHeads, p.headDim] },
      { data: v, shape: [p.batch, p.sCap, p.kvHeads, p.headDim] },
      { data: mask, shape: [p.batch, p.sCap] },
    ],
    [{ shape: [p.batch, p.tLen, p.heads, p.headDim] }],
    { ...c, variant },
  );
  expectClose(o as Float32Array, attentionRef(q, k, v, c.hasMask ? mask : null, p), TOLERANCE.f32Attention, label);
}

const CASES: Case[] = [
  { name: 'causal, one head', batch: 1, tLen: 5, sLen: 5, heads: 1, kvHeads: 1, headDim: 3, causal: true, hasMask: false },
  { name: 'bidirectional, vision-like', batch: 2, tLen: 17, sLen: 17, heads: 2, kvHeads: 2, headDim: 8, causal: false, hasMask: false },
  { name: 'causal GQA 4:1', batch: 1, tLen: 9, sLen: 9, heads: 4, kvHeads: 1, headDim: 16, causal: true, hasMask: false },
  { name: 'causal GQA 6:2 with padding mask', batch: 2, tLen: 7, sLen: 7, heads: 6, kvHeads: 2, headDim: 5, causal: true, hasMask: true, maskDrop: 0.3 },
  { name: 'bidirectional masked', batch: 3, tLen: 4, sLen: 11, heads: 2, kvHeads: 1, headDim: 7, causal: false, hasMask: true, maskDrop: 0.4 },
  { name: 'queries after a prefix (cache of 32)', batch: 1, tLen: 3, sLen: 13, sCap: 32, heads: 2, kvHeads: 2, headDim: 64, causal: true, hasMask: false },
  { name: 'head size 128, long keys', batch: 1, tLen: 2, sLen: 70, heads: 1, kvHeads: 1, headDim: 128, causal: true, hasMask: false },
  { name: 'head size 1', batch: 1, tLen: 6, sLen: 6, heads: 3, kvHeads: 3, headDim: 1, causal: true, hasMask: false },
  // Query and key counts off the tiles of 8, at the tiled variant's head-size limits.
  { name: 'causal GQA 3:1, 19 queries after a prefix of 14, head size 4', batch: 2, tLen: 19, sLen: 33, sCap: 40, heads: 3, kvHeads: 1, headDim: 4, causal: true, hasMask: false },
  { name: 'bidirectional masked, 13 queries, 21 keys, head size 20', batch: 2, tLen: 13, sLen: 21, heads: 2, kvHeads: 2, headDim: 20, causal: false, hasMask: true, maskDrop: 0.35 },
  { name: 'causal masked GQA 4:2 after a prefix, head size 64', batch: 1, tLen: 10, sLen: 27, sCap: 30, heads: 4, kvHeads: 2, headDim: 64, causal: true, hasMask: true, maskDrop: 0.3 },
  { name: 'bidirectional vision tile, 40 patches, head size 64', batch: 1, tLen: 40, sLen: 40, heads: 3, kvHeads: 3, headDim: 64, causal: false, hasMask: false },
];

/** Whether a variant takes a case's head size. */
function runs(variant: AttentionVariant, c: Case): boolean {
  if (variant === 'block4') return c.headDim % 4 === 0;
  if (variant === 'tile16') return c.headDim % 4 === 0 && c.headDim <= TILE16_MAX_HEAD_DIM;
  return true;
}

describe('attention forward', () => {
  for (const variant of ['rows', 'block4', 'tile16', 'split'] as AttentionVariant[]) {
    for (const [i, c] of CASES.entries()) {
      if (!runs(variant, c)) continue;
      it(`${variant}: ${c.name}`, async () => {
        await checkCase(rt, c, variant, 100 + i, `${variant} ${c.name}`);
      });
    }
  }

  for (const variant of ['rows', 'block4', 'tile16'] as AttentionVariant[]) {
    // tile16's written-out loops take SwiftShader tens of seconds to compile at D=64 (once per workgroup size);
    // the CPU-emulation pass above already covers D=64, so the GPU-sized pass keeps the smaller head sizes for it.
    it(`${variant}: the GPU-sized workgroups (64) give the same results as the CPU-emulation ones`, { timeout: 240_000 }, async () => {
      const gpuStyle = await testRuntime();
      gpuStyle.ctx.cpuEmulated = false;
      for (const [i, c] of CASES.entries()) {
        if (!runs(variant, c) || (variant === 'tile16' && c.headDim >= 64)) continue;
        await checkCase(gpuStyle, c, variant, 100 + i, `wg64 ${variant} ${c.name}`);
      }
    });
  }

  it('picks tile16 on CPU-emulated adapters for long query runs, block4 on GPUs and for short runs, split for decode', () => {
    expect(pickAttentionVariant(1024 * 12, 1024, 64, { cpuEmulated: true })).toBe('tile16');
    expect(pickAttentionVariant(1024 * 12, 1024, 64, { cpuEmulated: false })).toBe('block4');
    expect(pickAttentionVariant(64 * 4, 64, 64, { cpuEmulated: true })).toBe('block4');
    expect(pickAttentionVariant(1024 * 12, 1024, 128, { cpuEmulated: true })).toBe('block4');
    expect(pickAttentionVariant(1024 * 12, 1024, 5, { cpuEmulated: true })).toBe('rows');
    expect(pickAttentionVariant(9, 1, 64, { cpuEmulated: true })).toBe('split');
    expect(resolveAttention({ batch: 1, tLen: 1024, sLen: 1024, heads: 12, kvHeads: 12, headDim: 64, causal: false, hasMask: false }, rt.ctx).variant).toBe(
      rt.ctx.cpuEmulated ? 'tile16' : 'block4',
    );
  });

  it('a query whose keys are all masked gets zeros, not NaN, in every variant', async () => {
    const c: Case = { name: 'all masked', batch: 1, tLen: 2, sLen: 2, heads: 1, kvHeads: 1, headDim: 4, causal: false, hasMask: true };
    const { p, q, k, v } = makeInputs(c, 9);
    const mask = new Int32Array([0, 0]);
    for (const variant of ['rows', 'block4', 'tile16', 'split'] as AttentionVariant[]) {
      const [o] = await runKernel(
        rt,
        attention,
        [
          { data: q, shape: [1, 2, 1, 4] },
          { data: k, shape: [1, 2, 1, 4] },
          { data: v, shape: [1, 2, 1, 4] },
          { data: mask, shape: [1, 2] },
        ],
        [{ shape: [1, 2, 1, 4] }],
        { ...p, variant },
      );
      expect(Array.from(o as Float32Array), variant).toEqual(new Array(8).fill(0));
    }
  });

  it('validation names the kernel and shapes before dispatch', () => {
    const q = rt.empty([1, 4, 3, 8], 'f32', 'q');
    const k = rt.empty([1, 4, 2, 8], 'f32', 'k');
    const mask = rt.empty([1], 'i32', 'mask');
    const o = rt.empty([1, 4, 3, 8], 'f32', 'o');
    const base = { batch: 1, tLen: 4, sLen: 4, headDim: 8, causal: true, hasMask: false };
    expect(() => rt.run(attention, [q, k, k, mask], [o], { ...base, heads: 3, kvHeads: 2 })).toThrow(KernelInputError);
    expect(() => rt.run(attention, [q, k, k, mask], [o], { ...base, heads: 3, kvHeads: 2 })).toThrow(/attention: 3 heads do not split into 2/);
    const big = rt.empty([1, 4, 3, 130], 'f32', 'q');
    expect(() => rt.run(attention, [big, big, big, mask], [big], { ...base, heads: 3, kvHeads: 3, headDim: 130 })).toThrow(/head size 130/);
    const wide = rt.empty([1, 4, 3, 80], 'f32', 'q');
    expect(() => rt.run(attention, [wide, wide, wide, mask], [wide], { ...base, heads: 3, kvHeads: 3, headDim: 80, variant: 'tile16' })).toThrow(/tile16 variant takes head sizes up to 64, not 80/);
  });
});
