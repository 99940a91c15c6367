import body from './layer-norm.wgsl?raw';
import { checkEps, normUniforms, perChannel, type NormParams } from './norm-params';
import { f32, rowWiseSpec } from './row-wise';
import { wgslModule } from './wgsl-module';

/** LayerNorm over the last dim; see NormParams. */
export type LayerNormParams = NormParams;

const family = { wgsl: wgslModule({ preludes: ['row-norm', 'reductions'] }, body), uniforms: normUniforms };

/** y [N, C] = LayerNorm(x [N, C]) * weight [C] + bias [C]; inputs (x, weight, bias). */
export const layerNorm = rowWiseSpec<LayerNormParams>({
  ...family,
  name: 'layer-norm',
  entryPoint: 'forward',
  check: checkEps,
  operands: (p) => ({
    inputs: [f32('x', p.rows, p.cols), f32('weight', p.cols), f32('bias', p.cols)],
    outputs: [f32('y', p.rows, p.cols)],
  }),
});

/**
 * dx [N, C] and stats [N, 2] (mean, rstd per row) from (x, weight, dy). The
 * stats feed layerNormParamGrad, which runs after this in the same step.
 */
export const layerNormBackward = rowWiseSpec<LayerNormParams>({
  ...family,
  name: 'layer-norm-backward',
  entryPoint: 'backward_input',
  pipelineKey: 'layer-norm.backward_input',
  check: checkEps,
  operands: (p) => ({
    inputs: [f32('x', p.rows, p.cols), f32('weight', p.cols), f32('dy', p.rows, p.cols)],
    outputs: [f32('dx', p.rows, p.cols), f32('stats', p.rows, 2)],
  }),
});

/** dweight [C] and dbias [C] (overwritten), summed over rows; inputs (x, dy, stats). */
export const layerNormParamGrad = rowWiseSpec<LayerNormParams>({
  ...family,
  name: 'layer-norm-param-grad',
  entryPoint: 'backward_params',
  pipelineKey: 'layer-norm.backward_params',
  operands: (p) => ({
    inputs: [f32('x', p.rows, p.cols), f32('dy', p.rows, p.cols), f32('stats', p.rows, 2)],
    outputs: [f32('dweight', p.cols), f32('dbias', p.cols)],
  }),
  dispatch: perChannel,
});
