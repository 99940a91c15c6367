/** CPU twin of kernels/concat.wgsl: join two row-major tensors along one axis. */
export function concatRef(
  a: ArrayLike<number>,
  shapeA: readonly number[],
  b: ArrayLike<number>,
  shapeB: readonly number[],
  axis: number,
): Float64Array {
  const ax = axis < 0 ? axis + shapeA.length : axis;
  const product = (s: readonly number[]) => s.reduce((n, d) => n * d, 1);
  const outer = product(shapeA.slice(0, ax));
  // Each outer index owns one contiguous block of a, then one of b.
  const blockA = product(shapeA.slice(ax));
  const blockB = product(shapeB.slice(ax));
  const out = new Float64Array(outer * (blockA + blockB));
  let o = 0;
  for (let p = 0; p < outer; p++) {
    for (let i = 0; i < blockA; i++) out[o++] = a[p * blockA + i] as number;
    for (let i = 0; i < blockB; i++) out[o++] = b[p * blockB + i] as number;
  }
  return out;
}
