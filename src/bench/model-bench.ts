/**
 * Whole-model speed of every engine on the bundled model, through the app's
 * own worker API: image encode time, time to first token, decode tokens/s and
 * the GPU memory each allocated, measured side by side in one page.
 */
import { Rng } from '../data/random';
import { generateScene } from '../data/scenes';
import type { ChatImage, ChatReply, EngineKind, VlmApi } from '../worker/api';
import { formatBenchTable, type BenchTable } from './bench-table';
import type { HubCheckpoint, HubRun } from './model-hub';

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
  /** Hub runs: seconds from loadModel to ready, the files fetched from the hub into the weight cache included. */
  loadSeconds?: number;
  /** Hub runs: encodeMs over the tiles the image becomes (SmolVLM's 512 x 512 crops plus the global view). */
  encodeMsPerTile?: number;
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
  /** Hub runs: where the files came from, the tiles per image and the checkpoint's real_size.json (null for a real repo). */
  hub?: { hubUrl: string; tiles: number; transformersDevice: string; checkpoint: HubCheckpoint | null };
}

/** Thrown between runs when the signal aborts; caught by runModelBench, which keeps the engines done. */
class Cancelled extends Error {}

/** gpuMemory, when given, is read for native on a hub run: our runtime's allocator, every buffer it made counted once. */
type Api = Pick<VlmApi, 'loadModel' | 'chat' | 'unloadModel'> & Partial<Pick<VlmApi, 'gpuMemory'>>;

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
  /** A hub repo (SmolVLM) instead of the bundled model: its engines, hub, image and tile count. */
  hub?: HubRun;
}

export const MODEL_ENGINES: readonly EngineKind[] = ['native', 'onnx', 'transformers'];

async function runEngine(api: Api, model: string, engine: EngineKind, runs: number, opts: ModelBenchOptions): Promise<EngineFigures> {
  // The transformers engine runs where the app would run it (WebGPU, or wasm on a software adapter) unless the hub run names a device;
  // on a hub repo it reads the fp32 ONNX files, the same numbers the native engine reads from model.safetensors.
  const hub = opts.hub;
  const tjs = engine === 'transformers' && hub ? { dtype: 'fp32' as const, ...(hub.transformersDevice ? { device: hub.transformersDevice } : {}) } : {};
  const loadStart = performance.now();
  const { device } = await api.loadModel(model, { engine, ...(hub ? { hubUrl: hub.hubUrl } : {}), ...tjs });
  const loadSeconds = (performance.now() - loadStart) / 1000;
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
      images: [hub ? hub.image(i) : sceneImage(1000 + i)],
      // Up to 24 tokens; decode speed is per token, so an early stop does not skew it.
      options: { maxNewTokens: 24 },
    });
    if (i > 0) replies.push(reply);
  }
  // The engine's own figure adds its weights to the allocator's peak, which already holds them (the weights come from the same pool).
  // A hub run reads the allocator itself: bench.html's worker starts fresh and native runs first, so its peak is native's.
  const allocatorPeak = engine === 'native' && hub && api.gpuMemory ? (await api.gpuMemory()).peakBytes : null;
  await api.unloadModel();
  const encodeMs = median(replies.map((r) => r.encodeMs));
  return {
    encodeMs,
    ttftMs: median(replies.map((r) => r.ttftMs)),
    decodeTokensPerSecond: median(replies.map((r) => r.tokensPerSecond)),
    peakGpuBytes: engine === 'transformers' ? null : (allocatorPeak ?? Math.max(...replies.map((r) => r.peakGpuBytes))),
    runs,
    newTokens: median(replies.map((r) => r.newTokens)),
    device,
    ...(hub ? { loadSeconds, encodeMsPerTile: encodeMs / hub.tiles } : {}),
  };
}

export async function runModelBench(api: Api, model: string, runs: number, opts: ModelBenchOptions = {}): Promise<ModelBenchResult> {
  const engines: Partial<Record<EngineKind, EngineFigures>> = {};
  let cancelled = false;
  try {
    for (const engine of opts.hub?.engines ?? MODEL_ENGINES) engines[engine] = await runEngine(api, model, engine, runs, opts);
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
    ...(opts.hub ? { hub: hubSummary(opts.hub, engines.transformers?.device) } : {}),
  };
}

function hubSummary(hub: HubRun, tjsDevice: string | undefined): NonNullable<ModelBenchResult['hub']> {
  return { hubUrl: hub.hubUrl, tiles: hub.tiles, transformersDevice: tjsDevice ?? hub.transformersDevice ?? 'not run', checkpoint: hub.checkpoint };
}

function ratios(native: EngineFigures | undefined, other: EngineFigures | undefined): EngineRatios {
  if (!native || !other) return { encode: NaN, ttft: NaN, decode: NaN };
  return { encode: other.encodeMs / native.encodeMs, ttft: other.ttftMs / native.ttftMs, decode: native.decodeTokensPerSecond / other.decodeTokensPerSecond };
}

const ratioNote = (other: string, r: EngineRatios) =>
  `native/${other}: encode ${r.encode.toFixed(2)}x, TTFT ${r.ttft.toFixed(2)}x, decode ${r.decode.toFixed(2)}x (above 1: native faster)`;

/** Hub runs: what was loaded (the depth cut said plainly), the tiles per image, load times and native's peak against its weights. */
function hubNotes(r: ModelBenchResult): string[] {
  const hub = r.hub;
  if (!hub) return [];
  const c = hub.checkpoint;
  const notes = [
    c
      ? `random weights at ${c.standsInFor}'s config, ${(c.parameters / 1e6).toFixed(1)}M parameters; layers vision ${c.layers.vision}/${c.realLayers.vision}, text ${c.layers.text}/${c.realLayers.text}${c.depthCut ? ' (depth cut: same per-layer shapes, times scale with depth)' : ''}`
      : `${r.model} as the hub serves it`,
    `one image of ${hub.tiles} tiles (512 x 512 crops plus the global view) per run; files from ${hub.hubUrl} through the weight cache`,
  ];
  const native = r.engines.native;
  const tjs = r.engines.transformers;
  if (native?.loadSeconds !== undefined && tjs?.loadSeconds !== undefined) notes.push(`load: transformers/native ${(tjs.loadSeconds / native.loadSeconds).toFixed(2)}x (above 1: native faster)`);
  if (native?.peakGpuBytes && c) notes.push(`native peak GPU memory ${(native.peakGpuBytes / c.f32WeightBytes).toFixed(2)}x its f32 weights (${(c.f32WeightBytes / 2 ** 20).toFixed(1)} MiB)`);
  return notes;
}

/** The model table: one row per engine measured, native's ratios to the others beneath (hub runs add load time and encode per tile). */
export function modelTable(r: ModelBenchResult): BenchTable {
  const measured = MODEL_ENGINES.flatMap((e) => {
    const f = r.engines[e];
    return f ? [[e, f] as const] : [];
  });
  const hub = r.hub !== undefined;
  const body = measured.map(([name, f]) => [
    name === 'transformers' ? `${name} (${f.device})` : name,
    ...(hub ? [(f.loadSeconds ?? NaN).toFixed(1)] : []),
    f.encodeMs.toFixed(1),
    ...(hub ? [(f.encodeMsPerTile ?? NaN).toFixed(1)] : []),
    f.ttftMs.toFixed(1),
    f.decodeTokensPerSecond.toFixed(2),
    f.peakGpuBytes === null ? 'n/a' : (f.peakGpuBytes / 2 ** 20).toFixed(1),
  ]);
  const first = measured[0]?.[1];
  const notes = [first ? `model ${r.model}, median of ${first.runs} runs, ${first.newTokens} new tokens each` : `model ${r.model}: no engine finished`];
  notes.push(...hubNotes(r));
  if (!Number.isNaN(r.encodeRatio)) notes.push(ratioNote('onnx', { encode: r.encodeRatio, ttft: r.ttftRatio, decode: r.decodeRatio }));
  if (!Number.isNaN(r.transformersRatios.encode)) notes.push(ratioNote('transformers', r.transformersRatios));
  if (r.engines.transformers) notes.push('transformers.js does not report its GPU memory (n/a)');
  const head = hub ? ['engine', 'load s', 'encode ms', 'ms/tile', 'TTFT ms', 'decode tok/s', 'GPU MiB'] : ['engine', 'encode ms', 'TTFT ms', 'decode tok/s', 'GPU MiB'];
  return { head, body, notes, textColumns: 1 };
}

export function formatModelBench(r: ModelBenchResult): string {
  return formatBenchTable(modelTable(r));
}
