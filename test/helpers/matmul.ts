/** Shared by the matmul test files: src/webgpu/verify's matmul operands with a seed drawn from the shape. */
import { Rng } from '../../src/data/random';
import { matmulOperands, matmulSeed, type MatmulCase, type MatmulData } from '../../src/webgpu/verify/matmul-operands';

export { caseName, epilogueHostInputs, paramsFor, runF32Matmul, type MatmulCase, type MatmulData } from '../../src/webgpu/verify/matmul-operands';
export { MATMUL_TOLERANCE } from '../../src/webgpu/verify/tolerance';

/** Operands uniform in [-1, 1) with no zeros; the seed comes from the shape so every case differs. */
export function matmulData(c: MatmulCase, seed = 0): MatmulData {
  return matmulOperands(c, new Rng(matmulSeed(c, seed)));
}
