import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { acquireGpu, GpuUnavailableError } from '../../src/webgpu/device';
import { DeviceLimitError, GpuValidationError } from '../../src/webgpu/errors';
import type { KernelSpec } from '../../src/webgpu/kernel';
import { elementwise, type ElementwiseParams } from '../../src/webgpu/kernels/elementwise';
import { GpuRuntime } from '../../src/webgpu/runtime';
import { nodeGpuEntry, testRuntime } from '../helpers/gpu';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

/** One "decode-like" step: temporaries in, a chain of kernels, a readback, temporaries out. */
async function step(runtime: GpuRuntime, n: number): Promise<Float32Array> {
  const rng = new Rng(n);
  const a = runtime.upload(rng.floats(n), [n], 'step.a');
  const b = runtime.upload(rng.floats(n), [n], 'step.b');
  const ab = runtime.empty([n], 'f32', 'step.ab');
  const out = runtime.empty([n], 'f32', 'step.out');
  runtime.run(elementwise, [a, b], [ab], { op: 'add', n });
  runtime.run(elementwise, [ab, b], [out], { op: 'mul', n });
  const got = await runtime.readF32(out);
  for (const t of [a, b, ab, out]) runtime.release(t);
  return got;
}

describe('GpuRuntime', () => {
  it('a repeated step allocates no new buffers', async () => {
    const first = await step(rt, 300);
    const created = rt.memory().created;
    const second = await step(rt, 300);
    expect(rt.memory().created).toBe(created);
    expect(Array.from(second)).toEqual(Array.from(first));
  });

  it('reports held and peak bytes', async () => {
    await step(rt, 5000);
    const m = rt.memory();
    expect(m.bytesHeld).toBeGreaterThanOrEqual(4 * 5000 * 4);
    expect(m.peakBytes).toBeGreaterThanOrEqual(m.bytesHeld);
  });

  it('refuses a tensor over the binding limit, naming the limit', () => {
    const limit = rt.ctx.limits.maxStorageBufferBindingSize;
    const n = limit / 4 + 1;
    expect(() => rt.empty([n], 'f32', 'huge')).toThrow(DeviceLimitError);
    expect(() => rt.empty([n], 'f32', 'huge')).toThrow(/maxStorageBufferBindingSize/);
  });

  it('a lost device surfaces as a typed error and a new runtime works', async () => {
    const gpu = await acquireGpu(nodeGpuEntry());
    const doomed = new GpuRuntime(gpu);
    await step(doomed, 10);
    gpu.device.destroy();
    await gpu.lost;
    // Let the runtime's own lost handler run.
    await new Promise((r) => setTimeout(r, 0));
    let err: unknown = null;
    try {
      doomed.empty([4], 'f32', 'after-loss');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GpuUnavailableError);
    expect((err as GpuUnavailableError).code).toBe('device-lost');
    const fresh = new GpuRuntime(await acquireGpu(nodeGpuEntry()));
    const got = await step(fresh, 10);
    expect(got.every((x) => Number.isFinite(x))).toBe(true);
  });
});

describe('GpuRuntime error reporting', () => {
  it('a kernel whose WGSL fails to compile raises a typed error instead of leaving stale outputs', async () => {
    const runtime = await testRuntime();
    const broken = { ...elementwise, name: 'broken', wgsl: elementwise.wgsl.replace('a[i] + b[i]', 'a[i] + undefined_name'), pipelineKey: () => 'broken.add' };
    const a = runtime.upload(new Float32Array([1, 2]), [2], 'a');
    const out = runtime.empty([2], 'f32', 'out');
    runtime.run(broken, [a, a], [out], { op: 'add', n: 2 });
    await expect(runtime.readF32(out)).rejects.toThrow(GpuValidationError);
    // The error is reported once; the runtime keeps working afterwards.
    runtime.run(elementwise, [a, a], [out], { op: 'add', n: 2 });
    expect(Array.from(await runtime.readF32(out))).toEqual([2, 4]);
  });
});

describe('GpuRuntime buffer reuse within a step', () => {
  it('a tensor released mid-step is not handed to an upload before the step runs', async () => {
    const runtime = await testRuntime();
    const n = 64;
    const a = runtime.upload(new Float32Array(n).fill(1), [n], 'a');
    const b = runtime.upload(new Float32Array(n).fill(2), [n], 'b');
    const out = runtime.empty([n], 'f32', 'out');
    runtime.run(elementwise, [a, b], [out], { op: 'add', n });
    // b is still read by the recorded add; a new upload of the same size must not land in it.
    runtime.release(b);
    const c = runtime.upload(new Float32Array(n).fill(100), [n], 'c');
    expect(c.buffer).not.toBe(b.buffer);
    expect(Array.from(await runtime.readF32(out))).toEqual(new Array(n).fill(3));
    // After the submit the buffer is back in the pool.
    const d = runtime.empty([n], 'f32', 'd');
    expect(d.buffer).toBe(b.buffer);
  });

  it('copies element ranges between tensors in step order', async () => {
    const runtime = await testRuntime();
    const src = runtime.upload(new Float32Array([1, 2, 3, 4, 5]), [5], 'src');
    const dst = runtime.upload(new Float32Array([0, 0, 0, 0]), [4], 'dst');
    runtime.copy(src, 1, dst, 2, 2);
    expect(Array.from(await runtime.readF32(dst))).toEqual([0, 0, 2, 3]);
    expect(() => runtime.copy(src, 4, dst, 0, 2)).toThrow(/runs past/);
  });
});

describe('GpuRuntime resolve step', () => {
  it("resolves a spec's params once per run and hands that value to every method", async () => {
    const runtime = await testRuntime();
    let resolves = 0;
    const seen = new Set<ElementwiseParams>();
    const saw = <T>(p: ElementwiseParams, value: T): T => {
      seen.add(p);
      return value;
    };
    const adder: KernelSpec<{ n: number }, ElementwiseParams> = {
      name: 'resolved-add',
      wgsl: elementwise.wgsl,
      resolve(p) {
        resolves++;
        return { op: 'add', n: p.n };
      },
      validate: (inputs, outputs, p) => saw(p, elementwise.validate(inputs, outputs, p)),
      entryPoint: (p, ctx) => saw(p, elementwise.entryPoint(p, ctx)),
      pipelineKey: (p, ctx) => saw(p, elementwise.pipelineKey(p, ctx)),
      uniforms: (p, ctx) => saw(p, elementwise.uniforms(p, ctx)),
      dispatch: (p, ctx) => saw(p, elementwise.dispatch(p, ctx)),
    };
    const a = runtime.upload(new Float32Array([1, 2, 3]), [3], 'a');
    const out = runtime.empty([3], 'f32', 'out');
    runtime.run(adder, [a, a], [out], { n: 3 });
    expect(resolves).toBe(1);
    expect(seen.size).toBe(1);
    expect(Array.from(await runtime.readF32(out))).toEqual([2, 4, 6]);
  });
});
