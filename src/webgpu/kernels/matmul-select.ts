/**
 * Which matmul kernel and variant to run, from facts known when the adapter
 * is opened. CPU-emulated WebGPU (SwiftShader, lavapipe) pays dearly for
 * workgroup barriers, so register-blocked kernels win there (5-9x measured
 * on SwiftShader), while real GPUs want shared-memory tiles; a single row of
 * X (decode) goes to matvec on either. Every choice can be overridden.
 */
import { isCpuEmulated, type AdapterReport } from '../device';
import type { KernelSpec } from '../kernel';
import { matmul } from './matmul';
import { matmulF16 } from './matmul-f16';
import type { MatmulParams, MatmulVariant } from './matmul-params';
import { matmulQuant, type QuantMatmulParams } from './matmul-quant';
import { matmulVec4 } from './matmul-vec4';

export type AdapterFacts = Pick<AdapterReport, 'vendor' | 'architecture' | 'isFallbackAdapter'> & {
  features: Pick<AdapterReport['features'], 'shader-f16'>;
};

export type MatmulWeights = 'f32' | 'f16' | 'int8' | 'int4';

export interface MatmulRequest<W extends MatmulWeights> {
  /** Rows of X the kernel sees: M times Bt when W is shared. */
  m: number;
  k: number;
  weights: W;
  /** Force a variant (benchmarks, tests); the spec still refuses one it lacks. */
  variant?: MatmulVariant;
}

export interface MatmulSelection<P> {
  spec: KernelSpec<P>;
  variant: MatmulVariant;
}

export { isCpuEmulated };

/** blocked on CPU-emulated adapters, tiled on GPUs, matvec for one row; `override` wins. */
export function selectMatmulVariant(facts: AdapterFacts, m: number, override?: MatmulVariant): MatmulVariant {
  if (override) return override;
  if (m === 1) return 'matvec';
  return isCpuEmulated(facts) ? 'blocked' : 'tiled';
}

/** The backward kernels have no matvec; the same device rule picks between the other two. */
export function selectGradVariant(facts: AdapterFacts, override?: 'blocked' | 'tiled'): 'blocked' | 'tiled' {
  return override ?? (isCpuEmulated(facts) ? 'blocked' : 'tiled');
}

/** Keep f16 weights on the device only when its shaders can read them; otherwise upcast at load. */
export function weightStorageFor(facts: AdapterFacts, stored: 'f16' | 'f32'): 'f16' | 'f32' {
  return stored === 'f16' && facts.features['shader-f16'] ? 'f16' : 'f32';
}

export function selectMatmul(facts: AdapterFacts, req: MatmulRequest<'int8' | 'int4'>): MatmulSelection<QuantMatmulParams>;
export function selectMatmul(facts: AdapterFacts, req: MatmulRequest<'f32' | 'f16'>): MatmulSelection<MatmulParams>;
export function selectMatmul(
  facts: AdapterFacts,
  req: MatmulRequest<MatmulWeights>,
): MatmulSelection<MatmulParams> | MatmulSelection<QuantMatmulParams> {
  const picked = selectMatmulVariant(facts, req.m, req.variant);
  if (req.weights === 'int8' || req.weights === 'int4') {
    // The quantized kernels have no tiled variant; blocked is the better of the two on a GPU.
    return { spec: matmulQuant, variant: !req.variant && picked === 'tiled' ? 'blocked' : picked };
  }
  if (req.weights === 'f16') {
    if (!facts.features['shader-f16']) {
      throw new Error('selectMatmul: f16 weights need the shader-f16 feature; upcast them at load (weightStorageFor)');
    }
    return { spec: matmulF16, variant: picked };
  }
  const vec4 = req.k % 4 === 0 && picked !== 'tiled';
  return { spec: vec4 ? matmulVec4 : matmul, variant: picked };
}

/** Floating-point operations of Y [Bt, M, N] = X [Bt, M, K] W^T: one multiply and one add per term. */
export function matmulFlops(m: number, k: number, n: number, batch = 1): number {
  return 2 * batch * m * k * n;
}
