import wgsl from './top-k.wgsl?raw';
import { dispatch1d, type KernelSpec } from '../kernel';
import { expectParam, expectSignature } from './signature';

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
export const topK: KernelSpec<TopKParams> = {
  name: 'top-k',
  wgsl,
  validate(inputs, outputs, p) {
    const tensors = [...inputs, ...outputs];
    const kOk = Number.isInteger(p.k) && p.k >= 1 && p.k <= Math.min(TOP_K_MAX, p.vocab);
    expectParam('top-k', kOk, `k ${p.k} must be in [1, min(${TOP_K_MAX}, V = ${p.vocab})]`, tensors);
    expectSignature('top-k', inputs, outputs, {
      inputs: [{ name: 'x', dtype: 'f32', shape: [p.rows, p.vocab] }],
      outputs: [
        { name: 'values', dtype: 'f32', shape: [p.rows, p.k] },
        { name: 'indices', dtype: 'i32', shape: [p.rows, p.k] },
      ],
    });
  },
  entryPoint: () => 'top_k',
  pipelineKey: () => 'top-k.f32',
  uniforms(p, ctx) {
    const [x] = dispatch1d(p.rows, ctx);
    return new Uint32Array([p.rows, p.vocab, p.k, x]).buffer;
  },
  dispatch: (p, ctx) => dispatch1d(p.rows, ctx),
};
