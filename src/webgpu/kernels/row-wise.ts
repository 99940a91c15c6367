/**
 * The spec of a row-wise kernel, where one workgroup owns a row of an [N, C]
 * (or [N, V]) tensor: the norms, softmax, argmax, top-k, cross-entropy. Such
 * specs differ only in their operands, their extra param checks, their
 * uniform block and, for per-channel parameter gradients, their grid; this
 * factory writes the rest once.
 */
import { dispatch1d, type KernelContext, type KernelSpec } from '../kernel';
import type { Tensor } from '../tensor';
import { expectSignature, type Operand } from './signature';

export interface RowWiseKernel<P> {
  /** Spec name, also the prefix of its errors. */
  name: string;
  /** The joined module, shared by the entry points of one family. */
  wgsl: string;
  entryPoint: string;
  /** Pipeline key; `${name}.${entryPoint}` when absent. */
  pipelineKey?: string;
  /** Operands in binding order, from the params. */
  operands(p: P): { inputs: readonly Operand[]; outputs: readonly Operand[] };
  /** Param checks a shape cannot express (eps, k); they run before the operand checks. */
  check?(kernel: string, p: P, tensors: readonly Tensor[]): void;
  uniforms(p: P, ctx: KernelContext): ArrayBuffer;
  /** Workgroups; one per row (folded past the per-dimension limit) when absent. */
  dispatch?(p: P, ctx: KernelContext): [number, number, number];
}

export function rowWiseSpec<P extends { rows: number }>(k: RowWiseKernel<P>): KernelSpec<P> {
  const key = k.pipelineKey ?? `${k.name}.${k.entryPoint}`;
  return {
    name: k.name,
    wgsl: k.wgsl,
    validate(inputs, outputs, p) {
      k.check?.(k.name, p, [...inputs, ...outputs]);
      expectSignature(k.name, inputs, outputs, k.operands(p));
    },
    entryPoint: () => k.entryPoint,
    pipelineKey: () => key,
    uniforms: k.uniforms,
    dispatch: k.dispatch ?? ((p, ctx) => dispatch1d(p.rows, ctx)),
  };
}

/** An f32 operand of the given shape. */
export function f32(name: string, ...shape: number[]): Operand {
  return { name, dtype: 'f32', shape };
}

/** An i32 operand of the given shape. */
export function i32(name: string, ...shape: number[]): Operand {
  return { name, dtype: 'i32', shape };
}
