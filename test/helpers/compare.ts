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
