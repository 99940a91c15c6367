import { afterAll, describe, expect, it } from 'vitest';
import * as Comlink from 'comlink';
import { Engine } from '../../src/worker/engine';
import { wrapEndpoint } from '../../src/worker/client';
import { VlmError } from '../../src/worker/errors';
import { nodeGpuEntry } from '../helpers/gpu';

// The same API the page uses, over a MessageChannel instead of a Worker.
const channel = new MessageChannel();
Comlink.expose(new Engine(() => nodeGpuEntry()), channel.port1);
const api = wrapEndpoint(channel.port2);

afterAll(() => {
  channel.port1.close();
  channel.port2.close();
});

describe('engine over Comlink', () => {
  it('describes the adapter', async () => {
    const info = await api.info();
    expect(info.name.length).toBeGreaterThan(0);
    expect(info.report.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(typeof info.report.features.subgroups).toBe('boolean');
  });

  it('runs the self-test kernel and agrees with the CPU', async () => {
    const r = await api.selfTest(333, 5);
    expect(r.passed).toBe(true);
    expect(r.n).toBe(333);
    expect(r.sample.gpu).toHaveLength(4);
    for (let i = 0; i < 4; i++) {
      expect(r.sample.gpu[i]).toBeCloseTo((r.sample.a[i] ?? 0) + (r.sample.b[i] ?? 0), 6);
    }
  });

  it('sends typed errors across the channel', async () => {
    const err = await api.selfTest(0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VlmError);
    expect((err as VlmError).code).toBe('bad-input');
  });

  it('reports a missing WebGPU as no-webgpu, not a crash', async () => {
    const ch = new MessageChannel();
    Comlink.expose(new Engine(() => undefined), ch.port1);
    const noGpu = wrapEndpoint(ch.port2);
    const err = await noGpu.info().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VlmError);
    expect((err as VlmError).code).toBe('no-webgpu');
    ch.port1.close();
    ch.port2.close();
  });
});
