/**
 * Matmul operands for checks and tests: a case's shapes, seeded operands, the
 * params for a variant, and a run of an f32-input spec with poisoned outputs.
 */
import type { KernelSpec } from '../kernel';
import type { MatmulParams } from '../kernels/matmul-params';
import type { GpuRuntime } from '../runtime';
import type { SeededRandom } from './random';
import { runKernel, type HostTensor } from './run-kernel';

/** A matmul's shapes and epilogue: its params without the variant. */
export type MatmulCase = Omit<MatmulParams, 'variant'>;

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

/** A seed from the shape, so every case draws different operands. */
export function matmulSeed(c: MatmulCase, seed = 0): number {
  return seed + c.m * 7919 + c.k * 104729 + c.n * 1299709 + (c.batch ?? 1) * 15485863;
}

/** Operands uniform in [-1, 1) with no zeros. */
export function matmulOperands(c: MatmulCase, rng: SeededRandom): MatmulData {
  const batch = c.batch ?? 1;
  return {
    x: rng.floats(batch * c.m * c.k),
    w: rng.floats((c.wBatched ? batch : 1) * c.n * c.k),
    bias: rng.floats(c.n),
    residual: rng.floats(batch * c.m * c.n),
  };
}

export function paramsFor(c: MatmulCase, variant: MatmulParams['variant']): MatmulParams {
  return { ...c, variant };
}

/** The bias and residual slots as matmulInputs fills them: unused ones carry X. */
export function epilogueHostInputs(c: MatmulCase, d: MatmulData, xHost: HostTensor): HostTensor[] {
  const batch = c.batch ?? 1;
  return [
    c.bias ? { data: d.bias, shape: [c.n] } : xHost,
    c.epilogue === 'residual' ? { data: d.residual, shape: [batch, c.m, c.n] } : xHost,
  ];
}

/** The host inputs of an f32 spec in binding order: x, w, bias, residual. */
export function f32MatmulInputs(c: MatmulCase, d: MatmulData): HostTensor[] {
  const batch = c.batch ?? 1;
  const xHost = { data: d.x, shape: [batch, c.m, c.k] };
  const wHost = { data: d.w, shape: c.wBatched ? [batch, c.n, c.k] : [c.n, c.k] };
  return [xHost, wHost, ...epilogueHostInputs(c, d, xHost)];
}

/** Run an f32 spec (x, w, bias, residual -> y) on the case's data. */
export async function runF32Matmul(rt: GpuRuntime, spec: KernelSpec<MatmulParams>, c: MatmulCase, p: MatmulParams, d: MatmulData): Promise<Float32Array> {
  const [y] = await runKernel(rt, spec, f32MatmulInputs(c, d), [{ shape: [c.batch ?? 1, c.m, c.n] }], p);
  if (!y) throw new Error('matmul run returned no output');
  return y;
}
