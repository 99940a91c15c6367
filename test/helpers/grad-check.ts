/**
 * Finite-difference check of a backward reference (ggml's grad check): with
 * loss = sum(forward(x) * dOut), the analytic gradient of each checked input
 * must match central differences computed in f64.
 */
import { expect } from 'vitest';
import { describeWorst, worstElement } from './compare';

export type ForwardFn = (inputs: Float64Array[]) => ArrayLike<number>;

function loss(forward: ForwardFn, inputs: Float64Array[], dOut: ArrayLike<number>): number {
  const y = forward(inputs);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i] as number) * (dOut[i] as number);
  return s;
}

/** Central-difference gradient of sum(forward * dOut) with respect to inputs[which]. */
export function numericGradient(
  forward: ForwardFn,
  inputs: Float64Array[],
  dOut: ArrayLike<number>,
  which: number,
  eps = 1e-5,
): Float64Array {
  const x = inputs[which];
  if (!x) throw new Error(`numericGradient: no input ${which}`);
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const keep = x[i] as number;
    x[i] = keep + eps;
    const up = loss(forward, inputs, dOut);
    x[i] = keep - eps;
    const down = loss(forward, inputs, dOut);
    x[i] = keep;
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}

/** f64 central differences agree with an exact gradient to about 1e-7 on smooth ops. */
export const GRAD_CHECK_TOLERANCE = 1e-6;

export function expectGradientsMatch(
  forward: ForwardFn,
  inputs: Float64Array[],
  dOut: ArrayLike<number>,
  analytic: Record<number, ArrayLike<number>>,
  label: string,
  tol = GRAD_CHECK_TOLERANCE,
): void {
  for (const [key, grad] of Object.entries(analytic)) {
    const which = Number(key);
    const numeric = numericGradient(forward, inputs, dOut, which);
    const worst = worstElement(grad, numeric);
    expect(worst.absError, describeWorst(`${label} d(input ${which})`, worst)).toBeLessThanOrEqual(tol);
  }
}
