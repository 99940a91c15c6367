import body from './matmul-quant.wgsl?raw';
import { KernelInputError } from '../errors';
import { quantLayoutProblem, wordsPerRow, type QuantBits } from '../quant';
import type { Tensor } from '../tensor';
import { batchOf, checkMatmulParams, epilogueOperands, forwardMatmulSpec, rowsShape, type MatmulParams } from './matmul-params';
import { expectSignature } from './signature';
import { wgslModule } from './wgsl-module';

/** Quantized weights are shared by every batch item, so wBatched is never set. */
export interface QuantMatmulParams extends MatmulParams {
  bits: QuantBits;
  /** Values per scale along K, as given to quantize(). */
  groupSize: number;
}

const NAME = 'matmul-quant';

function validate(inputs: readonly Tensor[], outputs: readonly Tensor[], p: QuantMatmulParams): void {
  const tensors = [...inputs, ...outputs];
  checkMatmulParams(NAME, tensors, p);
  const shapes = tensors.map((t) => t.shape);
  const problem = quantLayoutProblem(p.k, p.groupSize, p.bits);
  if (problem) throw new KernelInputError(NAME, `int${p.bits} weights: ${problem}`, shapes);
  if (p.wBatched) throw new KernelInputError(NAME, 'quantized W is shared by the batch; wBatched is not supported', shapes);
  if (p.variant === 'tiled') throw new KernelInputError(NAME, 'has no tiled variant; use blocked or matvec', shapes);
  const batch = batchOf(p);
  const [x, , , bias, residual] = inputs;
  expectSignature(NAME, inputs, outputs, {
    inputs: [
      { name: 'x', dtype: 'f32', shape: rowsShape(x, batch, p.m, p.k) },
      { name: 'wq', dtype: 'u32', shape: [p.n, wordsPerRow(p.k, p.bits)] },
      { name: 'scales', dtype: 'f32', shape: [p.n, p.k / p.groupSize] },
      ...epilogueOperands(p, bias, residual),
    ],
    outputs: [{ name: 'y', dtype: 'f32', shape: rowsShape(outputs[0], batch, p.m, p.n) }],
  });
}

/**
 * Y = epilogue(X deq(W)^T + bias) with W as quant.ts packs it; inputs from
 * matmulInputs(x, [packed, scales], {bias, residual}). Variants: blocked, matvec.
 */
export const matmulQuant = forwardMatmulSpec<QuantMatmulParams>({
  name: NAME,
  wgsl: wgslModule({ elem: 'f32', preludes: ['matmul-epilogue'] }, body),
  validate,
  constants: (p) => ({ bits: p.bits, group_size: p.groupSize }),
  keySuffix: (p) => `.int${p.bits}.g${p.groupSize}`,
});
