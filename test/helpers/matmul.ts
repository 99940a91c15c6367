/**
 * Shared by the matmul test files: seeded operands for a case, the named
 * tolerances and a run of an f32-input spec with poisoned outputs.
 */
import { Rng } from '../../src/data/random';
import type { KernelSpec } from '../../src/webgpu/kernel';
import type { MatmulEpilogue, MatmulParams } from '../../src/webgpu/kernels/matmul-params';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { runKernel, type HostTensor } from './kernel-run';

const F32_UNIT_ROUNDOFF = 2 ** -24;

/**
 * Tolerances for |got - want| / (1 + |want|) with inputs uniform in [-1, 1].
 *
 * f32(K): a sum of K products in f32 is off by at most gamma_K * sum|x_k w_k|
 * <= K^2 u (Higham, Accuracy and Stability, eq. 3.5), for any summation
 * order, so vec4 dots and tiles are covered too. That worst case assumes every
 * rounding goes the same way; independent roundings grow like sqrt(K) instead
 * (Higham 3.4 rule of thumb), giving K^1.5 u, which still sits above the
 * errors seen here. The floor covers the epilogue: the bias or residual add
 * rounds once more and WGSL's exp/tanh are allowed a few ulps.
 *
 * f16Output: the f16 kernels accumulate in f32 (products of two f16 values are
 * exact in f32) and round Y once to f16, a relative error of 2^-11.
 */
export const MATMUL_TOLERANCE = {
  f32: (k: number): number => Math.max(4e-6, k ** 1.5 * F32_UNIT_ROUNDOFF),
  f16Output: 2 ** -11,
} as const;

export interface MatmulCase {
  m: number;
  k: number;
  n: number;
  batch?: number;
  wBatched?: boolean;
  bias?: boolean;
  epilogue?: MatmulEpilogue;
}

export interface MatmulData {
  x: Float32Array;
  w: Float32Array;
  bias: Float32Array;
  residual: Float32Array;
}

export function caseName(c: MatmulCase): string {
  const batch = c.batch && c.batch > 1 ? ` Bt=${c.batch}${c.wBatched ? ' W batched' : ''}` : '';
  return `M=${c.m} K=${c.k} N=${c.n}${batch}${c.bias ? ' +bias' : ''} ${c.epilogue ?? 'none'}`;
}

/** Operands uniform in [-1, 1) with no zeros; the seed comes from the shape so every case differs. */
export function matmulData(c: MatmulCase, seed = 0): MatmulData {
  const batch = c.batch ?? 1;
  const rng = new Rng(seed + c.m * 7919 + c.k * 104729 + c.n * 1299709 + batch * 15485863);
  return {
    x: rng.floats(batch * c.m * c.k),
    w: rng.floats((c.wBatched ? batch : 1) * c.n * c.k),
    bias: rng.floats(c.n),
    residual: rng.floats(batch * c.m * c.n),
  };
}

export function paramsFor(c: MatmulCase, variant: MatmulParams['variant']): MatmulParams {
  return { variant, m: c.m, k: c.k, n: c.n, batch: c.batch, wBatched: c.wBatched, bias: c.bias, epilogue: c.epilogue };
}

/** The bias and residual slots as matmulInputs fills them: unused ones carry X. */
export function epilogueHostInputs(c: MatmulCase, d: MatmulData, xHost: HostTensor): HostTensor[] {
  const batch = c.batch ?? 1;
  return [
    c.bias ? { data: d.bias, shape: [c.n] } : xHost,
    c.epilogue === 'residual' ? { data: d.residual, shape: [batch, c.m, c.n] } : xHost,
  ];
}

/** Run an f32 spec (x, w, bias, residual -> y) on the case's data. */
export async function runF32Matmul(rt: GpuRuntime, spec: KernelSpec<MatmulParams>, c: MatmulCase, p: MatmulParams, d: MatmulData): Promise<Float32Array> {
  const batch = c.batch ?? 1;
  const xHost = { data: d.x, shape: [batch, c.m, c.k] };
  const wHost = { data: d.w, shape: c.wBatched ? [batch, c.n, c.k] : [c.n, c.k] };
  const [y] = await runKernel(rt, spec, [xHost, wHost, ...epilogueHostInputs(c, d, xHost)], [{ shape: [batch, c.m, c.n] }], p);
  if (!y) throw new Error('matmul run returned no output');
  return y;
}
