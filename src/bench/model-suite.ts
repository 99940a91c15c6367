/** The model benchmark on bench.html?suite=model: both engines on one model through the app's worker. */
import { startEngine } from '../worker/client';
import { formatModelBench, runModelBench, type ModelBenchResult } from './model-bench';

/** ?runs=N timed runs (default 5) of ?model=ID (default the bundled model). */
export async function runModelSuite(status: HTMLElement, table: HTMLElement, params: URLSearchParams): Promise<ModelBenchResult> {
  const runs = Number(params.get('runs') ?? 5);
  const { api } = startEngine();
  const result = await runModelBench(api, params.get('model') ?? 'webvlm-tiny', runs, (s) => (status.textContent = s));
  table.textContent = formatModelBench(result);
  status.textContent = 'Done.';
  return result;
}
