/**
 * The kernel benchmark: our WGSL kernels against onnxruntime-web on the same
 * shapes and device. bench.html (and so `npm run bench:kernels`) and the
 * app's Benchmark view both run it through runKernelSuite.
 */
import { adapterName } from '../webgpu/device';
import type { GpuRuntime } from '../webgpu/runtime';
import { ATTENTION_CASES, SMOLVLM_ATTENTION_CASES } from './attention-cases';
import type { BenchCase, BenchRow, KernelBenchResult } from './bench-case';
import { benchCase, copyBandwidthGBps } from './kernel-bench';
import { MATMUL_CASES, SMOLVLM_MATMUL_CASES } from './matmul-cases';

export const ALL_CASES: readonly BenchCase[] = [...MATMUL_CASES, ...ATTENTION_CASES];
/**
 * SmolVLM-256M's real per-layer shapes (SigLIP tower, SmolLM2 decoder): a set of
 * its own, since on a software adapter these rows take minutes, not seconds.
 */
export const SMOLVLM_CASES: readonly BenchCase[] = [...SMOLVLM_MATMUL_CASES, ...SMOLVLM_ATTENTION_CASES];

/** A few small cases that finish in seconds even on a software adapter: one of each kind of row. */
const QUICK = ['matmul decode 1x1024x1024', 'matmul square 256x256x256', 'attention vision T=64 S=64 H=4 D=32'];

export type CaseSet = 'all' | 'quick' | 'smolvlm';

export function isCaseSet(s: string | null): s is CaseSet {
  return s === 'all' || s === 'quick' || s === 'smolvlm';
}

export const caseName = (c: Pick<BenchCase, 'op' | 'shape'>): string => `${c.op} ${c.shape}`;

/** The cases of `set` whose "op shape" contains `filter`. */
export function kernelCases(filter = '', set: CaseSet = 'all'): BenchCase[] {
  const cases = set === 'smolvlm' ? SMOLVLM_CASES : ALL_CASES.filter((c) => set === 'all' || QUICK.includes(caseName(c)));
  return cases.filter((c) => caseName(c).includes(filter));
}

export interface SuiteControl {
  /** Checked between cases (and runs): an abort stops the suite with what is done. */
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, running: string) => void;
}

/** "Running k of n: op shape", as the page and the view both show it. */
export function progressText(done: number, total: number, running: string): string {
  return done < total ? `Running ${done + 1} of ${total}: ${running}` : `Measuring ${running}`;
}

export async function runKernelSuite(
  rt: GpuRuntime,
  cases: readonly BenchCase[],
  control: SuiteControl & { onRows?: (rows: readonly BenchRow[]) => void } = {},
): Promise<KernelBenchResult> {
  const adapter = adapterName(rt.gpu.report);
  const rows: BenchRow[] = [];
  for (const [i, c] of cases.entries()) {
    if (control.signal?.aborted) return { adapter, rows, copyGBps: NaN, cancelled: true };
    control.onProgress?.(i, cases.length, caseName(c));
    rows.push(await benchCase(rt, c));
    control.onRows?.(rows);
  }
  if (control.signal?.aborted) return { adapter, rows, copyGBps: NaN, cancelled: true };
  control.onProgress?.(cases.length, cases.length, 'buffer copy bandwidth');
  return { adapter, rows, copyGBps: await copyBandwidthGBps(rt.device), cancelled: false };
}
