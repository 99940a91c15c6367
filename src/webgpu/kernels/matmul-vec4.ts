import wgsl from './matmul-vec4.wgsl?raw';
import { KernelInputError } from '../errors';
import type { KernelSpec } from '../kernel';
import {
  matmulConstants,
  matmulDispatch,
  matmulKey,
  matmulUniforms,
  validateF32Matmul,
  type MatmulParams,
} from './matmul-params';

/**
 * The same product with vec4 loads of X and W, for K a multiple of 4 (every
 * real model width). Variants: blocked and matvec; tiled stages through
 * workgroup memory, where vector loads buy nothing, so it lives in `matmul` only.
 */
export const matmulVec4: KernelSpec<MatmulParams> = {
  name: 'matmul-vec4',
  wgsl,
  validate(inputs, outputs, p) {
    validateF32Matmul('matmul-vec4', inputs, outputs, p);
    const shapes = [...inputs, ...outputs].map((t) => t.shape);
    if (p.k % 4 !== 0) {
      throw new KernelInputError('matmul-vec4', `K=${p.k} is not a multiple of 4; use the matmul spec`, shapes);
    }
    if (p.variant === 'tiled') {
      throw new KernelInputError('matmul-vec4', 'has no tiled variant; use the matmul spec', shapes);
    }
  },
  entryPoint: (p) => p.variant,
  constants: matmulConstants,
  pipelineKey: (p) => matmulKey('matmul-vec4', p),
  uniforms: matmulUniforms,
  dispatch: (p, ctx) => matmulDispatch('matmul-vec4', p, ctx),
};
