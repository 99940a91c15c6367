/**
 * Backward of Y = X W^T for LoRA training: dX = dY W and dW = dY^T X, both
 * through the strided kernel in matmul-grad.wgsl. The bias gradient is
 * matmulBiasGrad in matmul-bias-grad.ts.
 */
import wgsl from './matmul-grad.wgsl?raw';
import { DeviceLimitError } from '../errors';
import type { KernelContext, KernelSpec } from '../kernel';
import type { Tensor } from '../tensor';
import { BLOCK_TILE, checkMatmulDims, rowsShape } from './matmul-params';
import { expectParam, expectSignature } from './signature';

export interface MatmulGradParams {
  variant: 'blocked' | 'tiled';
  m: number;
  k: number;
  n: number;
  /** Bt; 1 when absent. */
  batch?: number;
  /** W is [Bt, N, K]; then dW is per batch item too instead of summed. */
  wBatched?: boolean;
  /**
   * Add the gradient to the output's contents instead of overwriting them:
   * dW over the sequences of one step, dX over the paths into one input.
   */
  accumulate?: boolean;
}

/** C[b, i, j] = sum_r A[b, i, r] B[b, j, r] with every stride explicit. */
interface StridedLayout {
  rows: number;
  cols: number;
  depth: number;
  batch: number;
  aRow: number;
  aDepth: number;
  aBatch: number;
  bCol: number;
  bDepth: number;
  bBatch: number;
}

/** dX [Bt, M, K] = dY [Bt, M, N] W [N, K]: A = dY, B = W read down its columns. */
function gradInputLayout(p: MatmulGradParams): StridedLayout {
  const bt = p.batch ?? 1;
  const perItem = p.wBatched === true;
  return {
    rows: perItem ? p.m : bt * p.m,
    cols: p.k,
    depth: p.n,
    batch: perItem ? bt : 1,
    aRow: p.n,
    aDepth: 1,
    aBatch: perItem ? p.m * p.n : 0,
    bCol: 1,
    bDepth: p.k,
    bBatch: perItem ? p.n * p.k : 0,
  };
}

/** dW [N, K] = dY^T X, the rows of every batch item summed unless W is per item. */
function gradWeightLayout(p: MatmulGradParams): StridedLayout {
  const bt = p.batch ?? 1;
  const perItem = p.wBatched === true;
  return {
    rows: p.n,
    cols: p.k,
    depth: perItem ? p.m : bt * p.m,
    batch: perItem ? bt : 1,
    aRow: 1,
    aDepth: p.n,
    aBatch: perItem ? p.m * p.n : 0,
    bCol: 1,
    bDepth: p.k,
    bBatch: perItem ? p.m * p.k : 0,
  };
}

function uniforms(l: StridedLayout): ArrayBuffer {
  return new Uint32Array([l.rows, l.cols, l.depth, l.batch, l.aRow, l.aDepth, l.aBatch, l.bCol, l.bDepth, l.bBatch]).buffer;
}

function dispatch(kernel: string, l: StridedLayout, ctx: KernelContext): [number, number, number] {
  const bytes = l.batch * l.rows * l.cols * 4;
  const allowed = ctx.limits.maxStorageBufferBindingSize;
  if (bytes > allowed) throw new DeviceLimitError('maxStorageBufferBindingSize', bytes, allowed, `${kernel} output`);
  return [Math.ceil(l.cols / BLOCK_TILE), Math.ceil(l.rows / BLOCK_TILE), l.batch];
}

function checkCommon(kernel: string, tensors: readonly Tensor[], p: MatmulGradParams): void {
  checkMatmulDims(kernel, tensors, p);
  expectParam(kernel, p.variant === 'blocked' || p.variant === 'tiled', `unknown variant ${String(p.variant)}`, tensors);
}

function wShape(w: Tensor | undefined, p: MatmulGradParams): number[] {
  if (!p.wBatched) return [p.n, p.k];
  const bt = p.batch ?? 1;
  return w?.shape.length === 3 ? [bt, p.n, p.k] : [bt * p.n, p.k];
}

function gradSpec(
  name: string,
  layout: (p: MatmulGradParams) => StridedLayout,
  validate: KernelSpec<MatmulGradParams>['validate'],
): KernelSpec<MatmulGradParams> {
  return {
    name,
    wgsl,
    validate,
    entryPoint: (p) => p.variant,
    constants: (p) => ({ accumulate: p.accumulate === true ? 1 : 0 }),
    pipelineKey: (p) => `${name}.${p.variant}${p.accumulate === true ? '.accumulate' : ''}`,
    uniforms: (p) => uniforms(layout(p)),
    dispatch: (p, ctx) => dispatch(name, layout(p), ctx),
  };
}

/** dX [Bt, M, K] (or += with accumulate) from inputs (dY [Bt, M, N], W [N, K] or [Bt, N, K]). */
export const matmulGradInput = gradSpec('matmul-grad-input', gradInputLayout, (inputs, outputs, p) => {
  checkCommon('matmul-grad-input', [...inputs, ...outputs], p);
  const bt = p.batch ?? 1;
  expectSignature('matmul-grad-input', inputs, outputs, {
    inputs: [
      { name: 'dy', dtype: 'f32', shape: rowsShape(inputs[0], bt, p.m, p.n) },
      { name: 'w', dtype: 'f32', shape: wShape(inputs[1], p) },
    ],
    outputs: [{ name: 'dx', dtype: 'f32', shape: rowsShape(outputs[0], bt, p.m, p.k) }],
  });
});

/** dW [N, K] (or [Bt, N, K] when W is per item; += with accumulate) from inputs (dY [Bt, M, N], X [Bt, M, K]). */
export const matmulGradWeight = gradSpec('matmul-grad-weight', gradWeightLayout, (inputs, outputs, p) => {
  checkCommon('matmul-grad-weight', [...inputs, ...outputs], p);
  const bt = p.batch ?? 1;
  expectSignature('matmul-grad-weight', inputs, outputs, {
    inputs: [
      { name: 'dy', dtype: 'f32', shape: rowsShape(inputs[0], bt, p.m, p.n) },
      { name: 'x', dtype: 'f32', shape: rowsShape(inputs[1], bt, p.m, p.k) },
    ],
    outputs: [{ name: 'dw', dtype: 'f32', shape: wShape(outputs[0], p) }],
  });
});
