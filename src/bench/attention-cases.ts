/**
 * Attention benchmark rows: our fused kernel against ORT's attention contrib
 * ops. Rows with as many key/value heads as query heads run ORT's
 * MultiHeadAttention (bidirectional, as the vision towers run it); grouped-query
 * decode rows run ORT's GroupQueryAttention, the op ORT's own decoder exports
 * use, on the same cache: ORT gets the S-row cache as its past (BNSH, its
 * layout) plus the new token's key and value to write into its last row; ours
 * reads the S-row cache with the new row already appended.
 */
import { Rng } from '../data/random';
import { attention, type AttentionParams } from '../webgpu/kernels/attention';
import { attentionRef, type AttentionShape } from '../webgpu/reference/attention';
import type { GpuRuntime } from '../webgpu/runtime';
import type { BenchCase, Runner } from './bench-case';
import { createOrtOp, type OrtOp } from './ort-op';

interface AttnShape {
  tLen: number;
  sLen: number;
  heads: number;
  /** Defaults to heads (plain multi-head attention). */
  kvHeads?: number;
  headDim: number;
}

interface AttnData {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
}

/** Bidirectional for full-length rows (as ORT's MultiHeadAttention runs); a decode row's one query sees every key either way. */
function shapeOf(s: AttnShape): AttentionShape {
  const kvHeads = s.kvHeads ?? s.heads;
  return { batch: 1, tLen: s.tLen, sLen: s.sLen, sCap: s.sLen, heads: s.heads, kvHeads, headDim: s.headDim, qOffset: s.sLen - s.tLen, causal: false, scale: 1 / Math.sqrt(s.headDim) };
}

function ourAttention(rt: GpuRuntime, s: AttnShape, { q, k, v }: AttnData): Runner {
  const p = shapeOf(s);
  const params: AttentionParams = { batch: 1, tLen: p.tLen, sLen: p.sLen, heads: p.heads, kvHeads: p.kvHeads, headDim: p.headDim, causal: false, hasMask: false };
  const tq = rt.upload(q, [1, p.tLen, p.heads, p.headDim], 'bench.q');
  const tk = rt.upload(k, [1, p.sLen, p.kvHeads, p.headDim], 'bench.k');
  const tv = rt.upload(v, [1, p.sLen, p.kvHeads, p.headDim], 'bench.v');
  const mask = rt.upload(new Int32Array([1]), [1], 'bench.mask');
  const out = rt.empty([1, p.tLen, p.heads, p.headDim], 'f32', 'bench.o');
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

function ortMultiHead(s: AttnShape, { q, k, v }: AttnData): Promise<OrtOp> {
  const width = s.heads * s.headDim;
  return createOrtOp(
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
  );
}

/** A [S, Hkv, D] cache as ORT's BNSH [1, Hkv, S, D]. */
function toBnsh(x: Float32Array, rows: number, kvHeads: number, headDim: number): Float32Array {
  const out = new Float32Array(kvHeads * rows * headDim);
  for (let s = 0; s < rows; s++) {
    for (let g = 0; g < kvHeads; g++) {
      const src = (s * kvHeads + g) * headDim;
      out.set(x.subarray(src, src + headDim), (g * rows + s) * headDim);
    }
  }
  return out;
}

/**
 * One decode step of GroupQueryAttention with its past and present sharing one
 * S-row buffer, as ORT's generation loops run it: the past holds the cache
 * (BNSH, ORT's layout; its last row is overwritten by this step's key and
 * value), seqlens_k says S - 1 rows were there before.
 */
function ortGroupQuery(s: AttnShape, { q, k, v }: AttnData): Promise<OrtOp> {
  const p = shapeOf(s);
  const kvWidth = p.kvHeads * p.headDim;
  const cache = [1, p.kvHeads, p.sLen, p.headDim];
  const newRows = (x: Float32Array) => x.subarray((p.sLen - p.tLen) * kvWidth);
  return createOrtOp(
    {
      opType: 'GroupQueryAttention',
      domain: 'com.microsoft',
      inputs: [
        { name: 'query', type: 'float', shape: [1, p.tLen, p.heads * p.headDim] },
        { name: 'key', type: 'float', shape: [1, p.tLen, kvWidth] },
        { name: 'value', type: 'float', shape: [1, p.tLen, kvWidth] },
        { name: 'past_key', type: 'float', shape: cache },
        { name: 'past_value', type: 'float', shape: cache },
        { name: 'seqlens_k', type: 'int32', shape: [1] },
        { name: 'total_sequence_length', type: 'int32', shape: [1] },
      ],
      outputs: [
        { name: 'output', type: 'float', shape: [1, p.tLen, p.heads * p.headDim] },
        { name: 'present_key', type: 'float', shape: cache },
        { name: 'present_value', type: 'float', shape: cache },
      ],
      attributes: { num_heads: p.heads, kv_num_heads: p.kvHeads },
    },
    {
      query: q,
      key: newRows(k),
      value: newRows(v),
      past_key: toBnsh(k, p.sLen, p.kvHeads, p.headDim),
      past_value: toBnsh(v, p.sLen, p.kvHeads, p.headDim),
      // ORT's convention: the total key count minus one.
      seqlens_k: new Int32Array([p.sLen - 1]),
      total_sequence_length: new Int32Array([p.sLen]),
    },
  );
}

function attentionCase(name: string, s: AttnShape): BenchCase {
  const p = shapeOf(s);
  const rng = new Rng(s.tLen * 31 + s.sLen + p.kvHeads);
  const data: AttnData = {
    q: rng.floats(p.tLen * p.heads * p.headDim),
    k: rng.floats(p.sLen * p.kvHeads * p.headDim),
    v: rng.floats(p.sLen * p.kvHeads * p.headDim),
  };
  const gqa = p.kvHeads !== p.heads;
  return {
    op: 'attention',
    shape: `${name} T=${s.tLen} S=${s.sLen} H=${s.heads}${gqa ? ` KV=${p.kvHeads}` : ''} D=${s.headDim}`,
    // Two matmuls of T x S x D per head (scores and weighted values).
    flops: 4 * s.heads * s.tLen * s.sLen * s.headDim,
    ours: (rt) => ourAttention(rt, s, data),
    reference: () => attentionRef(data.q, data.k, data.v, null, p),
    ort: () => (gqa ? ortGroupQuery(s, data) : ortMultiHead(s, data)),
  };
}

export const ATTENTION_CASES: BenchCase[] = [
  attentionCase('vision', { tLen: 64, sLen: 64, heads: 4, headDim: 32 }),
  attentionCase('prefill', { tLen: 128, sLen: 128, heads: 8, headDim: 64 }),
  attentionCase('decode', { tLen: 1, sLen: 512, heads: 8, headDim: 64 }),
];

/** SmolVLM's real shapes: the SigLIP tower's prefill over a 512-pixel tile (32x32 patches) and SmolLM2's decode step at a 1024-token cache. */
export const SMOLVLM_ATTENTION_CASES: BenchCase[] = [
  attentionCase('siglip prefill', { tLen: 1024, sLen: 1024, heads: 12, headDim: 64 }),
  attentionCase('smollm2 decode', { tLen: 1, sLen: 1024, heads: 9, kvHeads: 3, headDim: 64 }),
];
