import { afterEach, describe, expect, it, vi } from 'vitest';
import { modelTable, runModelBench } from '../../src/bench/model-bench';
import { prepareHubRun, type HubRun } from '../../src/bench/model-hub';
import type { ChatReply, EngineKind, LoadModelOptions } from '../../src/worker/api';

// bench:model on a hub repo (SmolVLM at a real config): what each engine is
// asked to load, the per-tile and load figures, native's memory from the
// runtime's allocator, and the table's notes that say what was cut.
const CHECKPOINT = {
  standsInFor: 'HuggingFaceTB/SmolVLM-256M-Instruct',
  randomWeights: true,
  layers: { vision: 1, text: 1 },
  realLayers: { vision: 12, text: 30 },
  depthCut: true,
  parameters: 75_855_552,
  f32WeightBytes: 75_855_552 * 4,
  tokenizer: 'padded',
};

function hubRun(): HubRun {
  return { hubUrl: 'http://127.0.0.1:1', engines: ['native', 'transformers'], transformersDevice: 'webgpu', image: () => ({ width: 4, height: 1, data: new Uint8ClampedArray(16) }), tiles: 5, checkpoint: CHECKPOINT };
}

function fakeApi() {
  let engine: EngineKind = 'native';
  const loads: [string, LoadModelOptions][] = [];
  const reply = (): ChatReply => ({
    text: 'x',
    finishReason: 'length',
    promptTokens: 350,
    newTokens: 24,
    reusedPositions: 0,
    ttftMs: engine === 'native' ? 1000 : 3000,
    tokensPerSecond: engine === 'native' ? 30 : 10,
    encodeMs: engine === 'native' ? 500 : 2000,
    // What the engine itself reports: its weights plus the allocator's peak, which holds them already.
    peakGpuBytes: engine === 'native' ? 900 * 2 ** 20 : 0,
  });
  return {
    loads,
    api: {
      loadModel: (id: string, opts: LoadModelOptions) => {
        engine = opts.engine;
        loads.push([id, opts]);
        return Promise.resolve({ device: engine === 'native' ? 'native' : (opts.device ?? 'wasm') } as never);
      },
      chat: () => Promise.resolve(reply()),
      unloadModel: () => Promise.resolve(),
      gpuMemory: () => Promise.resolve({ bytesHeld: 0, peakBytes: 600 * 2 ** 20, buffersCreated: 1 }),
    },
  };
}

describe('bench:model on a hub repo', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('loads native and transformers (fp32, on the device named) from the hub and gives load, per-tile and allocator figures', async () => {
    const { api, loads } = fakeApi();
    const r = await runModelBench(api, CHECKPOINT.standsInFor, 1, { hub: hubRun() });
    expect(loads).toEqual([
      [CHECKPOINT.standsInFor, { engine: 'native', hubUrl: 'http://127.0.0.1:1' }],
      [CHECKPOINT.standsInFor, { engine: 'transformers', hubUrl: 'http://127.0.0.1:1', dtype: 'fp32', device: 'webgpu' }],
    ]);
    expect(r.engines.native).toMatchObject({ encodeMsPerTile: 100, peakGpuBytes: 600 * 2 ** 20 });
    expect(r.engines.native?.loadSeconds).toBeGreaterThanOrEqual(0);
    expect(r.engines.transformers).toMatchObject({ encodeMsPerTile: 400, peakGpuBytes: null, device: 'webgpu' });
    expect(r.transformersRatios).toEqual({ encode: 4, ttft: 3, decode: 3 });
    expect(r.hub).toMatchObject({ tiles: 5, transformersDevice: 'webgpu', checkpoint: { depthCut: true } });

    const t = modelTable(r);
    expect(t.head).toEqual(['engine', 'load s', 'encode ms', 'ms/tile', 'TTFT ms', 'decode tok/s', 'GPU MiB']);
    expect(t.body.map((row) => [row[0], ...row.slice(2)])).toEqual([
      ['native', '500.0', '100.0', '1000.0', '30.00', '600.0'],
      ['transformers (webgpu)', '2000.0', '400.0', '3000.0', '10.00', 'n/a'],
    ]);
    expect(t.notes).toContain(
      "random weights at HuggingFaceTB/SmolVLM-256M-Instruct's config, 75.9M parameters; layers vision 1/12, text 1/30 (depth cut: same per-layer shapes, times scale with depth)",
    );
    expect(t.notes).toContain('native peak GPU memory 2.07x its f32 weights (289.4 MiB)');
  });

  it("counts the tiles our processor makes of the bench image from the repo's preprocessor config", async () => {
    const files: Record<string, unknown> = {
      'config.json': { model_type: 'idefics3', vision_config: { image_size: 512 } },
      'preprocessor_config.json': { size: { longest_edge: 2048 }, max_image_size: { longest_edge: 512 }, do_image_splitting: true, resample: 1 },
    };
    vi.stubGlobal('fetch', (url: string) => {
      const body = files[url.split('/').pop() ?? ''];
      return Promise.resolve(new Response(body ? JSON.stringify(body) : 'Entry not found', { status: body ? 200 : 404 }));
    });
    const run = await prepareHubRun(CHECKPOINT.standsInFor, 'http://127.0.0.1:1');
    // 1024 x 256 -> 2048 x 512: one row of four 512 tiles, plus the global view.
    expect(run.tiles).toBe(5);
    expect(run.checkpoint).toBeNull();
    expect(run.engines).toEqual(['native', 'transformers']);
  });
});
