/** CPU twin of kernels/sum-squares.wgsl in f64. */

/** sum(x^2) over every value. */
export function sumSquaresRef(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] as number) ** 2;
  return s;
}

/** sums with `slot` set to sum(x^2), or increased by it when accumulating. */
export function sumSquaresIntoRef(x: ArrayLike<number>, sums: ArrayLike<number>, slot: number, accumulate: boolean): Float64Array {
  const out = Float64Array.from(sums);
  out[slot] = (accumulate ? (out[slot] as number) : 0) + sumSquaresRef(x);
  return out;
}

/** The 2-norm over several tensors, as torch.nn.utils.clip_grad_norm_ measures it: sqrt of the summed squares. */
export function gradNormRef(tensors: readonly ArrayLike<number>[]): number {
  return Math.sqrt(tensors.reduce((s, t) => s + sumSquaresRef(t), 0));
}
