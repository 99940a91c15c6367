/**
 * Check cases of attention: prefill with GQA and a padding mask, decode over
 * a KV cache (split keys), bidirectional vision attention, and the two
 * backward kernels (dQ with its saved statistics, then dK and dV from them).
 */
import { resolveAttention, type AttentionParams, type ResolvedAttention } from '../../kernels/attention';
import { kernels } from '../../kernels/registry';
import { attentionBackwardRef, attentionRef } from '../../reference/attention';
import { worstElement, worstOf } from '../compare';
import { input, kernelCase, type CheckCase } from '../check-case';
import type { SeededRandom } from '../random';
import { poisoned } from '../run-kernel';
import { tolerance } from '../tolerance';

interface AttentionOperands {
  p: ResolvedAttention;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  dout: Float32Array;
  mask: Int32Array;
}

/** q, k, v, dout uniform in [-1, 1); about a quarter of the keys masked out. */
export function attentionOperands(params: AttentionParams, rng: SeededRandom, maskDrop = 0.25): AttentionOperands {
  const p = resolveAttention(params);
  const qn = p.batch * p.tLen * p.heads * p.headDim;
  const kn = p.batch * p.sCap * p.kvHeads * p.headDim;
  const mask = new Int32Array(p.batch * p.sCap).map(() => (rng.next() < maskDrop ? 0 : 1));
  return { p, q: rng.floats(qn), k: rng.floats(kn), v: rng.floats(kn), dout: rng.floats(qn), mask };
}

const qShape = (p: ResolvedAttention) => [p.batch, p.tLen, p.heads, p.headDim];
const kvShape = (p: ResolvedAttention) => [p.batch, p.sCap, p.kvHeads, p.headDim];

function hostOperands(o: AttentionOperands) {
  const { p } = o;
  return [
    { data: o.q, shape: qShape(p) },
    { data: o.k, shape: kvShape(p) },
    { data: o.v, shape: kvShape(p) },
    { data: o.mask, shape: [p.batch, p.sCap] },
    { data: o.dout, shape: qShape(p) },
  ];
}

function forwardCase(label: string, params: AttentionParams, seed: number): CheckCase {
  const p = resolveAttention(params);
  return kernelCase({
    kernel: 'attention',
    label,
    tolerance: tolerance('f32Attention'),
    seed,
    params,
    build: (rng) => ({ inputs: hostOperands(attentionOperands(params, rng)).slice(0, 4), outputs: [{ shape: qShape(p) }] }),
    reference: (ins) => [attentionRef(input(ins, 0), input(ins, 1), input(ins, 2), p.hasMask ? input(ins, 3) : null, p)],
  });
}

const BACKWARD: AttentionParams = { batch: 1, tLen: 7, sLen: 7, heads: 4, kvHeads: 2, headDim: 8, causal: true, hasMask: true };
const BACKWARD_LABEL = 'causal, GQA 4:2, masked, T=7 D=8';

const backwardQ = kernelCase({
  kernel: 'attentionBackwardQ',
  label: BACKWARD_LABEL,
  tolerance: tolerance('f32AttentionGrad'),
  seed: 12,
  params: BACKWARD,
  build: (rng) => {
    const o = attentionOperands(BACKWARD, rng);
    return { inputs: hostOperands(o), outputs: [{ shape: qShape(o.p) }, { shape: [1, o.p.tLen, o.p.heads, 2] }] };
  },
  // The saved (logsumexp, delta) are checked through attention-backward-kv, which reads them.
  reference: (ins) => [attentionBackwardRef(input(ins, 0), input(ins, 1), input(ins, 2), input(ins, 3), input(ins, 4), resolveAttention(BACKWARD)).dq, null],
});

/** dK and dV read the statistics dQ saved, so the case runs attention-backward-q first. */
const backwardKv: CheckCase = {
  kernel: 'attentionBackwardKv',
  label: BACKWARD_LABEL,
  tolerance: tolerance('f32AttentionGrad'),
  seed: 13,
  async run(rt, rng) {
    const o = attentionOperands(BACKWARD, rng);
    const { p } = o;
    const ins = hostOperands(o).map((t, i) => rt.upload(t.data, t.shape, `attention-backward.in${i}`));
    const dq = poisoned(rt, qShape(p), 'attention-backward-q.dq');
    const stats = poisoned(rt, [p.batch, p.tLen, p.heads, 2], 'attention-backward-q.stats');
    const dk = poisoned(rt, kvShape(p), 'attention-backward-kv.dk');
    const dv = poisoned(rt, kvShape(p), 'attention-backward-kv.dv');
    try {
      rt.run(kernels.attentionBackwardQ, ins, [dq, stats], BACKWARD);
      rt.run(kernels.attentionBackwardKv, [...ins, stats], [dk, dv], BACKWARD);
      const want = attentionBackwardRef(o.q, o.k, o.v, o.mask, o.dout, p);
      return worstOf([worstElement(await rt.readF32(dk), want.dk), worstElement(await rt.readF32(dv), want.dv)]);
    } finally {
      for (const t of [...ins, dq, stats, dk, dv]) rt.release(t);
    }
  },
};

export const ATTENTION_CASES = {
  attention: [
    forwardCase('prefill: causal, GQA 6:2, masked', { batch: 2, tLen: 9, sLen: 9, heads: 6, kvHeads: 2, headDim: 16, causal: true, hasMask: true }, 11),
    forwardCase(
      'decode over a cache of 64 (split keys)',
      { batch: 1, tLen: 1, sLen: 37, sCap: 64, heads: 4, kvHeads: 2, headDim: 32, causal: true, hasMask: false, variant: 'split' },
      11,
    ),
    forwardCase('bidirectional (vision)', { batch: 1, tLen: 20, sLen: 20, heads: 4, kvHeads: 4, headDim: 12, causal: false, hasMask: false }, 11),
  ],
  attentionBackwardQ: [backwardQ],
  attentionBackwardKv: [backwardKv],
} satisfies Record<string, CheckCase[]>;
