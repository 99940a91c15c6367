/** Every kernel by name: the one place the runtime and benchmarks look kernels up. */
import { elementwise } from './elementwise';

export const kernels = {
  elementwise,
} as const;

export type KernelName = keyof typeof kernels;
