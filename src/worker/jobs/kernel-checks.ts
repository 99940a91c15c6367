/**
 * In-browser proof that the kernels compute what their CPU references do:
 * a representative subset (attention forward with GQA and a padding mask,
 * decode over the KV cache, attention backward, matmul) run on seeded data
 * in the worker, on whatever adapter the user has.
 */
import { Rng } from '../../data/random';
import { attention, resolveAttention, type AttentionParams } from '../../webgpu/kernels/attention';
import { attentionBackwardKv, attentionBackwardQ } from '../../webgpu/kernels/attention-backward';
import { attentionBackwardRef, attentionRef } from '../../webgpu/reference/attention';
import type { GpuRuntime } from '../../webgpu/runtime';
import type { Tensor } from '../../webgpu/tensor';
import type { KernelCheckResult } from '../api';
import { MATMUL_CHECKS } from './matmul-checks';

export interface KernelCheck {
  name: string;
  tolerance: number;
  /** Largest error relative to 1 + |reference|. */
  run(rt: GpuRuntime): Promise<number>;
}

export function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs((got[i] as number) - (want[i] as number)) / (1 + Math.abs(want[i] as number));
    worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : Math.max(worst, e);
  }
  return worst;
}

/** Outputs start as NaN so an element the kernel never writes fails the check. */
export function poisoned(rt: GpuRuntime, shape: number[], label: string): Tensor {
  const t = rt.empty(shape, 'f32', label);
  rt.write(t, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(Number.NaN));
  return t;
}

function attentionInputs(params: AttentionParams, seed: number) {
  const p = resolveAttention(params);
  const rng = new Rng(seed);
  const qn = p.batch * p.tLen * p.heads * p.headDim;
  const kn = p.batch * p.sCap * p.kvHeads * p.headDim;
  const mask = new Int32Array(p.batch * p.sCap).map(() => (rng.next() < 0.25 ? 0 : 1));
  return { p, q: rng.floats(qn), k: rng.floats(kn), v: rng.floats(kn), dout: rng.floats(qn), mask };
}

function attentionForwardCheck(name: string, params: AttentionParams): KernelCheck {
  return {
    name,
    tolerance: 2e-5,
    async run(rt) {
      const { p, q, k, v, mask } = attentionInputs(params, 11);
      const ins = [
        rt.upload(q, [p.batch, p.tLen, p.heads, p.headDim], 'check.q'),
        rt.upload(k, [p.batch, p.sCap, p.kvHeads, p.headDim], 'check.k'),
        rt.upload(v, [p.batch, p.sCap, p.kvHeads, p.headDim], 'check.v'),
        rt.upload(mask, [p.batch, p.sCap], 'check.mask'),
      ];
      const o = poisoned(rt, [p.batch, p.tLen, p.heads, p.headDim], 'check.o');
      rt.run(attention, ins, [o], params);
      const got = await rt.readF32(o);
      for (const t of [...ins, o]) rt.release(t);
      return maxRelError(got, attentionRef(q, k, v, p.hasMask ? mask : null, p));
    },
  };
}

const attentionBackwardCheck: KernelCheck = {
  name: 'attention backward (causal, GQA 4:2, masked)',
  tolerance: 5e-5,
  async run(rt) {
    const params: AttentionParams = { batch: 1, tLen: 7, sLen: 7, heads: 4, kvHeads: 2, headDim: 8, causal: true, hasMask: true };
    const { p, q, k, v, mask, dout } = attentionInputs(params, 12);
    const qShape = [1, p.tLen, p.heads, p.headDim];
    const kShape = [1, p.sCap, p.kvHeads, p.headDim];
    const ins = [rt.upload(q, qShape, 'check.q'), rt.upload(k, kShape, 'check.k'), rt.upload(v, kShape, 'check.v'), rt.upload(mask, [1, p.sCap], 'check.mask'), rt.upload(dout, qShape, 'check.dout')];
    const dq = poisoned(rt, qShape, 'check.dq');
    const stats = poisoned(rt, [1, p.tLen, p.heads, 2], 'check.stats');
    const dk = poisoned(rt, kShape, 'check.dk');
    const dv = poisoned(rt, kShape, 'check.dv');
    rt.run(attentionBackwardQ, ins, [dq, stats], params);
    rt.run(attentionBackwardKv, [...ins, stats], [dk, dv], params);
    const [gq, gk, gv] = [await rt.readF32(dq), await rt.readF32(dk), await rt.readF32(dv)];
    for (const t of [...ins, dq, stats, dk, dv]) rt.release(t);
    const want = attentionBackwardRef(q, k, v, mask, dout, p);
    return Math.max(maxRelError(gq, want.dq), maxRelError(gk, want.dk), maxRelError(gv, want.dv));
  },
};

export const KERNEL_CHECKS: KernelCheck[] = [
  ...MATMUL_CHECKS,
  attentionForwardCheck('attention prefill (causal, GQA 6:2, masked)', { batch: 2, tLen: 9, sLen: 9, heads: 6, kvHeads: 2, headDim: 16, causal: true, hasMask: true }),
  attentionForwardCheck('attention decode over a cache (split keys)', { batch: 1, tLen: 1, sLen: 37, sCap: 64, heads: 4, kvHeads: 2, headDim: 32, causal: true, hasMask: false, variant: 'split' }),
  attentionForwardCheck('attention bidirectional (vision)', { batch: 1, tLen: 20, sLen: 20, heads: 4, kvHeads: 4, headDim: 12, causal: false, hasMask: false }),
  attentionBackwardCheck,
];

export async function runKernelChecks(rt: GpuRuntime): Promise<KernelCheckResult[]> {
  const results: KernelCheckResult[] = [];
  for (const check of KERNEL_CHECKS) {
    const t0 = performance.now();
    const maxError = await check.run(rt);
    results.push({ name: check.name, maxError, tolerance: check.tolerance, passed: maxError <= check.tolerance, ms: performance.now() - t0 });
  }
  return results;
}
