/**
 * Our side of the kernel benchmark in Node through Dawn (`webgpu` package),
 * so the same cases can be timed on a machine with a real GPU driver
 * (VK_ICD_FILENAMES picks the Vulkan driver). onnxruntime-web's WebGPU
 * provider does not run in Node, so there is no ORT column here.
 */
import { create, globals } from 'webgpu';
import { acquireGpu, adapterName } from '../webgpu/device';
import { GpuRuntime } from '../webgpu/runtime';
import { kernelCases, type CaseSet } from './kernel-suite';
import { timeIt } from './timing';

export interface NodeBenchRow {
  op: string;
  shape: string;
  oursMs: number;
  gflops: number;
}

export async function runNodeBench(filter = '', set: CaseSet = 'all'): Promise<{ adapter: string; rows: NodeBenchRow[] }> {
  Object.assign(globalThis, globals);
  // Kept referenced for the whole run: Dawn's instance dies with this object.
  const entry = create([]);
  const gpu = await acquireGpu(entry);
  const rt = new GpuRuntime(gpu);
  const rows: NodeBenchRow[] = [];
  for (const c of kernelCases(filter, set)) {
    const runner = c.ours(rt);
    const t = await timeIt(() => runner.run());
    await runner.release();
    rows.push({ op: c.op, shape: c.shape, oursMs: t.medianMs, gflops: c.flops / (t.medianMs * 1e6) });
  }
  gpu.device.destroy();
  void entry;
  return { adapter: adapterName(gpu.report), rows };
}
