/** bench-model.html: runs the model benchmark in the app's worker and leaves the result on window. */
import { startEngine } from '../worker/client';
import { formatModelBench, runModelBench, type ModelBenchResult } from './model-bench';

declare global {
  interface Window {
    modelBenchResult?: ModelBenchResult;
    modelBenchError?: string;
  }
}

async function main(): Promise<void> {
  const status = document.getElementById('bench-status');
  const table = document.getElementById('bench-table');
  if (!status || !table) throw new Error('bench-model.html is missing its elements');
  const params = new URLSearchParams(location.search);
  const runs = Number(params.get('runs') ?? 5);
  const { api } = startEngine();
  const result = await runModelBench(api, params.get('model') ?? 'webvlm-tiny', runs, (s) => (status.textContent = s));
  table.textContent = formatModelBench(result);
  status.textContent = 'Done.';
  window.modelBenchResult = result;
}

main().catch((err: unknown) => {
  window.modelBenchError = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  const status = document.getElementById('bench-status');
  if (status) status.textContent = `Benchmark failed: ${window.modelBenchError}`;
});
