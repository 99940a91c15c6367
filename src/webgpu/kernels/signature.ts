/**
 * Checks a kernel's tensors against the dtypes and shapes its params imply,
 * so every spec's validate() fails the same way: a KernelInputError naming
 * the kernel, the offending operand and every shape it was given.
 */
import { KernelInputError } from '../errors';
import type { DType, Tensor } from '../tensor';

export interface Operand {
  /** The name used in the .wgsl header, so an error points at the binding. */
  name: string;
  dtype: DType;
  shape: readonly number[];
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function text(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function expectSignature(
  kernel: string,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  want: { inputs: readonly Operand[]; outputs: readonly Operand[] },
): void {
  const shapes = [...inputs, ...outputs].map((t) => t.shape);
  if (inputs.length !== want.inputs.length || outputs.length !== want.outputs.length) {
    throw new KernelInputError(
      kernel,
      `expects ${want.inputs.length} inputs and ${want.outputs.length} outputs, got ${inputs.length} and ${outputs.length}`,
      shapes,
    );
  }
  const pairs: [Tensor, Operand][] = [
    ...inputs.map((t, i): [Tensor, Operand] => [t, want.inputs[i] as Operand]),
    ...outputs.map((t, i): [Tensor, Operand] => [t, want.outputs[i] as Operand]),
  ];
  for (const [t, op] of pairs) {
    if (op.shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new KernelInputError(kernel, `${op.name} needs a shape of positive sizes, params give ${text(op.shape)}`, shapes);
    }
    if (t.dtype !== op.dtype) {
      throw new KernelInputError(kernel, `${op.name} must be ${op.dtype}, got dtype ${t.dtype}`, shapes);
    }
    if (!sameShape(t.shape, op.shape)) {
      throw new KernelInputError(kernel, `${op.name} must be ${text(op.shape)}, got ${text(t.shape)}`, shapes);
    }
  }
}

/** Throws unless the condition holds; for limits a shape check cannot express. */
export function expectParam(kernel: string, ok: boolean, detail: string, tensors: readonly Tensor[]): void {
  if (!ok) throw new KernelInputError(kernel, detail, tensors.map((t) => t.shape));
}
