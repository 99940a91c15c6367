/**
 * Whole-model speed of both engines on the bundled model, through the app's
 * own worker API: image encode time, time to first token, decode tokens/s and
 * the GPU memory each allocated, measured side by side in one page.
 */
import { Rng } from '../data/random';
import { generateScene } from '../data/scenes';
import type { ChatImage, ChatReply, EngineKind, VlmApi } from '../worker/api';
import { formatBenchTable, type BenchTable } from './bench-table';

export interface EngineFigures {
  encodeMs: number;
  ttftMs: number;
  decodeTokensPerSecond: number;
  peakGpuBytes: number;
  runs: number;
  newTokens: number;
}

export interface ModelBenchResult {
  model: string;
  /** Every engine when the run completed; those measured before the stop when it was cancelled. */
  engines: Partial<Record<EngineKind, EngineFigures>>;
  /** onnx / native time (or native / onnx rate): above 1 means native is faster. */
  encodeRatio: number;
  ttftRatio: number;
  decodeRatio: number;
  cancelled: boolean;
}

/** Thrown between runs when the signal aborts; caught by runModelBench, which keeps the engines done. */
class Cancelled extends Error {}

type Api = Pick<VlmApi, 'loadModel' | 'chat' | 'unloadModel'>;

function sceneImage(seed: number): ChatImage {
  const { raster } = generateScene(new Rng(seed), {});
  const rgba = new Uint8ClampedArray(raster.width * raster.height * 4);
  for (let p = 0; p < raster.width * raster.height; p++) {
    rgba.set(raster.data.subarray(p * 3, p * 3 + 3), p * 4);
    rgba[p * 4 + 3] = 255;
  }
  return { width: raster.width, height: raster.height, data: rgba };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export interface ModelBenchOptions {
  onStatus?: (s: string) => void;
  /** Checked between runs: an abort unloads the model and returns the engines measured so far. */
  signal?: AbortSignal;
}

export const MODEL_ENGINES: readonly EngineKind[] = ['native', 'onnx'];

async function runEngine(api: Api, model: string, engine: EngineKind, runs: number, opts: ModelBenchOptions): Promise<EngineFigures> {
  await api.loadModel(model, { engine });
  const replies: ChatReply[] = [];
  // Run 0 warms pipelines and shader caches; a new image each run keeps the KV cache from serving the prompt.
  for (let i = 0; i <= runs; i++) {
    if (opts.signal?.aborted) {
      await api.unloadModel();
      throw new Cancelled();
    }
    opts.onStatus?.(`${engine}: run ${i} of ${runs}${i === 0 ? ' (warm-up)' : ''}`);
    const reply = await api.chat({
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe this image in detail.' }, { type: 'image' }] }],
      images: [sceneImage(1000 + i)],
      // Up to 24 tokens; decode speed is per token, so an early stop does not skew it.
      options: { maxNewTokens: 24 },
    });
    if (i > 0) replies.push(reply);
  }
  await api.unloadModel();
  return {
    encodeMs: median(replies.map((r) => r.encodeMs)),
    ttftMs: median(replies.map((r) => r.ttftMs)),
    decodeTokensPerSecond: median(replies.map((r) => r.tokensPerSecond)),
    peakGpuBytes: Math.max(...replies.map((r) => r.peakGpuBytes)),
    runs,
    newTokens: median(replies.map((r) => r.newTokens)),
  };
}

export async function runModelBench(api: Api, model: string, runs: number, opts: ModelBenchOptions = {}): Promise<ModelBenchResult> {
  const engines: Partial<Record<EngineKind, EngineFigures>> = {};
  let cancelled = false;
  try {
    for (const engine of MODEL_ENGINES) engines[engine] = await runEngine(api, model, engine, runs, opts);
  } catch (err) {
    if (!(err instanceof Cancelled)) throw err;
    cancelled = true;
  }
  const { native, onnx } = engines;
  return {
    model,
    engines,
    encodeRatio: onnx && native ? onnx.encodeMs / native.encodeMs : NaN,
    ttftRatio: onnx && native ? onnx.ttftMs / native.ttftMs : NaN,
    decodeRatio: onnx && native ? native.decodeTokensPerSecond / onnx.decodeTokensPerSecond : NaN,
    cancelled,
  };
}

/** The model table: one row per engine measured, the native/onnx ratios beneath. */
export function modelTable(r: ModelBenchResult): BenchTable {
  const measured = MODEL_ENGINES.flatMap((e) => {
    const f = r.engines[e];
    return f ? [[e, f] as const] : [];
  });
  const body = measured.map(([name, f]) => [name, f.encodeMs.toFixed(1), f.ttftMs.toFixed(1), f.decodeTokensPerSecond.toFixed(2), (f.peakGpuBytes / 2 ** 20).toFixed(1)]);
  const first = measured[0]?.[1];
  const notes = [first ? `model ${r.model}, median of ${first.runs} runs, ${first.newTokens} new tokens each` : `model ${r.model}: no engine finished`];
  if (!Number.isNaN(r.encodeRatio)) {
    notes.push(`native/onnx: encode ${r.encodeRatio.toFixed(2)}x, TTFT ${r.ttftRatio.toFixed(2)}x, decode ${r.decodeRatio.toFixed(2)}x (above 1: native faster)`);
  }
  return { head: ['engine', 'encode ms', 'TTFT ms', 'decode tok/s', 'GPU MiB'], body, notes, textColumns: 1 };
}

export function formatModelBench(r: ModelBenchResult): string {
  return formatBenchTable(modelTable(r));
}
