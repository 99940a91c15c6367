/**
 * In-browser proof that the kernels compute what their CPU references do:
 * every registry kernel's check cases (src/webgpu/verify) on seeded data in
 * the worker, on whatever adapter the user has.
 */
import { Rng } from '../../data/random';
import type { GpuRuntime } from '../../webgpu/runtime';
import { runCheckCases, type KernelCheckResult } from '../../webgpu/verify/run-checks';

export function runKernelChecks(rt: GpuRuntime): Promise<KernelCheckResult[]> {
  return runCheckCases(rt, (seed) => new Rng(seed));
}
