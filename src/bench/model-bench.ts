/**
 * Whole-model speed of both engines on the bundled model, through the app's
 * own worker API: image encode time, time to first token, decode tokens/s and
 * the GPU memory each allocated, measured side by side in one page.
 */
import { Rng } from '../data/random';
import { generateScene } from '../data/scenes';
import type { ChatImage, ChatReply, EngineKind, VlmApi } from '../worker/api';

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
  engines: Record<EngineKind, EngineFigures>;
  /** onnx / native time (or native / onnx rate): above 1 means native is faster. */
  encodeRatio: number;
  ttftRatio: number;
  decodeRatio: number;
}

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

async function runEngine(api: Api, model: string, engine: EngineKind, runs: number, onStatus: (s: string) => void): Promise<EngineFigures> {
  await api.loadModel(model, { engine });
  const replies: ChatReply[] = [];
  // Run 0 warms pipelines and shader caches; a new image each run keeps the KV cache from serving the prompt.
  for (let i = 0; i <= runs; i++) {
    onStatus(`${engine}: run ${i} of ${runs}`);
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

export async function runModelBench(api: Api, model: string, runs: number, onStatus: (s: string) => void = () => undefined): Promise<ModelBenchResult> {
  const native = await runEngine(api, model, 'native', runs, onStatus);
  const onnx = await runEngine(api, model, 'onnx', runs, onStatus);
  return {
    model,
    engines: { native, onnx },
    encodeRatio: onnx.encodeMs / native.encodeMs,
    ttftRatio: onnx.ttftMs / native.ttftMs,
    decodeRatio: native.decodeTokensPerSecond / onnx.decodeTokensPerSecond,
  };
}

export function formatModelBench(r: ModelBenchResult): string {
  const row = (name: string, f: EngineFigures) =>
    `${name.padEnd(8)} ${f.encodeMs.toFixed(1).padStart(10)} ${f.ttftMs.toFixed(1).padStart(10)} ${f.decodeTokensPerSecond.toFixed(2).padStart(12)} ${(f.peakGpuBytes / 2 ** 20).toFixed(1).padStart(10)}`;
  return [
    `model ${r.model}, median of ${r.engines.native.runs} runs, ${r.engines.native.newTokens} new tokens each`,
    `engine   ${'encode ms'.padStart(10)} ${'TTFT ms'.padStart(10)} ${'decode tok/s'.padStart(12)} ${'GPU MiB'.padStart(10)}`,
    row('native', r.engines.native),
    row('onnx', r.engines.onnx),
    `native/onnx: encode ${r.encodeRatio.toFixed(2)}x, TTFT ${r.ttftRatio.toFixed(2)}x, decode ${r.decodeRatio.toFixed(2)}x (above 1: native faster)`,
  ].join('\n');
}
