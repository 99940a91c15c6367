import body from './matmul.wgsl?raw';
import { KernelInputError } from '../errors';
import { packedF16Words } from '../f16';
import type { KernelContext } from '../kernel';
import { numel, type Tensor } from '../tensor';
import { batchOf, checkMatmulParams, epilogueOperands, forwardMatmulSpec, rowsShape, type MatmulParams } from './matmul-params';
import { expectSignature } from './signature';
import { wgslModule } from './wgsl-module';

const NAME = 'matmul-f16';

/**
 * How an f16 operand may arrive: as dtype 'f16' with its logical shape once
 * tensor.ts has that dtype, or until then as u32 words each holding two
 * halves (f16.ts packF16), ceil(count / 2) words in any shape.
 */
export type HalfStorage = 'f16' | 'u32';

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Throws unless t holds exactly the f16 values of `shape`. */
function expectHalf(name: string, t: Tensor, shape: readonly number[], tensors: readonly Tensor[], kernel = NAME): void {
  const shapes = tensors.map((u) => u.shape);
  // Widened to string so the check compiles both before and after 'f16' joins DType.
  const dtype: string = t.dtype;
  if (dtype === 'f16') {
    if (shapeText(t.shape) !== shapeText(shape)) {
      throw new KernelInputError(kernel, `${name} must be ${shapeText(shape)}, got ${shapeText(t.shape)}`, shapes);
    }
    return;
  }
  if (dtype !== 'u32') {
    throw new KernelInputError(kernel, `${name} must be f16 (or u32 words of packed f16 pairs), got dtype ${dtype}`, shapes);
  }
  const words = packedF16Words(numel(shape));
  if (numel(t.shape) !== words) {
    throw new KernelInputError(
      kernel,
      `${name} ${shapeText(shape)} as packed f16 pairs must hold ${words} u32 words, got ${shapeText(t.shape)}`,
      shapes,
    );
  }
}

function validate(inputs: readonly Tensor[], outputs: readonly Tensor[], p: MatmulParams): void {
  const tensors = [...inputs, ...outputs];
  checkMatmulParams(NAME, tensors, p);
  const [x, w, bias, residual] = inputs;
  const [y] = outputs;
  if (inputs.length !== 4 || outputs.length !== 1 || !x || !w || !bias || !residual || !y) {
    throw new KernelInputError(NAME, 'expects inputs (x, w, bias, residual) and one output y', tensors.map((t) => t.shape));
  }
  const batch = batchOf(p);
  expectHalf('x', x, rowsShape(x, batch, p.m, p.k), tensors);
  expectHalf('w', w, p.wBatched ? [batch, p.n, p.k] : [p.n, p.k], tensors);
  if (p.bias) expectHalf('bias', bias, [p.n], tensors);
  if (p.epilogue === 'residual') expectHalf('residual', residual, rowsShape(residual, batch, p.m, p.n), tensors);
  expectHalf('y', y, rowsShape(y, batch, p.m, p.n), tensors);
}

/** Refuses before any pipeline is built: `enable f16` fails to compile without the feature. */
function requireF16(ctx: KernelContext, kernel = NAME): void {
  if (!ctx.features['shader-f16']) {
    throw new KernelInputError(kernel, 'needs the shader-f16 feature, which this device lacks; use f32 weights');
  }
}

/**
 * Y = epilogue(X W^T + bias) with every operand f16 and f32 accumulation;
 * inputs from matmulInputs(x, [w], {bias, residual}). Variants: blocked,
 * tiled, matvec. Only for devices with shader-f16: the module is matmul.wgsl
 * with `elem` = f16.
 */
export const matmulF16 = forwardMatmulSpec({
  name: NAME,
  wgsl: wgslModule({ elem: 'f16', preludes: ['matmul-epilogue'] }, body),
  validate,
  elementBytes: 2,
  requires: (ctx) => requireF16(ctx),
});

const W16 = 'matmul-w16';

/** x, bias, residual and y f32; w f16 [N, K] (shared by the batch). */
function validateW16(inputs: readonly Tensor[], outputs: readonly Tensor[], p: MatmulParams): void {
  const tensors = [...inputs, ...outputs];
  checkMatmulParams(W16, tensors, p);
  const [x, w, bias, residual] = inputs;
  if (inputs.length !== 4 || !w || p.wBatched) {
    throw new KernelInputError(W16, 'expects inputs (x, w, bias, residual) with one W [N, K] shared by the batch', tensors.map((t) => t.shape));
  }
  expectHalf('w', w, [p.n, p.k], tensors, W16);
  const batch = batchOf(p);
  expectSignature(W16, [x as Tensor, bias as Tensor, residual as Tensor], outputs, {
    inputs: [{ name: 'x', dtype: 'f32', shape: rowsShape(x, batch, p.m, p.k) }, ...epilogueOperands(p, bias, residual)],
    outputs: [{ name: 'y', dtype: 'f32', shape: rowsShape(outputs[0], batch, p.m, p.n) }],
  });
}

/**
 * Y = epilogue(X W^T + bias) with W stored as f16 and everything else f32:
 * the weights take half the memory and bandwidth while activations, the
 * residual stream and the sum stay f32, so the only rounding beyond f32's is
 * W's own. The same body and variants as matmul-f16; shader-f16 only.
 */
export const matmulW16 = forwardMatmulSpec({
  name: W16,
  wgsl: wgslModule({ elem: 'f32', weights: 'f16', preludes: ['matmul-epilogue'] }, body),
  validate: validateW16,
  requires: (ctx) => requireF16(ctx, W16),
});
