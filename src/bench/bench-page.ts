/**
 * bench.html: the kernel benchmark, or with ?suite=model the model benchmark.
 * One page serves both so they share the shell, the status line and the way a
 * result or an error is left on window for the scripts that drive the page.
 * Each suite is imported only when chosen: the kernel one never starts the
 * engine worker, the model one never loads the kernel cases.
 */
import type { KernelBenchResult } from './bench-case';
import type { ModelBenchResult } from './model-bench';

declare global {
  interface Window {
    benchResult?: KernelBenchResult | ModelBenchResult;
    benchError?: string;
  }
}

const SUITES = {
  kernels: {
    title: 'Kernel benchmark',
    tagline: "Our WGSL kernels against onnxruntime-web's WebGPU provider, same shapes, same device.",
    load: async () => (await import('./kernel-suite')).runKernelSuite,
  },
  model: {
    title: 'Model benchmark',
    tagline: "The bundled model on the native WGSL engine and on onnxruntime-web's WebGPU provider, side by side.",
    load: async () => (await import('./model-suite')).runModelSuite,
  },
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
  const run = await suite.load();
  window.benchResult = await run(element('bench-status'), element('bench-table'), params);
}

main().catch((err: unknown) => {
  window.benchError = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  const status = document.getElementById('bench-status');
  if (status) status.textContent = `Benchmark failed: ${window.benchError}`;
});
