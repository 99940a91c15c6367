import body from './attention.wgsl?raw';
import tileBody from './attention-tile.wgsl?raw';
import { KernelInputError } from '../errors';
import { dispatch1d, type KernelContext, type KernelSpec } from '../kernel';
import { numel, type Tensor } from '../tensor';
import { wgslModule } from './wgsl-module';

/** Head size limit of the private accumulators (D_MAX in preludes/attention-common.wgsl). */
export const ATTENTION_MAX_HEAD_DIM = 128;
/** Fewer query rows than this cannot keep the device busy one invocation each. */
const SPLIT_BELOW_ROWS = 64;
// attention-tile.wgsl holds one more entry point of the same module (its bindings and params are attention.wgsl's).
const wgsl = wgslModule({ preludes: ['attention-common'] }, `${body}\n${tileBody}`);
const ENTRY_POINTS: Record<AttentionVariant, string> = { rows: 'attend_rows', block4: 'attend_block4', tile16: 'attend_tile16', split: 'attend_split' };
/** Queries per invocation of the blocked variants. */
const QUERIES_PER_INVOCATION: Record<AttentionVariant, number> = { rows: 1, block4: 4, tile16: 16, split: 1 };
/** attend_tile16 writes its loop over the head size out for this many lanes. */
export const TILE16_MAX_HEAD_DIM = 64;
/**
 * SwiftShader takes seconds (tens on a loaded machine) to compile tile16's
 * written-out loops, repaid only by long runs of queries (a vision tower's
 * patches, a prompt with images); shorter ones keep block4.
 */
const TILE16_MIN_QUERIES = 256;

export type AttentionVariant = 'rows' | 'block4' | 'tile16' | 'split';

export interface AttentionParams {
  batch: number;
  /** Query rows T. */
  tLen: number;
  /** Valid key rows S (the cache length after appending). */
  sLen: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Key/value buffer capacity in rows; defaults to sLen (no cache). */
  sCap?: number;
  /** Absolute position of query 0; defaults to sLen - tLen (queries are the last T keys). */
  qOffset?: number;
  causal: boolean;
  /** Use input 3 as a key-padding mask [B, sCap] (non-zero = attend). */
  hasMask: boolean;
  /** Defaults to 1 / sqrt(headDim). */
  scale?: number;
  variant?: AttentionVariant;
}

/** Variants whose pipelines fix the head size (HEAD_DIM override): they need D % 4 == 0. */
function headDimBaked(variant: AttentionVariant): boolean {
  return variant === 'block4' || variant === 'tile16';
}

/** ROWS_WG in attention.wgsl: SwiftShader runs a workgroup on one thread, so many small ones spread over the cores. */
export function rowsWorkgroup(ctx: KernelContext): number {
  return ctx.cpuEmulated ? 8 : 64;
}

export interface ResolvedAttention extends Required<AttentionParams> {
  rows: number;
}

/**
 * The variant for a shape on a device: split when there are too few rows to
 * fill it one invocation each (decode), tile16 on CPU-emulated adapters for
 * long query runs (see attention-tile.wgsl), block4 otherwise, rows when the
 * head size is not a multiple of 4.
 */
export function pickAttentionVariant(rows: number, tLen: number, headDim: number, ctx?: Pick<KernelContext, 'cpuEmulated'>): AttentionVariant {
  if (rows < SPLIT_BELOW_ROWS) return 'split';
  if (headDim % 4 !== 0) return 'rows';
  return ctx?.cpuEmulated && headDim <= TILE16_MAX_HEAD_DIM && tLen >= TILE16_MIN_QUERIES ? 'tile16' : 'block4';
}

/** Defaults filled in; the variant is picked for ctx's device when given (block4 stands in for tile16 without one). */
export function resolveAttention(p: AttentionParams, ctx?: Pick<KernelContext, 'cpuEmulated'>): ResolvedAttention {
  const sCap = p.sCap ?? p.sLen;
  const rows = p.batch * p.tLen * p.heads;
  return {
    ...p,
    sCap,
    qOffset: p.qOffset ?? p.sLen - p.tLen,
    scale: p.scale ?? 1 / Math.sqrt(p.headDim),
    variant: p.variant ?? pickAttentionVariant(rows, p.tLen, p.headDim, ctx),
    rows,
  };
}

/** Shared shape checks of the forward and backward attention kernels. */
export function validateAttention(kernel: string, q: Tensor, k: Tensor, v: Tensor, mask: Tensor, p: ResolvedAttention): void {
  const shapes = [q.shape, k.shape, v.shape, mask.shape];
  const fail = (why: string): never => {
    throw new KernelInputError(kernel, why, shapes);
  };
  for (const t of [q, k, v]) if (t.dtype !== 'f32') fail(`${t.label} has dtype ${t.dtype}, expected f32`);
  if (mask.dtype !== 'i32') fail(`mask has dtype ${mask.dtype}, expected i32`);
  if (p.headDim < 1 || p.headDim > ATTENTION_MAX_HEAD_DIM) fail(`head size ${p.headDim} is outside 1..${ATTENTION_MAX_HEAD_DIM}`);
  if (p.kvHeads < 1 || p.heads % p.kvHeads !== 0) fail(`${p.heads} heads do not split into ${p.kvHeads} key/value heads`);
  if (headDimBaked(p.variant) && p.headDim % 4 !== 0) fail(`the ${p.variant} variant needs a head size divisible by 4, not ${p.headDim}`);
  if (p.variant === 'tile16' && p.headDim > TILE16_MAX_HEAD_DIM) fail(`the tile16 variant takes head sizes up to ${TILE16_MAX_HEAD_DIM}, not ${p.headDim}`);
  if (p.tLen < 1 || p.sLen < 1 || p.batch < 1) fail('batch, query and key lengths must be at least 1');
  if (p.sLen > p.sCap) fail(`${p.sLen} keys exceed the capacity ${p.sCap}`);
  if (p.causal && p.qOffset + p.tLen > p.sLen) fail(`causal queries at ${p.qOffset}..${p.qOffset + p.tLen - 1} run past the ${p.sLen} keys`);
  const want = (t: Tensor, shape: number[]) => {
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      fail(`${t.label} should be [${shape.join(',')}]`);
    }
  };
  want(q, [p.batch, p.tLen, p.heads, p.headDim]);
  want(k, [p.batch, p.sCap, p.kvHeads, p.headDim]);
  want(v, [p.batch, p.sCap, p.kvHeads, p.headDim]);
  if (p.hasMask) want(mask, [p.batch, p.sCap]);
}

/** The uniform block shared by attention.wgsl and attention-backward.wgsl. */
export function attentionUniforms(p: ResolvedAttention, rowStride: number): ArrayBuffer {
  const buf = new ArrayBuffer(48);
  const u = new Uint32Array(buf);
  u.set([p.batch, p.tLen, p.sLen, p.heads, p.kvHeads, p.headDim, p.sCap, p.qOffset, p.causal ? 1 : 0, p.hasMask ? 1 : 0, rowStride]);
  new Float32Array(buf)[11] = p.scale;
  return buf;
}

/** One run of a kernel over attention rows: the resolved params plus its workgroup grid. */
export interface AttentionRun extends ResolvedAttention {
  grid: [number, number, number];
  /** Invocations one workgroup row of the grid covers, for the shaders' flat row index. */
  rowStride: number;
}

function forwardRun(params: AttentionParams, ctx: KernelContext): AttentionRun {
  const p = resolveAttention(params, ctx);
  if (p.variant === 'split') {
    const grid = dispatch1d(p.rows, ctx);
    return { ...p, grid, rowStride: grid[0] };
  }
  const invocations = p.batch * p.heads * Math.ceil(p.tLen / QUERIES_PER_INVOCATION[p.variant]);
  const grid = dispatch1d(Math.ceil(invocations / rowsWorkgroup(ctx)), ctx);
  return { ...p, grid, rowStride: grid[0] * rowsWorkgroup(ctx) };
}

/** Inputs: q, k, v, mask (any i32 tensor when hasMask is false). Output: o [B, T, H, D]. */
export const attention: KernelSpec<AttentionParams, AttentionRun> = {
  name: 'attention',
  wgsl,
  resolve: forwardRun,
  validate(inputs, outputs, p) {
    const [q, k, v, mask] = inputs;
    const [o] = outputs;
    if (!q || !k || !v || !mask || !o || inputs.length !== 4 || outputs.length !== 1) {
      throw new KernelInputError('attention', 'expects inputs q, k, v, mask and output o', [...inputs, ...outputs].map((t) => t.shape));
    }
    validateAttention('attention', q, k, v, mask, p);
    if (o.dtype !== 'f32' || numel(o.shape) !== numel(q.shape)) {
      throw new KernelInputError('attention', 'output must be f32 shaped like q', [q.shape, o.shape]);
    }
  },
  entryPoint: (p) => ENTRY_POINTS[p.variant],
  // block4 and tile16 bake the head size into their loops; every variant but split takes its workgroup size from the adapter.
  pipelineKey: (p, ctx) => {
    const wg = p.variant === 'split' ? '' : `.wg${rowsWorkgroup(ctx)}`;
    return headDimBaked(p.variant) ? `attention.${p.variant}.d${p.headDim}${wg}` : `attention.${p.variant}${wg}`;
  },
  constants: (p, ctx): Record<string, number> => {
    if (p.variant === 'split') return {};
    return headDimBaked(p.variant) ? { HEAD_DIM: p.headDim, ROWS_WG: rowsWorkgroup(ctx) } : { ROWS_WG: rowsWorkgroup(ctx) };
  },
  uniforms: (p) => attentionUniforms(p, p.rowStride),
  dispatch: (p) => p.grid,
};
