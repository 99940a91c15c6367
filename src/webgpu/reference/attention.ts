/**
 * CPU twin of attention.wgsl and attention-backward.wgsl: the naive
 * materialised-softmax formulation, in f64. Layouts as the kernels:
 * q [B, T, H, D]; k, v [B, Scap, Hkv, D]; mask [B, Scap] or null.
 */
export interface AttentionShape {
  batch: number;
  tLen: number;
  sLen: number;
  sCap: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  qOffset: number;
  causal: boolean;
  scale: number;
}

type Arr = ArrayLike<number>;

/** Softmax weights of one query row over the visible keys (zeros where hidden). */
function rowWeights(q: Arr, k: Arr, mask: Arr | null, p: AttentionShape, b: number, t: number, h: number): Float64Array {
  const g = Math.floor(h / (p.heads / p.kvHeads));
  const qb = ((b * p.tLen + t) * p.heads + h) * p.headDim;
  const scores = new Float64Array(p.sLen).fill(-Infinity);
  for (let s = 0; s < p.sLen; s++) {
    if (p.causal && s > p.qOffset + t) continue;
    if (mask && (mask[b * p.sCap + s] as number) === 0) continue;
    const kb = ((b * p.sCap + s) * p.kvHeads + g) * p.headDim;
    let dot = 0;
    for (let d = 0; d < p.headDim; d++) dot += (q[qb + d] as number) * (k[kb + d] as number);
    scores[s] = dot * p.scale;
  }
  const max = Math.max(...scores);
  const w = new Float64Array(p.sLen);
  if (max === -Infinity) return w;
  let sum = 0;
  for (let s = 0; s < p.sLen; s++) sum += w[s] = Math.exp((scores[s] as number) - max);
  for (let s = 0; s < p.sLen; s++) w[s] = (w[s] as number) / sum;
  return w;
}

function forEachRow(p: AttentionShape, fn: (b: number, t: number, h: number, g: number, qb: number) => void): void {
  for (let b = 0; b < p.batch; b++)
    for (let t = 0; t < p.tLen; t++)
      for (let h = 0; h < p.heads; h++) {
        fn(b, t, h, Math.floor(h / (p.heads / p.kvHeads)), ((b * p.tLen + t) * p.heads + h) * p.headDim);
      }
}

const kvIndex = (p: AttentionShape, b: number, s: number, g: number) => ((b * p.sCap + s) * p.kvHeads + g) * p.headDim;

export function attentionRef(q: Arr, k: Arr, v: Arr, mask: Arr | null, p: AttentionShape): Float64Array {
  const o = new Float64Array(p.batch * p.tLen * p.heads * p.headDim);
  forEachRow(p, (b, t, h, g, qb) => {
    const w = rowWeights(q, k, mask, p, b, t, h);
    for (let s = 0; s < p.sLen; s++) {
      const ws = w[s] as number;
      if (ws === 0) continue;
      const vb = kvIndex(p, b, s, g);
      for (let d = 0; d < p.headDim; d++) o[qb + d] = (o[qb + d] as number) + ws * (v[vb + d] as number);
    }
  });
  return o;
}

export interface AttentionGrads {
  dq: Float64Array;
  dk: Float64Array;
  dv: Float64Array;
}

/** Gradients of sum(o * dout) with respect to q, k and v (dk, dv summed over each KV group). */
export function attentionBackwardRef(q: Arr, k: Arr, v: Arr, mask: Arr | null, dout: Arr, p: AttentionShape): AttentionGrads {
  const dq = new Float64Array(q.length);
  const dk = new Float64Array(k.length);
  const dv = new Float64Array(v.length);
  forEachRow(p, (b, t, h, g, qb) => {
    const w = rowWeights(q, k, mask, p, b, t, h);
    const dp = new Float64Array(p.sLen);
    let delta = 0;
    for (let s = 0; s < p.sLen; s++) {
      const vb = kvIndex(p, b, s, g);
      let dot = 0;
      for (let d = 0; d < p.headDim; d++) dot += (dout[qb + d] as number) * (v[vb + d] as number);
      dp[s] = dot;
      delta += (w[s] as number) * dot;
    }
    for (let s = 0; s < p.sLen; s++) {
      const ws = w[s] as number;
      if (ws === 0) continue;
      const ds = ws * ((dp[s] as number) - delta) * p.scale;
      const kb = kvIndex(p, b, s, g);
      for (let d = 0; d < p.headDim; d++) {
        dq[qb + d] = (dq[qb + d] as number) + ds * (k[kb + d] as number);
        dk[kb + d] = (dk[kb + d] as number) + ds * (q[qb + d] as number);
        dv[kb + d] = (dv[kb + d] as number) + ws * (dout[qb + d] as number);
      }
    }
  });
  return { dq, dk, dv };
}
