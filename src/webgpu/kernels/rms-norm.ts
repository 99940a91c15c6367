import wgsl from './rms-norm.wgsl?raw';
import { dispatch1d, type KernelContext, type KernelSpec } from '../kernel';
import type { Tensor } from '../tensor';
import { expectParam, expectSignature } from './signature';

export interface RmsNormParams {
  /** N: rows normalized independently (B * T for activations). */
  rows: number;
  /** C: the normalized last dim. */
  cols: number;
  /** Added to mean(x^2) before the square root (HF rms_norm_eps). */
  eps: number;
}

const WORKGROUP = 64;

function uniforms(p: RmsNormParams): ArrayBuffer {
  const data = new ArrayBuffer(12);
  new Uint32Array(data, 0, 2).set([p.rows, p.cols]);
  new Float32Array(data, 8, 1)[0] = p.eps;
  return data;
}

function checkEps(kernel: string, p: RmsNormParams, inputs: readonly Tensor[]): void {
  expectParam(kernel, Number.isFinite(p.eps) && p.eps >= 0, `eps must be a finite number >= 0, got ${p.eps}`, inputs);
}

/** One workgroup per row. */
const perRow = (p: RmsNormParams, ctx: KernelContext) => dispatch1d(p.rows, ctx);

/** y [N, C] = RMSNorm(x [N, C]) * weight [C]; inputs (x, weight). */
export const rmsNorm: KernelSpec<RmsNormParams> = {
  name: 'rms-norm',
  wgsl,
  validate(inputs, outputs, p) {
    expectSignature('rms-norm', inputs, outputs, {
      inputs: [
        { name: 'x', dtype: 'f32', shape: [p.rows, p.cols] },
        { name: 'weight', dtype: 'f32', shape: [p.cols] },
      ],
      outputs: [{ name: 'y', dtype: 'f32', shape: [p.rows, p.cols] }],
    });
    checkEps('rms-norm', p, inputs);
  },
  entryPoint: () => 'forward',
  pipelineKey: () => 'rms-norm.forward',
  uniforms,
  dispatch: perRow,
};

/**
 * dx [N, C] and rstd [N] from (x, weight, dy). rstd feeds rmsNormWeightGrad,
 * which runs after this in the same step.
 */
export const rmsNormBackward: KernelSpec<RmsNormParams> = {
  name: 'rms-norm-backward',
  wgsl,
  validate(inputs, outputs, p) {
    expectSignature('rms-norm-backward', inputs, outputs, {
      inputs: [
        { name: 'x', dtype: 'f32', shape: [p.rows, p.cols] },
        { name: 'weight', dtype: 'f32', shape: [p.cols] },
        { name: 'dy', dtype: 'f32', shape: [p.rows, p.cols] },
      ],
      outputs: [
        { name: 'dx', dtype: 'f32', shape: [p.rows, p.cols] },
        { name: 'rstd', dtype: 'f32', shape: [p.rows] },
      ],
    });
    checkEps('rms-norm-backward', p, inputs);
  },
  entryPoint: () => 'backward_input',
  pipelineKey: () => 'rms-norm.backward_input',
  uniforms,
  dispatch: perRow,
};

/** dweight [C] (overwritten) = sum over rows of dy * x * rstd; inputs (x, dy, rstd). */
export const rmsNormWeightGrad: KernelSpec<RmsNormParams> = {
  name: 'rms-norm-weight-grad',
  wgsl,
  validate(inputs, outputs, p) {
    expectSignature('rms-norm-weight-grad', inputs, outputs, {
      inputs: [
        { name: 'x', dtype: 'f32', shape: [p.rows, p.cols] },
        { name: 'dy', dtype: 'f32', shape: [p.rows, p.cols] },
        { name: 'rstd', dtype: 'f32', shape: [p.rows] },
      ],
      outputs: [{ name: 'dweight', dtype: 'f32', shape: [p.cols] }],
    });
  },
  entryPoint: () => 'backward_weight',
  pipelineKey: () => 'rms-norm.backward_weight',
  uniforms,
  dispatch: (p, ctx) => dispatch1d(Math.ceil(p.cols / WORKGROUP), ctx),
};
