import body from './rms-norm.wgsl?raw';
import { checkEps, normUniforms, perChannel, type NormParams } from './norm-params';
import { f32, rowWiseSpec } from './row-wise';
import { wgslModule } from './wgsl-module';

/** RMSNorm over the last dim; see NormParams. */
export type RmsNormParams = NormParams;

const family = { wgsl: wgslModule({ preludes: ['row-norm', 'reductions'] }, body), uniforms: normUniforms };

/** y [N, C] = RMSNorm(x [N, C]) * weight [C]; inputs (x, weight). */
export const rmsNorm = rowWiseSpec<RmsNormParams>({
  ...family,
  name: 'rms-norm',
  entryPoint: 'forward',
  check: checkEps,
  operands: (p) => ({ inputs: [f32('x', p.rows, p.cols), f32('weight', p.cols)], outputs: [f32('y', p.rows, p.cols)] }),
});

/**
 * dx [N, C] and rstd [N] from (x, weight, dy). rstd feeds rmsNormWeightGrad,
 * which runs after this in the same step.
 */
export const rmsNormBackward = rowWiseSpec<RmsNormParams>({
  ...family,
  name: 'rms-norm-backward',
  entryPoint: 'backward_input',
  pipelineKey: 'rms-norm.backward_input',
  check: checkEps,
  operands: (p) => ({
    inputs: [f32('x', p.rows, p.cols), f32('weight', p.cols), f32('dy', p.rows, p.cols)],
    outputs: [f32('dx', p.rows, p.cols), f32('rstd', p.rows)],
  }),
});

/** dweight [C] (overwritten) = sum over rows of dy * x * rstd; inputs (x, dy, rstd). */
export const rmsNormWeightGrad = rowWiseSpec<RmsNormParams>({
  ...family,
  name: 'rms-norm-weight-grad',
  entryPoint: 'backward_weight',
  pipelineKey: 'rms-norm.backward_weight',
  operands: (p) => ({
    inputs: [f32('x', p.rows, p.cols), f32('dy', p.rows, p.cols), f32('rstd', p.rows)],
    outputs: [f32('dweight', p.cols)],
  }),
  dispatch: perChannel,
});
