import body from './matmul.wgsl?raw';
import { forwardMatmulSpec, validateF32Matmul } from './matmul-params';
import { wgslModule } from './wgsl-module';

export { matmulInputs, type MatmulEpilogue, type MatmulParams, type MatmulVariant } from './matmul-params';

/**
 * Y = epilogue(X W^T + bias) in f32 for any K; inputs from matmulInputs(x, [w], {bias, residual}).
 * Variants: blocked (register tiles, for CPU-emulated devices), tiled (shared memory, for GPUs), matvec.
 */
export const matmul = forwardMatmulSpec({
  name: 'matmul',
  wgsl: wgslModule({ elem: 'f32', preludes: ['matmul-epilogue'] }, body),
  validate: (inputs, outputs, p) => validateF32Matmul('matmul', inputs, outputs, p),
});
