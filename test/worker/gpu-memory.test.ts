/**
 * Unload gives back every GPU buffer the model owned: GPU bytes held by the
 * runtime return to what they were before the load, so load/unload cycles
 * stay flat (before, only the KV cache was freed and each load added the
 * weights again). Also: a Stop while the prompt is read ends the answer there.
 */
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../src/worker/api';
import { VlmError } from '../../src/worker/errors';
import { ModelSession } from '../../src/worker/jobs/model-session';
import { acquireGpu } from '../../src/webgpu/device';
import { GpuRuntime } from '../../src/webgpu/runtime';
import { nodeGpuEntry, testRuntime } from '../helpers/gpu';
import { bundledModelFiles } from '../models/fs-files';

const runtime = testRuntime();
const session = new ModelSession(() => runtime);

/** A 32x32 red square, RGBA. */
function redSquare(): ChatRequest['images'][number] {
  const data = new Uint8ClampedArray(32 * 32 * 4);
  for (let p = 0; p < 32 * 32; p++) data.set([220, 30, 30, 255], p * 4);
  return { width: 32, height: 32, data };
}

const ask = (): ChatRequest => ({
  messages: [{ role: 'user', content: [{ type: 'text', text: 'What colour is the shape?' }, { type: 'image' }] }],
  images: [redSquare()],
  options: { maxNewTokens: 4 },
});

describe('GPU memory over load and unload', () => {
  it('returns to the bytes held before the load after each of three cycles, with an answer in each', async () => {
    const rt = await runtime;
    const baseline = rt.memory().bytesHeld;
    const loaded: number[] = [];
    for (let i = 0; i < 3; i++) {
      await session.load('webvlm-tiny', { engine: 'native' }, bundledModelFiles());
      const reply = await session.chat(ask());
      expect(reply.newTokens).toBeGreaterThan(0);
      loaded.push(rt.memory().bytesHeld);
      await session.unload();
      expect(rt.memory().bytesHeld, `after unload ${i + 1}`).toBe(baseline);
    }
    expect(loaded[0]).toBeGreaterThan(baseline + 1_000_000);
    expect(loaded[1]).toBe(loaded[0]);
    expect(loaded[2]).toBe(loaded[0]);
  }, 120_000);

  it('frees int8 weights too, and a reload in place of a loaded model does not add up', async () => {
    const rt = await runtime;
    const baseline = rt.memory().bytesHeld;
    await session.load('webvlm-tiny', { engine: 'native', dtype: 'int8' }, bundledModelFiles());
    const once = rt.memory().bytesHeld;
    await session.load('webvlm-tiny', { engine: 'native', dtype: 'int8' }, bundledModelFiles());
    expect(rt.memory().bytesHeld).toBe(once);
    await session.unload();
    expect(rt.memory().bytesHeld).toBe(baseline);
  }, 120_000);

  it('a Stop while the image and prompt are read ends the answer with nothing generated', async () => {
    await session.load('webvlm-tiny', { engine: 'native' }, bundledModelFiles());
    const stop = new AbortController();
    const answering = session.chat(ask(), undefined, stop.signal);
    stop.abort();
    const reply = await answering;
    expect(reply.finishReason).toBe('cancelled');
    expect(reply.newTokens).toBe(0);
    // The model still answers afterwards, from a clean cache.
    const next = await session.chat(ask());
    expect(next.finishReason).not.toBe('cancelled');
    expect(next.reusedPositions).toBe(0);
    await session.unload();
  }, 120_000);

  it('an out-of-memory while the weights go up rejects the load as out-of-memory and keeps nothing', async () => {
    const rt = await runtime;
    const baseline = rt.memory().bytesHeld;
    const device = rt.device;
    const pop = device.popErrorScope.bind(device);
    // SwiftShader has memory to spare: the device reports what a full GPU would, for the load's out-of-memory scope.
    let scopes = 0;
    device.popErrorScope = async () => {
      const real = await pop();
      return ++scopes === 1 ? ({ message: 'Not enough memory left.', constructor: { name: 'GPUOutOfMemoryError' } } as unknown as GPUError) : real;
    };
    try {
      const err = await session.load('webvlm-tiny', { engine: 'native' }, bundledModelFiles()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VlmError);
      expect((err as VlmError).code).toBe('out-of-memory');
      expect((err as VlmError).message).toMatch(/weights of webvlm-tiny/);
    } finally {
      device.popErrorScope = pop;
    }
    expect(session.info()).toBeNull();
    expect(rt.memory().bytesHeld).toBe(baseline);
  }, 120_000);

  it('a lost device drops the model, so the next load starts afresh and answers', async () => {
    // A device of its own: losing the shared one would end the other tests.
    const fresh = async () => new GpuRuntime(await acquireGpu(nodeGpuEntry()));
    let rt = await fresh();
    // As the engine does: a lost device's runtime is replaced on the next use.
    let lostOnce = false;
    const own = new ModelSession(async () => {
      if (lostOnce) {
        lostOnce = false;
        rt = await fresh();
      }
      return rt;
    });
    await own.load('webvlm-tiny', { engine: 'native' }, bundledModelFiles());
    rt.device.destroy();
    await rt.gpu.lost;
    lostOnce = true;
    const err = await own.chat(ask()).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('device-lost');
    expect(own.info()).toBeNull();
    await own.load('webvlm-tiny', { engine: 'native' }, bundledModelFiles());
    expect((await own.chat(ask())).newTokens).toBeGreaterThan(0);
    await own.unload();
  }, 120_000);
});
