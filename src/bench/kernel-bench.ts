/** Runs benchmark cases side by side, ours then ORT, on one device in one page. */
import type { GpuRuntime } from '../webgpu/runtime';
import type { BenchCase, BenchRow } from './bench-case';
import { formatBenchTable, type BenchTable } from './bench-table';
import { timeIt } from './timing';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number));
    m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(m, d);
  }
  return m;
}

export async function benchCase(rt: GpuRuntime, c: BenchCase): Promise<BenchRow> {
  const ours = c.ours(rt);
  const oursTime = await timeIt(() => ours.run());
  const oursOut = await ours.output();
  await ours.release();
  const ort = await c.ort();
  const ortTime = await timeIt(() => ort.run());
  const ortOut = await ort.output();
  await ort.release();
  const gflops = (ms: number) => c.flops / (ms * 1e6);
  const want = c.reference?.();
  return {
    op: c.op,
    shape: c.shape,
    oursMs: oursTime.medianMs,
    ortMs: ortTime.medianMs,
    ratio: ortTime.medianMs / oursTime.medianMs,
    oursGflops: gflops(oursTime.medianMs),
    ortGflops: gflops(ortTime.medianMs),
    maxDiff: maxAbsDiff(oursOut, ortOut),
    oursErr: want ? maxAbsDiff(oursOut, want) : NaN,
    ortErr: want ? maxAbsDiff(ortOut, want) : NaN,
  };
}

/** Device-to-device copy rate of a 64 MiB buffer: the memory roofline of this adapter. */
export async function copyBandwidthGBps(device: GPUDevice, bytes = 64 << 20): Promise<number> {
  const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const src = device.createBuffer({ label: 'bench.copy.src', size: bytes, usage });
  const dst = device.createBuffer({ label: 'bench.copy.dst', size: bytes, usage });
  const t = await timeIt(async () => {
    const enc = device.createCommandEncoder({ label: 'bench.copy' });
    enc.copyBufferToBuffer(src, 0, dst, 0, bytes);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  });
  src.destroy();
  dst.destroy();
  return bytes / (t.medianMs * 1e6);
}

/** The kernel table: one row per op and shape, the median ratio and the copy rate beneath. */
export function kernelTable(rows: readonly BenchRow[], copyGBps: number): BenchTable {
  const head = ['op', 'shape', 'ours ms', 'ORT ms', 'ratio', 'ours GFLOP/s', 'ORT GFLOP/s', '|ours-ORT|', 'ours err', 'ORT err'];
  const body = rows.map((r) => [
    r.op,
    r.shape,
    r.oursMs.toFixed(2),
    r.ortMs.toFixed(2),
    `${r.ratio.toFixed(2)}x`,
    r.oursGflops.toFixed(3),
    r.ortGflops.toFixed(3),
    r.maxDiff.toExponential(1),
    r.oursErr.toExponential(1),
    r.ortErr.toExponential(1),
  ]);
  const ratios = rows.map((r) => r.ratio).sort((a, b) => a - b);
  const median = ratios.length ? (ratios[Math.floor(ratios.length / 2)] as number) : NaN;
  const notes = [`median ratio (ORT ms / ours ms): ${median.toFixed(2)}x`];
  if (!Number.isNaN(copyGBps)) notes.push(`buffer copy: ${copyGBps.toFixed(2)} GB/s`);
  return { head, body, notes, textColumns: 2 };
}

export function formatTable(rows: readonly BenchRow[], copyGBps: number): string {
  return formatBenchTable(kernelTable(rows, copyGBps));
}
