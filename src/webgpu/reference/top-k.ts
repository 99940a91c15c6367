/** CPU twin of kernels/top-k.wgsl: per-row k largest values, lower index first on ties. */
export interface TopK {
  values: Float64Array;
  indices: Int32Array;
}

export function topKRef(x: ArrayLike<number>, vocab: number, k: number): TopK {
  const rows = x.length / vocab;
  const values = new Float64Array(rows * k);
  const indices = new Int32Array(rows * k);
  for (let n = 0; n < rows; n++) {
    const at = (j: number) => x[n * vocab + j] as number;
    const order = Array.from({ length: vocab }, (_, j) => j);
    // Compare rather than subtract: -inf minus -inf is NaN.
    order.sort((a, b) => (at(a) === at(b) ? a - b : at(b) > at(a) ? 1 : -1));
    for (let r = 0; r < k; r++) {
      const j = order[r] as number;
      values[n * k + r] = at(j);
      indices[n * k + r] = j;
    }
  }
  return { values, indices };
}
