/**
 * CPU twins of kernels/embedding.wgsl in f64. Ids outside [0, V) give a zero
 * row forward and no gradient backward, as on the GPU.
 */

function inRange(id: number, vocab: number): boolean {
  return Number.isInteger(id) && id >= 0 && id < vocab;
}

/** out [N, C] = weight [V, C] rows picked by ids [N]. */
export function embeddingRef(ids: ArrayLike<number>, weight: ArrayLike<number>, vocab: number, channels: number): Float64Array {
  const out = new Float64Array(ids.length * channels);
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n] as number;
    if (!inRange(id, vocab)) continue;
    for (let c = 0; c < channels; c++) out[n * channels + c] = weight[id * channels + c] as number;
  }
  return out;
}

/** dweight [V, C] = dout [N, C] rows summed into the rows named by ids [N]. */
export function embeddingBackwardRef(
  ids: ArrayLike<number>,
  dout: ArrayLike<number>,
  vocab: number,
  channels: number,
): Float64Array {
  const dweight = new Float64Array(vocab * channels);
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n] as number;
    if (!inRange(id, vocab)) continue;
    for (let c = 0; c < channels; c++) {
      const at = id * channels + c;
      dweight[at] = (dweight[at] as number) + (dout[n * channels + c] as number);
    }
  }
  return dweight;
}
