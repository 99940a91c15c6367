/**
 * Runs one kernel spec on host data the way every check should: uploads the
 * inputs, poisons the outputs so an element the kernel never writes fails the
 * comparison, dispatches, and reads the outputs back.
 */
import type { KernelSpec } from '../kernel';
import type { GpuRuntime } from '../runtime';
import { numel, type DType, type Tensor } from '../tensor';

export type HostArray = Float32Array | Int32Array | Uint32Array;

export interface HostTensor {
  data: HostArray;
  shape: readonly number[];
}

export interface OutputSpec {
  shape: readonly number[];
  dtype?: DType;
  /** Starting contents for kernels that update in place (a KV cache, optimizer state); poison otherwise. */
  initial?: HostArray;
}

/** NaN for f32; for integers a value no index or count here can take. */
export function poison(dtype: DType, n: number): HostArray {
  return dtype === 'f32' ? new Float32Array(n).fill(Number.NaN) : new Uint32Array(n).fill(0xdeadbeef);
}

/** A tensor filled with poison. */
export function poisoned(rt: GpuRuntime, shape: readonly number[], label: string, dtype: DType = 'f32'): Tensor {
  const t = rt.empty(shape, dtype, label);
  rt.write(t, poison(dtype, numel(shape)));
  return t;
}

export async function runKernel<P>(
  rt: GpuRuntime,
  spec: KernelSpec<P>,
  inputs: readonly HostTensor[],
  outputs: readonly OutputSpec[],
  params: P,
): Promise<Float32Array[]> {
  const ins = inputs.map((t, i) => rt.upload(t.data, t.shape, `${spec.name}.in${i}`));
  const outs = outputs.map((o, i) => {
    const label = `${spec.name}.out${i}`;
    if (!o.initial) return poisoned(rt, o.shape, label, o.dtype);
    const t = rt.empty(o.shape, o.dtype ?? 'f32', label);
    rt.write(t, o.initial);
    return t;
  });
  try {
    rt.run(spec, ins, outs, params);
    return await Promise.all(outs.map((t) => rt.readF32(t)));
  } finally {
    for (const t of [...ins, ...outs]) rt.release(t);
  }
}
