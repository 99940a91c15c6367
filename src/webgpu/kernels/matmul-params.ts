/**
 * What every forward matmul spec shares: the params, the fixed operand order
 * (X, W..., bias, residual -> Y), the uniform block and the dispatch grid.
 *
 * Y [Bt, M, N] = epilogue(X [Bt, M, K] x W^T + bias [N]) with W [N, K] shared
 * or [Bt, N, K] per batch item. The bias and residual slots are always bound
 * because a WGSL binding is part of the pipeline layout whether or not an
 * override constant turns its use off; when off, any f32 tensor can fill the
 * slot (matmulInputs uses X) and the shader never reads it.
 */
import { DeviceLimitError, KernelInputError } from '../errors';
import type { KernelContext, KernelSpec } from '../kernel';
import type { Tensor } from '../tensor';
import { expectSignature } from './signature';

export type MatmulEpilogue = 'none' | 'gelu' | 'silu' | 'residual';
/** blocked: register tiles, no workgroup memory; tiled: shared-memory tiles; matvec: one row per invocation. */
export type MatmulVariant = 'blocked' | 'tiled' | 'matvec';

export interface MatmulParams {
  variant: MatmulVariant;
  /** Rows of X per batch item. */
  m: number;
  /** Reduction length. */
  k: number;
  /** Output columns (rows of W). */
  n: number;
  /** Bt, batch items of X; 1 when absent. */
  batch?: number;
  /** W is [Bt, N, K], one matrix per batch item (attention-like products). */
  wBatched?: boolean;
  /** Add bias [N] before the epilogue. */
  bias?: boolean;
  epilogue?: MatmulEpilogue;
}

/** Override-constant codes; the .wgsl headers list the same numbers. */
export const EPILOGUE_CODE: Record<MatmulEpilogue, number> = { none: 0, gelu: 1, silu: 2, residual: 3 };

/** Output tile of one workgroup in the blocked and tiled entry points (8 x 8 invocations of 4 x 4). */
export const BLOCK_TILE = 32;
/** Columns one matvec workgroup covers (64 invocations of 4 columns). */
export const MATVEC_TILE = 256;

export interface MatmulGrid {
  /** Rows the shader sees per batch item: shared W lets every batch item fold into one tall X. */
  rows: number;
  batch: number;
  wBatchStride: number;
}

export function batchOf(p: MatmulParams): number {
  return p.batch ?? 1;
}

export function matmulGrid(p: MatmulParams): MatmulGrid {
  const batch = batchOf(p);
  if (p.wBatched) return { rows: p.m, batch, wBatchStride: p.n * p.k };
  return { rows: p.m * batch, batch: 1, wBatchStride: 0 };
}

/** Uniform block shared by the forward .wgsl files: m, n, k, batch, w_batch_stride. */
export function matmulUniforms(p: MatmulParams): ArrayBuffer {
  const g = matmulGrid(p);
  return new Uint32Array([g.rows, p.n, p.k, g.batch, g.wBatchStride]).buffer;
}

/** Workgroups for a variant; also refuses outputs the device could not bind. */
export function matmulDispatch(kernel: string, p: MatmulParams, ctx: KernelContext, elementBytes = 4): [number, number, number] {
  const g = matmulGrid(p);
  const outBytes = g.rows * g.batch * p.n * elementBytes;
  const allowed = ctx.limits.maxStorageBufferBindingSize;
  if (outBytes > allowed) throw new DeviceLimitError('maxStorageBufferBindingSize', outBytes, allowed, `${kernel} output Y`);
  if (p.variant === 'matvec') return [Math.ceil(p.n / MATVEC_TILE), g.rows, g.batch];
  return [Math.ceil(p.n / BLOCK_TILE), Math.ceil(g.rows / BLOCK_TILE), g.batch];
}

export function matmulConstants(p: MatmulParams): Record<string, number> {
  return { epilogue: EPILOGUE_CODE[p.epilogue ?? 'none'], has_bias: p.bias ? 1 : 0 };
}

/** Pipeline key: kernel, variant, epilogue and bias; never a size. */
export function matmulKey(kernel: string, p: MatmulParams, extra = ''): string {
  return `${kernel}.${p.variant}.${p.epilogue ?? 'none'}${p.bias ? '.bias' : ''}${extra}`;
}

/** What one forward matmul kernel adds to the methods they all share. */
export interface ForwardMatmulKernel<P extends MatmulParams> {
  name: string;
  wgsl: string;
  validate(inputs: readonly Tensor[], outputs: readonly Tensor[], p: P): void;
  /** Override constants beyond the epilogue's. */
  constants?(p: P): Record<string, number>;
  /** Appended to the pipeline key, for those extra constants. */
  keySuffix?(p: P): string;
  /** Bytes per element of Y, for the binding-size check; 4 when absent. */
  elementBytes?: number;
  /** Throws on a device that cannot compile the module, before any pipeline is built. */
  requires?(ctx: KernelContext): void;
}

/** A forward matmul spec: entry point = variant, the shared uniforms, grid and epilogue constants. */
export function forwardMatmulSpec<P extends MatmulParams>(k: ForwardMatmulKernel<P>): KernelSpec<P> {
  return {
    name: k.name,
    wgsl: k.wgsl,
    validate: k.validate,
    entryPoint(p, ctx) {
      k.requires?.(ctx);
      return p.variant;
    },
    constants: (p) => ({ ...matmulConstants(p), ...k.constants?.(p) }),
    pipelineKey: (p) => matmulKey(k.name, p, k.keySuffix?.(p)),
    uniforms: matmulUniforms,
    dispatch(p, ctx) {
      k.requires?.(ctx);
      return matmulDispatch(k.name, p, ctx, k.elementBytes);
    },
  };
}

/** The operand list in binding order; absent bias/residual slots are filled with X. */
export function matmulInputs(
  x: Tensor,
  weights: readonly Tensor[],
  extras: { bias?: Tensor; residual?: Tensor } = {},
): Tensor[] {
  return [x, ...weights, extras.bias ?? x, extras.residual ?? x];
}

/** Expected shape of a [Bt, rows, cols] operand, in the rank the caller used ([Bt * rows, cols] is accepted too). */
export function rowsShape(t: Tensor | undefined, batch: number, rows: number, cols: number): number[] {
  return t?.shape.length === 3 ? [batch, rows, cols] : [batch * rows, cols];
}

/** M, K, N and Bt must be positive integers before any shape can be derived from them. */
export function checkMatmulDims(
  kernel: string,
  tensors: readonly Tensor[],
  p: Pick<MatmulParams, 'm' | 'k' | 'n' | 'batch'>,
): void {
  const dims = { m: p.m, k: p.k, n: p.n, batch: p.batch ?? 1 };
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 1) {
      throw new KernelInputError(kernel, `${name} must be a positive integer, got ${v}`, tensors.map((t) => t.shape));
    }
  }
}

/** Checks that apply to every forward spec before its operand checks. */
export function checkMatmulParams(kernel: string, tensors: readonly Tensor[], p: MatmulParams): void {
  const shapes = tensors.map((t) => t.shape);
  checkMatmulDims(kernel, tensors, p);
  if (!(p.variant in { blocked: 1, tiled: 1, matvec: 1 })) {
    throw new KernelInputError(kernel, `unknown variant ${String(p.variant)}`, shapes);
  }
  if (!((p.epilogue ?? 'none') in EPILOGUE_CODE)) {
    throw new KernelInputError(kernel, `unknown epilogue ${String(p.epilogue)}`, shapes);
  }
}

/** The bias and residual operands: real shapes when used; when unused the slot may hold any f32 tensor. */
export function epilogueOperands(
  p: MatmulParams,
  bias: Tensor | undefined,
  residual: Tensor | undefined,
): { name: string; dtype: 'f32'; shape: readonly number[] }[] {
  const residualShape = rowsShape(residual, batchOf(p), p.m, p.n);
  return [
    { name: 'bias', dtype: 'f32', shape: p.bias ? [p.n] : (bias?.shape ?? [p.n]) },
    { name: 'residual', dtype: 'f32', shape: p.epilogue === 'residual' ? residualShape : (residual?.shape ?? residualShape) },
  ];
}

/** Operand checks of the f32 specs: x, w, bias, residual -> y. */
export function validateF32Matmul(kernel: string, inputs: readonly Tensor[], outputs: readonly Tensor[], p: MatmulParams): void {
  checkMatmulParams(kernel, [...inputs, ...outputs], p);
  const batch = batchOf(p);
  const [x, w, bias, residual] = inputs;
  const wShape = p.wBatched ? (w?.shape.length === 3 ? [batch, p.n, p.k] : [batch * p.n, p.k]) : [p.n, p.k];
  if (x && w && x.shape.at(-1) !== w.shape.at(-1)) {
    throw new KernelInputError(
      kernel,
      `K of x (${x.shape.at(-1)}) and w (${w.shape.at(-1)}) differ`,
      [...inputs, ...outputs].map((t) => t.shape),
    );
  }
  expectSignature(kernel, inputs, outputs, {
    inputs: [
      { name: 'x', dtype: 'f32', shape: rowsShape(x, batch, p.m, p.k) },
      { name: 'w', dtype: 'f32', shape: wShape },
      ...epilogueOperands(p, bias, residual),
    ],
    outputs: [{ name: 'y', dtype: 'f32', shape: rowsShape(outputs[0], batch, p.m, p.n) }],
  });
}
