import type { BenchCase } from './bench-case';

export const MATMUL_CASES: BenchCase[] = [];
