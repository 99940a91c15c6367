/**
 * WebGPU in Node through Dawn (`webgpu` package). The object from create()
 * must stay referenced for the whole test file: if it is garbage-collected
 * the Dawn instance goes with it and the test process dies. Module scope
 * keeps it alive; vitest gives every file its own process (pool: forks).
 */
import { create, globals } from 'webgpu';
import { acquireGpu, type Gpu } from '../../src/webgpu/device';
import { GpuRuntime } from '../../src/webgpu/runtime';

Object.assign(globalThis, globals);

let nodeGpu: GPU | null = null;
let shared: Promise<Gpu> | null = null;

/** The Node `GPU` entry point (what navigator.gpu is in a browser). */
export function nodeGpuEntry(): GPU {
  nodeGpu ??= create([]);
  return nodeGpu;
}

/** One device for the whole file. */
export function testGpu(): Promise<Gpu> {
  shared ??= acquireGpu(nodeGpuEntry());
  return shared;
}

export async function testRuntime(): Promise<GpuRuntime> {
  return new GpuRuntime(await testGpu());
}

/** Skip on adapters without shader-f16, unless this run was started to test f16 (`npm run test:f16` sets REQUIRE_F16). */
export function needF16(rt: GpuRuntime, skip: (note: string) => void): void {
  if (rt.ctx.features['shader-f16']) return;
  if (process.env.REQUIRE_F16) throw new Error('REQUIRE_F16 is set but the adapter has no shader-f16');
  skip('adapter has no shader-f16');
}
