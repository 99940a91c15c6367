import wgsl from './layer-norm.wgsl?raw';
import { dispatch1d, type KernelSpec } from '../kernel';
import { checkEps, normUniforms as uniforms, perRow, type NormParams } from './norm-params';
import { expectSignature } from './signature';

/** LayerNorm over the last dim; see NormParams. */
export type LayerNormParams = NormParams;

const WORKGROUP = 64;

/** y [N, C] = LayerNorm(x [N, C]) * weight [C] + bias [C]; inputs (x, weight, bias). */
export const layerNorm: KernelSpec<LayerNormParams> = {
  name: 'layer-norm',
  wgsl,
  validate(inputs, outputs, p) {
    expectSignature('layer-norm', inputs, outputs, {
      inputs: [
        { name: 'x', dtype: 'f32', shape: [p.rows, p.cols] },
        { name: 'weight', dtype: 'f32', shape: [p.cols] },
        { name: 'bias', dtype: 'f32', shape: [p.cols] },
      ],
      outputs: [{ name: 'y', dtype: 'f32', shape: [p.rows, p.cols] }],
    });
    checkEps('layer-norm', p, inputs);
  },
  entryPoint: () => 'forward',
  pipelineKey: () => 'layer-norm.forward',
  uniforms,
  dispatch: perRow,
};

/**
 * dx [N, C] and stats [N, 2] (mean, rstd per row) from (x, weight, dy). The
 * stats feed layerNormParamGrad, which runs after this in the same step.
 */
export const layerNormBackward: KernelSpec<LayerNormParams> = {
  name: 'layer-norm-backward',
  wgsl,
  validate(inputs, outputs, p) {
    expectSignature('layer-norm-backward', inputs, outputs, {
      inputs: [
        { name: 'x', dtype: 'f32', shape: [p.rows, p.cols] },
        { name: 'weight', dtype: 'f32', shape: [p.cols] },
        { name: 'dy', dtype: 'f32', shape: [p.rows, p.cols] },
      ],
      outputs: [
        { name: 'dx', dtype: 'f32', shape: [p.rows, p.cols] },
        { name: 'stats', dtype: 'f32', shape: [p.rows, 2] },
      ],
    });
    checkEps('layer-norm-backward', p, inputs);
  },
  entryPoint: () => 'backward_input',
  pipelineKey: () => 'layer-norm.backward_input',
  uniforms,
  dispatch: perRow,
};

/** dweight [C] and dbias [C] (overwritten), summed over rows; inputs (x, dy, stats). */
export const layerNormParamGrad: KernelSpec<LayerNormParams> = {
  name: 'layer-norm-param-grad',
  wgsl,
  validate(inputs, outputs, p) {
    expectSignature('layer-norm-param-grad', inputs, outputs, {
      inputs: [
        { name: 'x', dtype: 'f32', shape: [p.rows, p.cols] },
        { name: 'dy', dtype: 'f32', shape: [p.rows, p.cols] },
        { name: 'stats', dtype: 'f32', shape: [p.rows, 2] },
      ],
      outputs: [
        { name: 'dweight', dtype: 'f32', shape: [p.cols] },
        { name: 'dbias', dtype: 'f32', shape: [p.cols] },
      ],
    });
  },
  entryPoint: () => 'backward_params',
  pipelineKey: () => 'layer-norm.backward_params',
  uniforms,
  dispatch: (p, ctx) => dispatch1d(Math.ceil(p.cols / WORKGROUP), ctx),
};
