/**
 * CPU twins of the matmul kernels in f64: the forward with its epilogues, and
 * the backward a LoRA step needs (dX, dW, db). Shapes as in matmul.wgsl:
 * X [Bt, M, K], W [N, K] or [Bt, N, K], bias [N], residual and Y [Bt, M, N].
 */
import type { MatmulEpilogue } from '../kernels/matmul-params';

export interface MatmulDims {
  m: number;
  k: number;
  n: number;
  batch?: number;
  /** W is [Bt, N, K], one per batch item. */
  wBatched?: boolean;
}

export interface MatmulRefOptions extends MatmulDims {
  bias?: ArrayLike<number>;
  residual?: ArrayLike<number>;
  epilogue?: MatmulEpilogue;
}

/** GELU with the tanh approximation (HF "gelu_pytorch_tanh"). */
export function geluTanh(v: number): number {
  return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
}

export function silu(v: number): number {
  return v / (1 + Math.exp(-v));
}

function applyEpilogue(v: number, epilogue: MatmulEpilogue, residual: number): number {
  if (epilogue === 'gelu') return geluTanh(v);
  if (epilogue === 'silu') return silu(v);
  if (epilogue === 'residual') return v + residual;
  return v;
}

function wOffset(d: MatmulDims, b: number): number {
  return d.wBatched ? b * d.n * d.k : 0;
}

/** Y = epilogue(X W^T + bias), every sum in f64. */
export function matmulRef(x: ArrayLike<number>, w: ArrayLike<number>, o: MatmulRefOptions): Float64Array {
  const batch = o.batch ?? 1;
  const { m, k, n } = o;
  const y = new Float64Array(batch * m * n);
  for (let b = 0; b < batch; b++) {
    const wb = wOffset(o, b);
    for (let r = 0; r < m; r++) {
      const xr = (b * m + r) * k;
      for (let c = 0; c < n; c++) {
        let s = o.bias ? (o.bias[c] as number) : 0;
        for (let i = 0; i < k; i++) s += (x[xr + i] as number) * (w[wb + c * k + i] as number);
        const out = (b * m + r) * n + c;
        y[out] = applyEpilogue(s, o.epilogue ?? 'none', o.residual ? (o.residual[out] as number) : 0);
      }
    }
  }
  return y;
}

export interface MatmulGrads {
  /** [Bt, M, K] = dY W. */
  dx: Float64Array;
  /** [N, K] summed over the batch when W is shared, else [Bt, N, K]: dY^T X. */
  dw: Float64Array;
  /** [N]: dY summed over every row of every batch item. */
  db: Float64Array;
}

/** Gradients of Y = X W^T + bias for upstream dY [Bt, M, N]. */
export function matmulBackwardRef(dy: ArrayLike<number>, x: ArrayLike<number>, w: ArrayLike<number>, d: MatmulDims): MatmulGrads {
  const batch = d.batch ?? 1;
  const { m, k, n } = d;
  const dx = new Float64Array(batch * m * k);
  const dw = new Float64Array((d.wBatched ? batch : 1) * n * k);
  const db = new Float64Array(n);
  for (let b = 0; b < batch; b++) {
    const wb = wOffset(d, b);
    for (let r = 0; r < m; r++) {
      const row = b * m + r;
      for (let c = 0; c < n; c++) {
        const g = dy[row * n + c] as number;
        db[c] = (db[c] as number) + g;
        for (let i = 0; i < k; i++) {
          dx[row * k + i] = (dx[row * k + i] as number) + g * (w[wb + c * k + i] as number);
          dw[wb + c * k + i] = (dw[wb + c * k + i] as number) + g * (x[row * k + i] as number);
        }
      }
    }
  }
  return { dx, dw, db };
}
