import body from './matmul-vec4.wgsl?raw';
import { KernelInputError } from '../errors';
import { forwardMatmulSpec, validateF32Matmul } from './matmul-params';
import { wgslModule } from './wgsl-module';

/**
 * The same product with vec4 loads of X and W, for K a multiple of 4 (every
 * real model width). Variants: blocked and matvec; tiled stages through
 * workgroup memory, where vector loads buy nothing, so it lives in `matmul` only.
 */
export const matmulVec4 = forwardMatmulSpec({
  name: 'matmul-vec4',
  wgsl: wgslModule({ elem: 'f32', preludes: ['matmul-epilogue'] }, body),
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
});
