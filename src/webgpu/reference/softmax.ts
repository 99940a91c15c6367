/** CPU twin of kernels/softmax.wgsl in f64; rows are the leading N, the softmax runs over the last C. */

export function softmaxRef(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, x[base + c] as number);
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      const e = Math.exp((x[base + c] as number) - max);
      y[base + c] = e;
      sum += e;
    }
    for (let c = 0; c < cols; c++) y[base + c] = (y[base + c] as number) / sum;
  }
  return y;
}

/** dx = y * (dy - sum_c(dy * y)), per row; takes the forward's output y. */
export function softmaxBackwardRef(y: ArrayLike<number>, dy: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const dx = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += (dy[base + c] as number) * (y[base + c] as number);
    for (let c = 0; c < cols; c++) dx[base + c] = (y[base + c] as number) * ((dy[base + c] as number) - dot);
  }
  return dx;
}
