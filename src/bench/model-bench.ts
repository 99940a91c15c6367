/**
 * Whole-model speed of every engine on the bundled model, through the app's
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
  /** null where the engine does not report it (transformers.js keeps its sessions' memory to itself). */
  peakGpuBytes: number | null;
  runs: number;
  newTokens: number;
  /** Where it ran, as the load reported: 'native', 'webgpu', or 'wasm' (transformers on a software adapter). */
  device: string;
}

/** native against another engine: above 1 means native is faster. */
export interface EngineRatios {
  /** other / native time */
  encode: number;
  ttft: number;
  /** native / other tokens per second */
  decode: number;
}

export interface ModelBenchResult {
  model: string;
  /** Every engine when the run completed; those measured before the stop when it was cancelled. */
  engines: Partial<Record<EngineKind, EngineFigures>>;
  /** onnx / native time (or native / onnx rate): above 1 means native is faster. */
  encodeRatio: number;
  ttftRatio: number;
  decodeRatio: number;
  /** native against transformers.js, as the three above are against onnx; NaN where either was not measured. */
  transformersRatios: EngineRatios;
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

export const MODEL_ENGINES: readonly EngineKind[] = ['native', 'onnx', 'transformers'];

async function runEngine(api: Api, model: string, engine: EngineKind, runs: number, opts: ModelBenchOptions): Promise<EngineFigures> {
  // The transformers engine runs where the app would run it: WebGPU, or wasm on a software adapter.
  const { device } = await api.loadModel(model, { engine });
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
    peakGpuBytes: engine === 'transformers' ? null : Math.max(...replies.map((r) => r.peakGpuBytes)),
    runs,
    newTokens: median(replies.map((r) => r.newTokens)),
    device,
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
  const onnx = ratios(engines.native, engines.onnx);
  return {
    model,
    engines,
    encodeRatio: onnx.encode,
    ttftRatio: onnx.ttft,
    decodeRatio: onnx.decode,
    transformersRatios: ratios(engines.native, engines.transformers),
    cancelled,
  };
}

function ratios(native: EngineFigures | undefined, other: EngineFigures | undefined): EngineRatios {
  if (!native || !other) return { encode: NaN, ttft: NaN, decode: NaN };
  return { encode: other.encodeMs / native.encodeMs, ttft: other.ttftMs / native.ttftMs, decode: native.decodeTokensPerSecond / other.decodeTokensPerSecond };
}

const ratioNote = (other: string, r: EngineRatios) =>
  `native/${other}: encode ${r.encode.toFixed(2)}x, TTFT ${r.ttft.toFixed(2)}x, decode ${r.decode.toFixed(2)}x (above 1: native faster)`;

/** The model table: one row per engine measured, native's ratios to the others beneath. */
export function modelTable(r: ModelBenchResult): BenchTable {
  const measured = MODEL_ENGINES.flatMap((e) => {
    const f = r.engines[e];
    return f ? [[e, f] as const] : [];
  });
  const body = measured.map(([name, f]) => [
    name === 'transformers' ? `${name} (${f.device})` : name,
    f.encodeMs.toFixed(1),
    f.ttftMs.toFixed(1),
    f.decodeTokensPerSecond.toFixed(2),
    f.peakGpuBytes === null ? 'n/a' : (f.peakGpuBytes / 2 ** 20).toFixed(1),
  ]);
  const first = measured[0]?.[1];
  const notes = [first ? `model ${r.model}, median of ${first.runs} runs, ${first.newTokens} new tokens each` : `model ${r.model}: no engine finished`];
  if (!Number.isNaN(r.encodeRatio)) notes.push(ratioNote('onnx', { encode: r.encodeRatio, ttft: r.ttftRatio, decode: r.decodeRatio }));
  if (!Number.isNaN(r.transformersRatios.encode)) notes.push(ratioNote('transformers', r.transformersRatios));
  if (r.engines.transformers) notes.push('transformers.js does not report its GPU memory (n/a)');
  return { head: ['engine', 'encode ms', 'TTFT ms', 'decode tok/s', 'GPU MiB'], body, notes, textColumns: 1 };
}

export function formatModelBench(r: ModelBenchResult): string {
  return formatBenchTable(modelTable(r));
}
