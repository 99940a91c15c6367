/** Measuring the buffer pool's peak around encodes, on a runtime whose pool no other test shares. */
import { Scope } from '../../src/models/native/ops';
import { GpuRuntime } from '../../src/webgpu/runtime';
import { testGpu } from './gpu';

/** A runtime of its own (its own buffer pool, so its peak is this test's alone) on the shared device. */
export async function freshRuntime(): Promise<GpuRuntime> {
  return new GpuRuntime(await testGpu());
}

/** Runs each encode in a scope of its own, released after it, and gives the pool's peak after each with the number of features each returned. */
export async function peaksAfter(rt: GpuRuntime, encodes: readonly ((s: Scope) => Promise<readonly unknown[]>)[]): Promise<{ peaks: number[]; counts: number[] }> {
  const peaks: number[] = [];
  const counts: number[] = [];
  for (const encode of encodes) {
    const s = new Scope(rt);
    try {
      counts.push((await encode(s)).length);
    } finally {
      s.release();
    }
    peaks.push(rt.memory().peakBytes);
  }
  return { peaks, counts };
}
