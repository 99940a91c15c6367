/** CPU twin of avg-pool.wgsl: k x k means over a [B, GH, GW, C] grid, in f64. */
export function avgPoolRef(x: ArrayLike<number>, batch: number, gridH: number, gridW: number, channels: number, k: number): Float64Array {
  const oh = gridH / k;
  const ow = gridW / k;
  const out = new Float64Array(batch * oh * ow * channels);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let c = 0; c < channels; c++) {
          let sum = 0;
          for (let di = 0; di < k; di++)
            for (let dj = 0; dj < k; dj++) sum += x[((b * gridH + i * k + di) * gridW + j * k + dj) * channels + c] as number;
          out[((b * oh + i) * ow + j) * channels + c] = sum / (k * k);
        }
  return out;
}
