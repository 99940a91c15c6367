/** CPU twin of kernels/adamw.wgsl: one AdamW step in f64, returning the new state. */
import { adamwScalars, type AdamwParams } from '../kernels/adamw';

export interface AdamwState {
  param: Float64Array;
  m: Float64Array;
  v: Float64Array;
}

export function adamwRef(
  grad: ArrayLike<number>,
  state: { param: ArrayLike<number>; m: ArrayLike<number>; v: ArrayLike<number> },
  p: AdamwParams,
): AdamwState {
  const { decay, stepSize, bias2Sqrt } = adamwScalars(p);
  const n = grad.length;
  const scale = p.gradScale ?? 1;
  const out: AdamwState = { param: new Float64Array(n), m: new Float64Array(n), v: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const g = (grad[i] as number) * scale;
    const m0 = state.m[i] as number;
    const m = m0 + (g - m0) * (1 - p.beta1);
    const v = (state.v[i] as number) * p.beta2 + (1 - p.beta2) * g * g;
    out.m[i] = m;
    out.v[i] = v;
    out.param[i] = (state.param[i] as number) * decay - (stepSize * m) / (Math.sqrt(v) / bias2Sqrt + p.eps);
  }
  return out;
}
