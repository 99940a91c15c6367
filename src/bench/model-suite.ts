/**
 * The model benchmark: every engine (native, onnx, transformers) on one model through the app's worker.
 * bench.html?suite=model (and so `npm run bench:model`) and the app's
 * Benchmark view both run it through runModelSuite.
 */
import type { VlmApi } from '../worker/api';
import { runModelBench, type ModelBenchResult } from './model-bench';

export const DEFAULT_MODEL = 'webvlm-tiny';

export interface ModelSuiteOptions {
  model?: string;
  /** Timed runs per engine, after one warm-up run. */
  runs: number;
  signal?: AbortSignal;
  onStatus?: (s: string) => void;
}

export function runModelSuite(api: Pick<VlmApi, 'loadModel' | 'chat' | 'unloadModel'>, opts: ModelSuiteOptions): Promise<ModelBenchResult> {
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error(`runs must be a whole number >= 1, not ${opts.runs}`);
  return runModelBench(api, opts.model ?? DEFAULT_MODEL, opts.runs, { signal: opts.signal, onStatus: opts.onStatus });
}
