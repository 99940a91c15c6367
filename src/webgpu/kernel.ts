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

export interface KernelSpec<P> {
  readonly name: string;
  readonly wgsl: string;
  /** Throws KernelInputError naming the kernel and the shapes. */
  validate(inputs: readonly Tensor[], outputs: readonly Tensor[], params: P): void;
  entryPoint(params: P, ctx: KernelContext): string;
  /** Values for the shader's `override` constants (variants, workgroup sizes). */
  constants?(params: P, ctx: KernelContext): Record<string, number>;
  /** Pipeline cache key; built from init-time facts, never from data. */
  pipelineKey(params: P, ctx: KernelContext): string;
  /** Uniform block contents (16-byte aligned by the runtime), or null for none. */
  uniforms(params: P, ctx: KernelContext): ArrayBuffer | null;
  dispatch(params: P, ctx: KernelContext): readonly [number, number, number];
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
