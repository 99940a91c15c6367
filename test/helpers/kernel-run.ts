/**
 * Runs one kernel spec on host data the way every kernel test should:
 * uploads the inputs, poisons the outputs with NaN so an element the kernel
 * never writes fails the comparison, dispatches, and reads the outputs back.
 */
import type { KernelSpec } from '../../src/webgpu/kernel';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { numel, type DType } from '../../src/webgpu/tensor';
import { expect } from 'vitest';
import { describeWorst, worstElement } from './compare';

export interface HostTensor {
  data: Float32Array | Int32Array | Uint32Array;
  shape: readonly number[];
}

export interface OutputSpec {
  shape: readonly number[];
  dtype?: DType;
}

export async function runKernel<P>(
  rt: GpuRuntime,
  spec: KernelSpec<P>,
  inputs: readonly HostTensor[],
  outputs: readonly OutputSpec[],
  params: P,
): Promise<Float32Array[]> {
  const ins = inputs.map((t, i) => rt.upload(t.data, t.shape, `test.${spec.name}.in${i}`));
  const outs = outputs.map((o, i) => {
    const dtype = o.dtype ?? 'f32';
    const t = rt.empty(o.shape, dtype, `test.${spec.name}.out${i}`);
    const n = numel(o.shape);
    rt.write(t, dtype === 'f32' ? new Float32Array(n).fill(Number.NaN) : new Uint32Array(n).fill(0xdeadbeef));
    return t;
  });
  rt.run(spec, ins, outs, params);
  const results = await Promise.all(outs.map((t) => rt.readF32(t)));
  for (const t of [...ins, ...outs]) rt.release(t);
  return results;
}

/** Assert got ≈ want within tol (relative to 1 + |want|), printing the worst element on failure. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, label: string): void {
  const worst = worstElement(got, want);
  expect(worst.absError, describeWorst(label, worst)).toBeLessThanOrEqual(tol);
}
