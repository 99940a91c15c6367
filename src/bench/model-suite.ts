/**
 * The model benchmark: every engine (native, onnx, transformers) on one model through the app's worker.
 * bench.html?suite=model (and so `npm run bench:model`) and the app's
 * Benchmark view both run it through runModelSuite. With a hub root it runs a
 * hub repo (SmolVLM) on the engines that run it, native and transformers.
 */
import type { VlmApi } from '../worker/api';
import { runModelBench, type ModelBenchResult } from './model-bench';
import { prepareHubRun } from './model-hub';

export const DEFAULT_MODEL = 'webvlm-tiny';

export interface ModelSuiteOptions {
  model?: string;
  /** Timed runs per engine, after one warm-up run. */
  runs: number;
  /** Load `model` from this hub root (e.g. a local server standing in for huggingface.co). */
  hubUrl?: string;
  /** Hub runs: where the transformers engine runs; default the app's choice for this adapter. */
  transformersDevice?: 'webgpu' | 'wasm';
  signal?: AbortSignal;
  onStatus?: (s: string) => void;
}

export async function runModelSuite(api: Pick<VlmApi, 'loadModel' | 'chat' | 'unloadModel'> & Partial<Pick<VlmApi, 'gpuMemory'>>, opts: ModelSuiteOptions): Promise<ModelBenchResult> {
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error(`runs must be a whole number >= 1, not ${opts.runs}`);
  const model = opts.model ?? DEFAULT_MODEL;
  const hub = opts.hubUrl ? await prepareHubRun(model, opts.hubUrl, opts.transformersDevice) : undefined;
  return runModelBench(api, model, opts.runs, { signal: opts.signal, onStatus: opts.onStatus, ...(hub ? { hub } : {}) });
}

/** bench.html's query for the model suite: ?model=ID&runs=N&hub=URL&tjsDevice=webgpu|wasm. */
export function modelSuiteQuery(params: URLSearchParams): Omit<ModelSuiteOptions, 'signal' | 'onStatus'> {
  const device = params.get('tjsDevice');
  if (device !== null && device !== 'webgpu' && device !== 'wasm') throw new Error(`tjsDevice must be webgpu or wasm, not ${device}`);
  return {
    runs: Number(params.get('runs') ?? 5),
    ...(params.get('model') ? { model: params.get('model') as string } : {}),
    ...(params.get('hub') ? { hubUrl: params.get('hub') as string } : {}),
    ...(device ? { transformersDevice: device } : {}),
  };
}
