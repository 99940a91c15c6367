/** The vitest side of src/webgpu/verify: assertions that print the worst element on failure. */
import { expect } from 'vitest';
import { describeWorst, worstElement } from '../../src/webgpu/verify/compare';

export { describeWorst, worstElement, type Worst } from '../../src/webgpu/verify/compare';
export { TOLERANCE } from '../../src/webgpu/verify/tolerance';

/** Assert got ≈ want within tol (relative to 1 + |want|), printing the worst element on failure. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, label: string): void {
  const worst = worstElement(got, want);
  expect(worst.absError, describeWorst(label, worst)).toBeLessThanOrEqual(tol);
}

/** max |a - b| over max |b|; Infinity when the lengths differ. */
export function relMax(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return a.length === b.length ? diff / scale : Infinity;
}
