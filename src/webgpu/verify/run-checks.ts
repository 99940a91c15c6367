/**
 * Walks the check table on a runtime: each case on its own seeded inputs,
 * compared with its CPU twin, one result row per case. A case whose kernel
 * needs a feature this adapter lacks is reported as skipped with the reason.
 */
import type { GpuRuntime } from '../runtime';
import { allCheckCases } from './check-cases';
import type { CheckCase } from './check-case';
import type { Worst } from './compare';
import type { RandomSource } from './random';

export interface KernelCheckResult {
  /** Registry name of the kernel. */
  kernel: string;
  /** The case: shapes and params. */
  name: string;
  /** Largest error relative to 1 + |reference| (infinite when an output was never written). */
  maxError: number;
  tolerance: number;
  toleranceName: string;
  passed: boolean;
  /** Why the case did not run here (passed is false then, and the view says so). */
  skipped?: string;
  /** Where the worst element is, with both values. */
  worst?: { index: number; got: number; want: number };
  /** The message when the run itself threw (a validation or device error). */
  error?: string;
  ms: number;
}

function missingFeature(rt: GpuRuntime, c: CheckCase): string | null {
  if (c.requires === 'shader-f16' && !rt.ctx.features['shader-f16']) return 'not supported on this adapter (no shader-f16)';
  return null;
}

function row(c: CheckCase, fields: Partial<KernelCheckResult> & Pick<KernelCheckResult, 'maxError' | 'passed' | 'ms'>): KernelCheckResult {
  return { kernel: c.kernel, name: c.label, tolerance: c.tolerance.value, toleranceName: c.tolerance.name, ...fields };
}

export async function runCheckCase(rt: GpuRuntime, c: CheckCase, random: RandomSource): Promise<KernelCheckResult> {
  const skipped = missingFeature(rt, c);
  if (skipped) return row(c, { maxError: NaN, passed: false, skipped, ms: 0 });
  const t0 = performance.now();
  let worst: Worst;
  try {
    worst = await c.run(rt, random(c.seed));
  } catch (err) {
    return row(c, { maxError: Infinity, passed: false, error: err instanceof Error ? err.message : String(err), ms: performance.now() - t0 });
  }
  const { index, got, want, absError } = worst;
  return row(c, { maxError: absError, passed: absError <= c.tolerance.value, worst: { index, got, want }, ms: performance.now() - t0 });
}

export async function runCheckCases(rt: GpuRuntime, random: RandomSource, cases: readonly CheckCase[] = allCheckCases()): Promise<KernelCheckResult[]> {
  const results: KernelCheckResult[] = [];
  for (const c of cases) results.push(await runCheckCase(rt, c, random));
  return results;
}
