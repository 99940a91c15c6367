/**
 * bench.html: the kernel benchmark, or with ?suite=model the model benchmark,
 * for `npm run bench:kernels` / `bench:model`. It runs the same suite runners
 * as the app's Benchmark view (#bench) and leaves the result, its JSON text
 * and the printed table on the page for the scripts that drive it. Each suite
 * is imported only when chosen: the kernel one never starts the engine
 * worker, the model one never loads the kernel cases.
 */
import { benchJson, formatBenchTable, type BenchTable } from './bench-table';
import type { KernelBenchResult } from './bench-case';
import type { ModelBenchResult } from './model-bench';

declare global {
  interface Window {
    benchResult?: KernelBenchResult | ModelBenchResult;
    /** benchResult as the scripts write it with --json and the view downloads it. */
    benchJson?: string;
    benchError?: string;
  }
}

type Show = (status: string, table: BenchTable | null) => void;

/** ?filter=TEXT keeps the cases whose "op shape" contains TEXT; ?set=quick runs the view's quick set, ?set=smolvlm the rows at SmolVLM's real shapes. */
async function kernels(params: URLSearchParams, show: Show): Promise<KernelBenchResult> {
  const [{ acquireGpu }, { GpuRuntime }, suite, { kernelTable }] = await Promise.all([
    import('../webgpu/device'),
    import('../webgpu/runtime'),
    import('./kernel-suite'),
    import('./kernel-bench'),
  ]);
  const rt = new GpuRuntime(await acquireGpu(navigator.gpu));
  const set = params.get('set');
  const cases = suite.kernelCases(params.get('filter') ?? '', suite.isCaseSet(set) ? set : 'all');
  let table: BenchTable | null = null;
  const result = await suite.runKernelSuite(rt, cases, {
    onProgress: (done, total, running) => show(suite.progressText(done, total, running), table),
    onRows: (rows) => (table = kernelTable(rows, NaN)),
  });
  show(`Done on ${result.adapter}.`, kernelTable(result.rows, result.copyGBps));
  return result;
}

/** ?runs=N timed runs (default 5) of ?model=ID (default the bundled model), from ?hub=URL when given (model-suite.ts). */
async function model(params: URLSearchParams, show: Show): Promise<ModelBenchResult> {
  const [{ startEngine }, { runModelSuite, modelSuiteQuery }, { modelTable }] = await Promise.all([import('../worker/client'), import('./model-suite'), import('./model-bench')]);
  const result = await runModelSuite(startEngine().api, { ...modelSuiteQuery(params), onStatus: (s) => show(s, null) });
  show('Done.', modelTable(result));
  return result;
}

const SUITES = {
  kernels: { title: 'Kernel benchmark', tagline: "Our WGSL kernels against onnxruntime-web's WebGPU provider, same shapes, same device.", run: kernels },
  model: { title: 'Model benchmark', tagline: "The bundled model on the native WGSL engine, onnxruntime-web's WebGPU provider and transformers.js, side by side.", run: model },
} as const;

function element(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`bench.html is missing #${id}`);
  return el;
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const name = params.get('suite') ?? 'kernels';
  if (name !== 'kernels' && name !== 'model') throw new Error(`unknown suite ${name}: use kernels or model`);
  const suite = SUITES[name];
  document.title = `WebVLM ${suite.title.toLowerCase()}`;
  element('bench-title').textContent = suite.title;
  element('bench-tagline').textContent = suite.tagline;
  const show: Show = (status, table) => {
    element('bench-status').textContent = status;
    if (table) element('bench-table').textContent = formatBenchTable(table);
  };
  const result = await suite.run(params, show);
  window.benchJson = benchJson(result);
  window.benchResult = result;
}

main().catch((err: unknown) => {
  window.benchError = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  const status = document.getElementById('bench-status');
  if (status) status.textContent = `Benchmark failed: ${window.benchError}`;
});
