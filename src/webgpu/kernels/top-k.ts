import body from './top-k.wgsl?raw';
import { dispatch1d } from '../kernel';
import { f32, i32, rowWiseSpec } from './row-wise';
import { expectParam } from './signature';
import { wgslModule } from './wgsl-module';

/** Largest k the shader's per-invocation lists hold. */
export const TOP_K_MAX = 64;

export interface TopKParams {
  /** N: rows. */
  rows: number;
  /** V: values per row. */
  vocab: number;
  /** How many to keep per row; 1 <= k <= min(TOP_K_MAX, V). */
  k: number;
}

/**
 * values [N, k] f32 and indices [N, k] i32: each row of x [N, V] ranked by
 * value descending, lower index first on ties, cut to the first k.
 */
export const topK = rowWiseSpec<TopKParams>({
  name: 'top-k',
  wgsl: wgslModule({ preludes: ['ranking'] }, body),
  entryPoint: 'top_k',
  pipelineKey: 'top-k.f32',
  check(kernel, p, tensors) {
    const kOk = Number.isInteger(p.k) && p.k >= 1 && p.k <= Math.min(TOP_K_MAX, p.vocab);
    expectParam(kernel, kOk, `k ${p.k} must be in [1, min(${TOP_K_MAX}, V = ${p.vocab})]`, tensors);
  },
  operands: (p) => ({ inputs: [f32('x', p.rows, p.vocab)], outputs: [f32('values', p.rows, p.k), i32('indices', p.rows, p.k)] }),
  uniforms(p, ctx) {
    const [x] = dispatch1d(p.rows, ctx);
    return new Uint32Array([p.rows, p.vocab, p.k, x]).buffer;
  },
});
