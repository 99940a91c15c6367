/** What the row-normalisation kernels (rms-norm, layer-norm) share: params, uniforms, checks, grids. */
import { dispatch1d, type KernelContext } from '../kernel';
import type { Tensor } from '../tensor';
import { expectParam } from './signature';

export interface NormParams {
  /** N: rows normalized independently (B * T for activations). */
  rows: number;
  /** C: the normalized last dim. */
  cols: number;
  /** Added under the square root (HF rms_norm_eps / layer_norm_eps). */
  eps: number;
}

/** Workgroup size (WG) of rms-norm.wgsl and layer-norm.wgsl. */
const WORKGROUP = 64;

/** Uniform block {rows: u32, cols: u32, eps: f32} of rms-norm.wgsl and layer-norm.wgsl. */
export function normUniforms(p: NormParams): ArrayBuffer {
  const data = new ArrayBuffer(12);
  new Uint32Array(data, 0, 2).set([p.rows, p.cols]);
  new Float32Array(data, 8, 1)[0] = p.eps;
  return data;
}

export function checkEps(kernel: string, p: NormParams, tensors: readonly Tensor[]): void {
  expectParam(kernel, Number.isFinite(p.eps) && p.eps >= 0, `eps must be a finite number >= 0, got ${p.eps}`, tensors);
}

/** The parameter gradients run one invocation per channel, summing over rows. */
export const perChannel = (p: NormParams, ctx: KernelContext) => dispatch1d(Math.ceil(p.cols / WORKGROUP), ctx);
