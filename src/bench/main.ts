/** bench.html: runs the kernel benchmark and leaves the result on window for scripts. */
import { acquireGpu, adapterName } from '../webgpu/device';
import { GpuRuntime } from '../webgpu/runtime';
import { ATTENTION_CASES } from './attention-cases';
import type { BenchRow, KernelBenchResult } from './bench-case';
import { benchCase, copyBandwidthGBps, formatTable } from './kernel-bench';
import { MATMUL_CASES } from './matmul-cases';

declare global {
  interface Window {
    benchResult?: KernelBenchResult;
    benchError?: string;
  }
}

async function main(): Promise<void> {
  const status = document.getElementById('bench-status');
  const table = document.getElementById('bench-table');
  if (!status || !table) throw new Error('bench.html is missing its elements');
  const filter = new URLSearchParams(location.search).get('filter') ?? '';
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
  window.benchResult = { adapter: adapterName(gpu.report), rows, copyGBps };
}

main().catch((err: unknown) => {
  window.benchError = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  const status = document.getElementById('bench-status');
  if (status) status.textContent = `Benchmark failed: ${window.benchError}`;
});
