/** Attention benchmark rows: our fused kernel against ORT's MultiHeadAttention contrib op. */
import { Rng } from '../data/random';
import { attention, type AttentionParams } from '../webgpu/kernels/attention';
import { attentionRef } from '../webgpu/reference/attention';
import type { GpuRuntime } from '../webgpu/runtime';
import type { BenchCase, Runner } from './bench-case';
import { createOrtOp } from './ort-op';

interface AttnShape {
  tLen: number;
  sLen: number;
  heads: number;
  headDim: number;
}

function ourAttention(rt: GpuRuntime, s: AttnShape, q: Float32Array, k: Float32Array, v: Float32Array): Runner {
  // ORT's MultiHeadAttention here is bidirectional, so ours runs bidirectional too.
  const params: AttentionParams = { batch: 1, tLen: s.tLen, sLen: s.sLen, heads: s.heads, kvHeads: s.heads, headDim: s.headDim, causal: false, hasMask: false };
  const tq = rt.upload(q, [1, s.tLen, s.heads, s.headDim], 'bench.q');
  const tk = rt.upload(k, [1, s.sLen, s.heads, s.headDim], 'bench.k');
  const tv = rt.upload(v, [1, s.sLen, s.heads, s.headDim], 'bench.v');
  const mask = rt.upload(new Int32Array([1]), [1], 'bench.mask');
  const out = rt.empty([1, s.tLen, s.heads, s.headDim], 'f32', 'bench.o');
  return {
    async run() {
      rt.run(attention, [tq, tk, tv, mask], [out], params);
      rt.submit();
      await rt.device.queue.onSubmittedWorkDone();
    },
    output: () => rt.readF32(out),
    release() {
      for (const t of [tq, tk, tv, mask, out]) rt.release(t);
    },
  };
}

function attentionCase(name: string, s: AttnShape): BenchCase {
  const rng = new Rng(s.tLen * 31 + s.sLen);
  const width = s.heads * s.headDim;
  const q = rng.floats(s.tLen * width);
  const k = rng.floats(s.sLen * width);
  const v = rng.floats(s.sLen * width);
  return {
    op: 'attention',
    shape: `${name} T=${s.tLen} S=${s.sLen} H=${s.heads} D=${s.headDim}`,
    // Two matmuls of T x S x D per head (scores and weighted values).
    flops: 4 * s.heads * s.tLen * s.sLen * s.headDim,
    ours: (rt) => ourAttention(rt, s, q, k, v),
    reference: () =>
      attentionRef(q, k, v, null, { batch: 1, tLen: s.tLen, sLen: s.sLen, sCap: s.sLen, heads: s.heads, kvHeads: s.heads, headDim: s.headDim, qOffset: 0, causal: false, scale: 1 / Math.sqrt(s.headDim) }),
    ort: () =>
      createOrtOp(
        {
          opType: 'MultiHeadAttention',
          domain: 'com.microsoft',
          inputs: [
            { name: 'query', type: 'float', shape: [1, s.tLen, width] },
            { name: 'key', type: 'float', shape: [1, s.sLen, width] },
            { name: 'value', type: 'float', shape: [1, s.sLen, width] },
          ],
          outputs: [{ name: 'output', type: 'float', shape: [1, s.tLen, width] }],
          attributes: { num_heads: s.heads },
        },
        { query: q, key: k, value: v },
      ),
  };
}

export const ATTENTION_CASES: BenchCase[] = [
  attentionCase('vision', { tLen: 64, sLen: 64, heads: 4, headDim: 32 }),
  attentionCase('prefill', { tLen: 128, sLen: 128, heads: 8, headDim: 64 }),
  attentionCase('decode', { tLen: 1, sLen: 512, heads: 8, headDim: 64 }),
];
