import wgsl from './matmul.wgsl?raw';
import type { KernelSpec } from '../kernel';
import {
  matmulConstants,
  matmulDispatch,
  matmulKey,
  matmulUniforms,
  validateF32Matmul,
  type MatmulParams,
} from './matmul-params';

export { matmulInputs, type MatmulEpilogue, type MatmulParams, type MatmulVariant } from './matmul-params';

/**
 * Y = epilogue(X W^T + bias) in f32 for any K; inputs from matmulInputs(x, [w], {bias, residual}).
 * Variants: blocked (register tiles, for CPU-emulated devices), tiled (shared memory, for GPUs), matvec.
 */
export const matmul: KernelSpec<MatmulParams> = {
  name: 'matmul',
  wgsl,
  validate: (inputs, outputs, p) => validateF32Matmul('matmul', inputs, outputs, p),
  entryPoint: (p) => p.variant,
  constants: matmulConstants,
  pipelineKey: (p) => matmulKey('matmul', p),
  uniforms: matmulUniforms,
  dispatch: (p, ctx) => matmulDispatch('matmul', p, ctx),
};
