/**
 * CPU twin of kernels/layer-norm.wgsl in f64, so finite differences of the
 * forward check the backward exactly. Rows are the leading N, channels the last C.
 */

export interface LayerNormGrads {
  dx: Float64Array;
  dweight: Float64Array;
  dbias: Float64Array;
}

/** Mean and 1 / sqrt(biased variance + eps) of one row, two-pass like the kernel. */
function rowStats(x: ArrayLike<number>, base: number, cols: number, eps: number): { mean: number; rstd: number } {
  let sum = 0;
  for (let c = 0; c < cols; c++) sum += x[base + c] as number;
  const mean = sum / cols;
  let sq = 0;
  for (let c = 0; c < cols; c++) {
    const d = (x[base + c] as number) - mean;
    sq += d * d;
  }
  return { mean, rstd: 1 / Math.sqrt(sq / cols + eps) };
}

/** stats [N, 2]: mean and rstd per row, as layer-norm-backward saves them for the parameter pass. */
export function layerNormStatsRef(x: ArrayLike<number>, rows: number, cols: number, eps: number): Float64Array {
  const stats = new Float64Array(rows * 2);
  for (let r = 0; r < rows; r++) {
    const { mean, rstd } = rowStats(x, r * cols, cols, eps);
    stats[2 * r] = mean;
    stats[2 * r + 1] = rstd;
  }
  return stats;
}

/** y = (x - mean) / sqrt(var + eps) * weight + bias, per row of C (torch.nn.LayerNorm). */
export function layerNormRef(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  rows: number,
  cols: number,
  eps: number,
): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const { mean, rstd } = rowStats(x, base, cols, eps);
    for (let c = 0; c < cols; c++) {
      y[base + c] = ((x[base + c] as number) - mean) * rstd * (weight[c] as number) + (bias[c] as number);
    }
  }
  return y;
}

/**
 * With xhat = (x - mean) * rstd and g = dy * weight:
 * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)); dweight = sum dy * xhat; dbias = sum dy.
 */
export function layerNormBackwardRef(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  dy: ArrayLike<number>,
  rows: number,
  cols: number,
  eps: number,
): LayerNormGrads {
  const dx = new Float64Array(rows * cols);
  const dweight = new Float64Array(cols);
  const dbias = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const { mean, rstd } = rowStats(x, base, cols, eps);
    let sumG = 0;
    let sumGX = 0;
    for (let c = 0; c < cols; c++) {
      const g = (dy[base + c] as number) * (weight[c] as number);
      sumG += g;
      sumGX += g * ((x[base + c] as number) - mean) * rstd;
    }
    for (let c = 0; c < cols; c++) {
      const dyv = dy[base + c] as number;
      const xhat = ((x[base + c] as number) - mean) * rstd;
      dx[base + c] = rstd * (dyv * (weight[c] as number) - sumG / cols - xhat * (sumGX / cols));
      dweight[c] = (dweight[c] as number) + dyv * xhat;
      dbias[c] = (dbias[c] as number) + dyv;
    }
  }
  return { dx, dweight, dbias };
}
