import wgsl from './rms-norm.wgsl?raw';
import { dispatch1d, type KernelSpec } from '../kernel';
import { checkEps, normUniforms as uniforms, perRow, type NormParams } from './norm-params';
import { expectSignature } from './signature';

/** RMSNorm over the last dim; see NormParams. */
export type RmsNormParams = NormParams;

const WORKGROUP = 64;

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
