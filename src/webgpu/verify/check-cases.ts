/**
 * Every registry kernel's check cases, keyed by its registry name: the table
 * the GPU check view and the vitest walk both run. Typed against the
 * registry, so a kernel added there without a case does not compile.
 */
import type { KernelName } from '../kernels/registry';
import { ATTENTION_CASES } from './cases/attention';
import { LAYOUT_CASES } from './cases/layout';
import { LOSS_CASES } from './cases/losses';
import { MATMUL_CASES } from './cases/matmul';
import { NORM_CASES } from './cases/norms';
import { POINTWISE_CASES } from './cases/pointwise';
import type { CheckCase } from './check-case';

export const CHECK_CASES: { readonly [K in KernelName]: readonly CheckCase[] } = {
  ...MATMUL_CASES,
  ...ATTENTION_CASES,
  ...NORM_CASES,
  ...POINTWISE_CASES,
  ...LAYOUT_CASES,
  ...LOSS_CASES,
};

/** The cases in registry order. */
export function allCheckCases(): CheckCase[] {
  return Object.values(CHECK_CASES).flat();
}
