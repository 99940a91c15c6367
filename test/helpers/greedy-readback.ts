/**
 * Greedy search through an engine's decodeGreedy as the chat loop runs it,
 * counting what each decode step maps and reads back: the check that a
 * native engine takes the argmax on the GPU and reads 4 bytes a token.
 */
import { expect, vi } from 'vitest';
import type { ImageInput, VlmEngine } from '../../src/models/engine';
import { generate } from '../../src/models/generation';
import type { GpuRuntime } from '../../src/webgpu/runtime';

export type GreedyEngine = Pick<VlmEngine, 'prefill'> & { decodeGreedy(id: number): Promise<number> };

export interface GreedyRun {
  ids: number[];
  /** Per decode step: buffers mapped and the shapes of the tensors read back. */
  steps: { maps: number; read: number[][] }[];
}

/** The chat loop's greedy search through an engine, counting what each decode step reads back. */
export async function greedyThroughEngine(rt: GpuRuntime, engine: GreedyEngine, ids: number[], inputs: ImageInput[], maxNew: number, stops: number[]): Promise<GreedyRun> {
  const first = await engine.prefill(Int32Array.from(ids), inputs);
  const probe = rt.device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'test.probe' });
  const maps = vi.spyOn(Object.getPrototypeOf(probe) as GPUBuffer, 'mapAsync');
  const reads = vi.spyOn(rt, 'read');
  const steps: GreedyRun['steps'] = [];
  const count = (): void => {
    steps.push({ maps: maps.mock.calls.length, read: reads.mock.calls.map(([t]) => [...t.shape]) });
    maps.mockClear();
    reads.mockClear();
  };
  try {
    const decode = engine.decodeGreedy.bind(engine);
    const result = await generate(first, () => Promise.reject(new Error('greedy search asked for logits')), { maxNewTokens: maxNew, stopTokenIds: stops }, ids, () => undefined, undefined, async (id) => {
      maps.mockClear();
      reads.mockClear();
      const next = await decode(id);
      count();
      return next;
    });
    return { ids: result.ids, steps };
  } finally {
    maps.mockRestore();
    reads.mockRestore();
    probe.destroy();
  }
}

export const expectOneIdPerStep = (run: GreedyRun): void => {
  expect(run.steps.length).toBeGreaterThan(0);
  for (const s of run.steps) {
    expect(s.maps).toBe(1);
    expect(s.read).toEqual([[1]]);
  }
};
