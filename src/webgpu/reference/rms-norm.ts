/**
 * CPU twin of kernels/rms-norm.wgsl in f64, so finite differences of the
 * forward check the backward exactly. Rows are the leading N, channels the last C.
 */

export interface RmsNormGrads {
  dx: Float64Array;
  dweight: Float64Array;
}

function rowRstd(x: ArrayLike<number>, base: number, cols: number, eps: number): number {
  let ss = 0;
  for (let c = 0; c < cols; c++) {
    const v = x[base + c] as number;
    ss += v * v;
  }
  return 1 / Math.sqrt(ss / cols + eps);
}

/** rstd [N] per row, as rms-norm-backward saves it for the weight pass. */
export function rmsNormRstdRef(x: ArrayLike<number>, rows: number, cols: number, eps: number): Float64Array {
  return Float64Array.from({ length: rows }, (_, r) => rowRstd(x, r * cols, cols, eps));
}

/** y = x / sqrt(mean(x^2) + eps) * weight, per row of C. */
export function rmsNormRef(x: ArrayLike<number>, weight: ArrayLike<number>, rows: number, cols: number, eps: number): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const rstd = rowRstd(x, base, cols, eps);
    for (let c = 0; c < cols; c++) y[base + c] = (x[base + c] as number) * rstd * (weight[c] as number);
  }
  return y;
}

/**
 * With g = dy * weight and r = rstd: dx = r * g - x * r^3 * mean(g * x);
 * dweight = sum over rows of dy * x * r.
 */
export function rmsNormBackwardRef(
  x: ArrayLike<number>,
  weight: ArrayLike<number>,
  dy: ArrayLike<number>,
  rows: number,
  cols: number,
  eps: number,
): RmsNormGrads {
  const dx = new Float64Array(rows * cols);
  const dweight = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const rstd = rowRstd(x, base, cols, eps);
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += (dy[base + c] as number) * (weight[c] as number) * (x[base + c] as number);
    const m = dot / cols;
    for (let c = 0; c < cols; c++) {
      const xv = x[base + c] as number;
      const dyv = dy[base + c] as number;
      dx[base + c] = rstd * dyv * (weight[c] as number) - xv * rstd * rstd * rstd * m;
      dweight[c] = (dweight[c] as number) + dyv * xv * rstd;
    }
  }
  return { dx, dweight };
}
