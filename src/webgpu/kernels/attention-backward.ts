import body from './attention-backward.wgsl?raw';
import { KernelInputError } from '../errors';
import { dispatch1d, type KernelContext, type KernelSpec } from '../kernel';
import {
  attentionUniforms,
  resolveAttention,
  validateAttention,
  type AttentionParams,
  type AttentionRun,
  type ResolvedAttention,
} from './attention';
import type { Tensor } from '../tensor';
import { wgslModule } from './wgsl-module';

const wgsl = wgslModule({ preludes: ['attention-common'] }, body);
const WORKGROUP = 64;

function sameShape(a: Tensor, b: Tensor): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

const kvRows = (p: ResolvedAttention) => p.batch * p.sCap * p.kvHeads;

/** One invocation per row of the given count: B*T*H query rows or B*S_cap*Hkv key rows. */
function backwardRun(params: AttentionParams, ctx: KernelContext, rows: (p: ResolvedAttention) => number): AttentionRun {
  const p = resolveAttention(params);
  const grid = dispatch1d(Math.ceil(rows(p) / WORKGROUP), ctx);
  return { ...p, grid, rowStride: grid[0] * WORKGROUP };
}

/**
 * First half of the attention backward: dq and per-row (logsumexp, delta).
 * Inputs: q, k, v, mask, dout. Outputs: dq [B, T, H, D], stats [B, T, H, 2].
 */
export const attentionBackwardQ: KernelSpec<AttentionParams, AttentionRun> = {
  name: 'attention-backward',
  wgsl,
  resolve: (params, ctx) => backwardRun(params, ctx, (p) => p.rows),
  validate(inputs, outputs, p) {
    const [q, k, v, mask, dout] = inputs;
    const [dq, stats] = outputs;
    const shapes = [...inputs, ...outputs].map((t) => t.shape);
    if (!q || !k || !v || !mask || !dout || !dq || !stats || inputs.length !== 5 || outputs.length !== 2) {
      throw new KernelInputError('attention-backward.q', 'expects inputs q, k, v, mask, dout and outputs dq, stats', shapes);
    }
    validateAttention('attention-backward.q', q, k, v, mask, p);
    if (!sameShape(dout, q) || !sameShape(dq, q)) throw new KernelInputError('attention-backward.q', 'dout and dq must be shaped like q', shapes);
    if (stats.shape.join() !== [p.batch, p.tLen, p.heads, 2].join()) {
      throw new KernelInputError('attention-backward.q', 'stats must be [B, T, H, 2]', shapes);
    }
  },
  entryPoint: () => 'backward_q',
  pipelineKey: () => 'attention-backward.q',
  uniforms: (p) => attentionUniforms(p, p.rowStride),
  dispatch: (p) => p.grid,
};

/**
 * Second half: dk and dv, summed over the query heads of each KV group.
 * Inputs: q, k, v, mask, dout, stats (from attentionBackwardQ). Outputs: dk, dv [B, S_cap, Hkv, D].
 */
export const attentionBackwardKv: KernelSpec<AttentionParams, AttentionRun> = {
  name: 'attention-backward',
  wgsl,
  resolve: (params, ctx) => backwardRun(params, ctx, kvRows),
  validate(inputs, outputs, p) {
    const [q, k, v, mask, dout, stats] = inputs;
    const [dk, dv] = outputs;
    const shapes = [...inputs, ...outputs].map((t) => t.shape);
    if (!q || !k || !v || !mask || !dout || !stats || !dk || !dv || inputs.length !== 6 || outputs.length !== 2) {
      throw new KernelInputError('attention-backward.kv', 'expects inputs q, k, v, mask, dout, stats and outputs dk, dv', shapes);
    }
    validateAttention('attention-backward.kv', q, k, v, mask, p);
    if (!sameShape(dout, q) || !sameShape(dk, k) || !sameShape(dv, v)) {
      throw new KernelInputError('attention-backward.kv', 'dout must be shaped like q, dk like k and dv like v', shapes);
    }
    if (stats.shape.join() !== [p.batch, p.tLen, p.heads, 2].join()) {
      throw new KernelInputError('attention-backward.kv', 'stats must be [B, T, H, 2]', shapes);
    }
  },
  entryPoint: () => 'backward_kv',
  pipelineKey: () => 'attention-backward.kv',
  uniforms: (p) => attentionUniforms(p, p.rowStride),
  dispatch: (p) => p.grid,
};
