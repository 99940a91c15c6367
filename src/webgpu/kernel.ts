/**
 * The kernel contract. A kernel is a WGSL file plus a spec that says how to
 * validate its inputs, which pipeline it needs, what its uniforms hold and
 * how many workgroups to dispatch. The runtime does the rest, so a spec holds
 * no GPU objects and can be read (and unit-tested) without a device.
 *
 * Shape letters used in every .wgsl header: B batch, T sequence length (S for
 * the key side of attention), C channels (model width), H attention heads
 * (Hkv key/value heads), D head size, V vocabulary, N rows of a flattened
 * tensor; matmul is [M, K] x [N, K]^T -> [M, N] (weights as HF Linear [out, in]).
 * Bindings are the inputs in order, then the outputs, then the uniform block.
 */
import type { Tensor } from './tensor';

/** Facts fixed when the runtime starts; the only things a pipeline key may depend on. */
export interface KernelContext {
  features: { 'shader-f16': boolean; subgroups: boolean };
  /**
   * A CPU-emulated adapter (SwiftShader): barriers are costly and each
   * workgroup runs on one CPU thread, so kernels use small workgroups there.
   */
  cpuEmulated: boolean;
  limits: { maxComputeWorkgroupsPerDimension: number; maxStorageBufferBindingSize: number };
}

/** What a spec does with the params of one run, once they are resolved. */
interface KernelMethods<R> {
  /** Throws KernelInputError naming the kernel and the shapes. */
  validate(inputs: readonly Tensor[], outputs: readonly Tensor[], params: R): void;
  entryPoint(params: R, ctx: KernelContext): string;
  /** Values for the shader's `override` constants (variants, workgroup sizes). */
  constants?(params: R, ctx: KernelContext): Record<string, number>;
  /** Pipeline cache key; built from init-time facts, never from data. */
  pipelineKey(params: R, ctx: KernelContext): string;
  /** Uniform block contents (16-byte aligned by the runtime), or null for none. */
  uniforms(params: R, ctx: KernelContext): ArrayBuffer | null;
  dispatch(params: R, ctx: KernelContext): readonly [number, number, number];
}

/**
 * The resolve step: what every method needs that the caller's params leave
 * implicit (defaults, the chosen variant, derived sizes), computed once per
 * run instead of once per method. Optional only when the methods take the
 * params as given.
 */
type Resolver<P, R> = [P] extends [R]
  ? { resolve?(params: P, ctx: KernelContext): R }
  : { resolve(params: P, ctx: KernelContext): R };

/**
 * A kernel: its WGSL module and how to run it. Callers pass P; the runtime
 * resolves it to R once and hands R to the methods.
 */
export type KernelSpec<P, R = P> = { readonly name: string; readonly wgsl: string } & Resolver<P, R> & KernelMethods<R>;

/** The params a spec's methods take for one run: the resolved ones, or P itself when the spec has no resolve step. */
export function resolveParams<P, R>(spec: KernelSpec<P, R>, params: P, ctx: KernelContext): R {
  const resolver: { resolve?(params: P, ctx: KernelContext): R } = spec;
  // KernelSpec requires resolve whenever P is not already an R.
  return resolver.resolve ? resolver.resolve(params, ctx) : (params as unknown as R);
}

/**
 * Spread a 1-D count of workgroups over x and y when it exceeds the
 * per-dimension limit. Shaders rebuild the flat index as x + y * stride,
 * where stride = the x count times the workgroup width.
 */
export function dispatch1d(groups: number, ctx: KernelContext): [number, number, number] {
  const max = ctx.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [Math.max(1, groups), 1, 1];
  return [max, Math.ceil(groups / max), 1];
}
