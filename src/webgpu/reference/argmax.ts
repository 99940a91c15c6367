/** CPU twin of kernels/argmax.wgsl: per-row index of the largest value, lowest index on ties. */
export function argmaxRef(x: ArrayLike<number>, vocab: number): Int32Array {
  const rows = x.length / vocab;
  const out = new Int32Array(rows);
  for (let n = 0; n < rows; n++) {
    let best = 0;
    for (let j = 1; j < vocab; j++) {
      if ((x[n * vocab + j] as number) > (x[n * vocab + best] as number)) best = j;
    }
    out[n] = best;
  }
  return out;
}
