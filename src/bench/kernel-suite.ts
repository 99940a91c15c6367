/** The kernel benchmark on bench.html: our WGSL kernels against onnxruntime-web on the same shapes and device. */
import { acquireGpu, adapterName } from '../webgpu/device';
import { GpuRuntime } from '../webgpu/runtime';
import { ATTENTION_CASES } from './attention-cases';
import type { BenchRow, KernelBenchResult } from './bench-case';
import { benchCase, copyBandwidthGBps, formatTable } from './kernel-bench';
import { MATMUL_CASES } from './matmul-cases';

/** ?filter=TEXT keeps the cases whose "op shape" contains TEXT. */
export async function runKernelSuite(status: HTMLElement, table: HTMLElement, params: URLSearchParams): Promise<KernelBenchResult> {
  const filter = params.get('filter') ?? '';
  const gpu = await acquireGpu(navigator.gpu);
  const rt = new GpuRuntime(gpu);
  const cases = [...MATMUL_CASES, ...ATTENTION_CASES].filter((c) => `${c.op} ${c.shape}`.includes(filter));
  const rows: BenchRow[] = [];
  for (const [i, c] of cases.entries()) {
    status.textContent = `Running ${i + 1} of ${cases.length}: ${c.op} ${c.shape}`;
    rows.push(await benchCase(rt, c));
    table.textContent = formatTable(rows, NaN);
  }
  status.textContent = 'Measuring buffer copy bandwidth';
  const copyGBps = await copyBandwidthGBps(gpu.device);
  table.textContent = formatTable(rows, copyGBps);
  status.textContent = `Done on ${adapterName(gpu.report)}.`;
  return { adapter: adapterName(gpu.report), rows, copyGBps };
}
