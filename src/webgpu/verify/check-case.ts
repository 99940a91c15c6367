/**
 * One check case: a registry kernel run on seeded inputs of a given shape and
 * compared with its CPU twin under a named tolerance (ggml's test-backend-ops
 * rows). Most cases are one dispatch and are written with kernelCase; a
 * kernel that reads what another wrote (a backward's saved stats) runs its
 * producer first in its own `run`.
 */
import type { KernelSpec } from '../kernel';
import { kernels, type KernelName } from '../kernels/registry';
import type { GpuRuntime } from '../runtime';
import { worstElement, worstOf, type Worst } from './compare';
import type { SeededRandom } from './random';
import { runKernel, type HostArray, type HostTensor, type OutputSpec } from './run-kernel';
import type { NamedTolerance } from './tolerance';

/** A device feature a kernel cannot run without. */
export type RequiredFeature = 'shader-f16';

export interface CheckCase {
  /** The registry name of the kernel under check. */
  kernel: KernelName;
  /** Shapes and params, in words. */
  label: string;
  tolerance: NamedTolerance;
  seed: number;
  /** Without this feature the case is skipped with a reason, never passed. */
  requires?: RequiredFeature;
  /** Runs on seeded inputs drawn from `rng` and returns the worst element over every output. */
  run(rt: GpuRuntime, rng: SeededRandom): Promise<Worst>;
}

/** The params type of a registry kernel (of each, for a union of names). */
export type ParamsOf<K extends KernelName> = K extends KernelName ? ((typeof kernels)[K] extends KernelSpec<infer P> ? P : never) : never;

export interface KernelCaseSpec<K extends KernelName> {
  kernel: K;
  label: string;
  tolerance: NamedTolerance;
  seed: number;
  requires?: RequiredFeature;
  /** Params may depend on the runtime (the variant the selector picks on this adapter). */
  params: ParamsOf<K> | ((rt: GpuRuntime) => ParamsOf<K>);
  /** Seeded inputs and the outputs to allocate. */
  build(rng: SeededRandom, p: ParamsOf<K>): { inputs: HostTensor[]; outputs: OutputSpec[] };
  /** The CPU twin: one expected array per output, from the same host inputs (and starting outputs, for in-place kernels). */
  reference(inputs: HostArray[], p: ParamsOf<K>, outputs: readonly OutputSpec[]): Expected[];
}

function onRuntime<P>(params: P | ((rt: GpuRuntime) => P)): params is (rt: GpuRuntime) => P {
  return typeof params === 'function';
}

/** A case of one dispatch of a registry kernel. */
export function kernelCase<K extends KernelName>(c: KernelCaseSpec<K>): CheckCase {
  return {
    kernel: c.kernel,
    label: c.label,
    tolerance: c.tolerance,
    seed: c.seed,
    requires: c.requires,
    async run(rt, rng) {
      const p = onRuntime(c.params) ? c.params(rt) : c.params;
      const { inputs, outputs } = c.build(rng, p);
      const spec = kernels[c.kernel] as KernelSpec<ParamsOf<K>>;
      const got = await runKernel(rt, spec, inputs, outputs, p);
      return worstOfOutputs(got, c.reference(inputs.map((t) => t.data), p, outputs));
    },
  };
}

/**
 * What an output should hold; null for an intermediate that only the next
 * kernel reads (saved softmax statistics), checked through that kernel's case.
 */
export type Expected = ArrayLike<number> | null;

/** The worst element over paired outputs; a missing output counts as infinite. */
export function worstOfOutputs(got: readonly ArrayLike<number>[], want: readonly Expected[]): Worst {
  if (got.length !== want.length) return { index: -1, got: NaN, want: NaN, absError: Infinity };
  return worstOf(got.flatMap((g, i) => {
    const w = want[i];
    return w === null || w === undefined ? [] : [worstElement(g, w)];
  }));
}

/** The input at `i` of a case's host inputs, typed for the reference. */
export function input(inputs: readonly HostArray[], i: number): HostArray {
  const t = inputs[i];
  if (!t) throw new Error(`check case: no input ${i}`);
  return t;
}
