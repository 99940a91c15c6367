/**
 * The app's Benchmark view (#bench): the adapter and its limits, the kernel
 * suite (ours against onnxruntime-web, per op and shape) and the model suite
 * (every engine through the app's worker), with the same runners, tables and
 * JSON as `npm run bench:kernels` and `npm run bench:model`. The kernel suite
 * runs ORT ops in this page, which is why this view lives beside the suites
 * and is imported by the app only when its tab is opened.
 */
import { h } from '../ui/dom';
import { acquireGpu, adapterName, KEY_LIMITS, KNOWN_FEATURES, type Gpu, type KeyLimit } from '../webgpu/device';
import { GpuRuntime } from '../webgpu/runtime';
import type { VlmApi } from '../worker/api';
import { kernelRatioChart, modelChart, showKernelRatios, showModelFigures } from './bench-chart';
import { benchPanel, type PanelRun } from './bench-panel';
import { kernelTable } from './kernel-bench';
import { kernelCases, progressText, runKernelSuite, type CaseSet } from './kernel-suite';
import { MODEL_ENGINES, modelTable } from './model-bench';
import { DEFAULT_MODEL, runModelSuite } from './model-suite';
import './bench-view.css';

type Api = Pick<VlmApi, 'loadModel' | 'chat' | 'unloadModel'>;

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

function adapterPanel(gpu: Gpu): HTMLElement {
  const r = gpu.report;
  const features = KNOWN_FEATURES.map((f) => `${f} ${r.features[f] ? 'yes' : 'no'}`).join(', ');
  const value = (k: KeyLimit) => (k.endsWith('Size') && r.limits[k] >= 2 ** 20 ? mib(r.limits[k]) : String(r.limits[k]));
  const limits = KEY_LIMITS.map((k) => h('tr', {}, h('td', { class: 'text' }, k), h('td', {}, value(k))));
  return h(
    'section',
    { class: 'panel', 'data-testid': 'bench-adapter' },
    h('h2', {}, 'Adapter'),
    h('p', {}, adapterName(r), r.isFallbackAdapter ? ': a software adapter, so the figures compare implementations, not hardware.' : ''),
    h('p', {}, 'Features: ', features),
    h(
      'p',
      {},
      `Storage binding up to ${value('maxStorageBufferBindingSize')}, workgroup memory ${r.limits.maxComputeWorkgroupStorageSize / 1024} KiB, `,
      `${r.limits.maxComputeInvocationsPerWorkgroup} invocations per workgroup.`,
    ),
    h('details', {}, h('summary', {}, 'All limits that matter here'), h('table', { class: 'numbers' }, h('tbody', {}, ...limits))),
  );
}

/** The one lock both panels share: one suite at a time, as the two compete for the same GPU. */
function runLock(): { claim: () => string | null; release: () => void } {
  let busy = false;
  return {
    claim: () => (busy ? 'Another benchmark is running: wait for it or cancel it first.' : ((busy = true), null)),
    release: () => void (busy = false),
  };
}

function kernelPanel(gpu: Gpu, lock: ReturnType<typeof runLock>): HTMLElement {
  const rt = new GpuRuntime(gpu);
  const set = h('select', { 'data-testid': 'bench-kernel-set', 'aria-label': 'Cases' }, h('option', { value: 'quick' }, 'Quick (3 cases)'), h('option', { value: 'all' }, 'All cases'), h('option', { value: 'smolvlm' }, "SmolVLM's real shapes (slow on a software adapter)"));
  const filter = h('input', { type: 'text', placeholder: 'filter, e.g. decode 1x1024', 'data-testid': 'bench-kernel-filter', 'aria-label': 'Filter cases' });
  const canvas = h('canvas', { 'data-testid': 'bench-kernel-chart', 'aria-label': 'ORT ms / ours ms per op and shape' });
  const chart = kernelRatioChart(canvas);
  const run = async (p: PanelRun) => {
    const cases = kernelCases(filter.value.trim(), set.value as CaseSet);
    if (cases.length === 0) return p.status(`No case matches "${filter.value}".`);
    const result = await runKernelSuite(rt, cases, {
      signal: p.signal,
      onProgress: (done, total, running) => p.status(progressText(done, total, running)),
      onRows: (rows) => {
        p.table(kernelTable(rows, NaN));
        showKernelRatios(chart, rows);
      },
    });
    p.table(kernelTable(result.rows, result.copyGBps));
    p.result(result);
    p.status(result.cancelled ? `Cancelled after ${result.rows.length} of ${cases.length}.` : `Done: ${cases.length} cases on ${result.adapter}.`);
  };
  return benchPanel({
    id: 'kernel',
    title: 'Kernels',
    intro: "Our WGSL kernels against onnxruntime-web's WebGPU provider on the same shapes in this page (as npm run bench:kernels).",
    controls: [set, filter],
    runLabel: 'Run kernels',
    canvas,
    ...lock,
    run,
  });
}

function modelPanel(api: Api, lock: ReturnType<typeof runLock>): HTMLElement {
  const runs = h('input', { type: 'number', min: '1', max: '20', value: '1', 'data-testid': 'bench-model-runs', 'aria-label': 'Timed runs per engine' });
  const canvas = h('canvas', { 'data-testid': 'bench-model-chart', 'aria-label': 'Model figures per engine' });
  const chart = modelChart(canvas);
  const run = async (p: PanelRun) => {
    const result = await runModelSuite(api, { model: DEFAULT_MODEL, runs: Number(runs.value), signal: p.signal, onStatus: p.status });
    p.table(modelTable(result));
    showModelFigures(chart, result);
    p.result(result);
    const done = Object.keys(result.engines).length;
    p.status(result.cancelled ? `Cancelled after ${done} of ${MODEL_ENGINES.length} engines.` : `Done: ${result.model}, ${runs.value} timed runs per engine.`);
  };
  return benchPanel({
    id: 'model',
    title: 'Model',
    intro: `${DEFAULT_MODEL} on each engine through the app's worker: encode, time to first token, decode speed, GPU memory (as npm run bench:model). Loading a model here replaces the one loaded in Chat; Chat loads its own again when you go back to it.`,
    controls: [h('label', {}, 'Runs per engine ', runs)],
    runLabel: 'Run model',
    canvas,
    ...lock,
    run,
  });
}

export function benchView(api: Api): HTMLElement {
  const root = h('div', { class: 'bench-view' }, h('p', { 'data-testid': 'bench-starting' }, 'Opening the GPU…'));
  acquireGpu(navigator.gpu).then(
    (gpu) => {
      const lock = runLock();
      root.replaceChildren(adapterPanel(gpu), kernelPanel(gpu, lock), modelPanel(api, lock));
    },
    (err: unknown) => root.replaceChildren(h('section', { class: 'panel notice' }, h('h2', {}, 'No GPU for the benchmark'), h('p', {}, err instanceof Error ? err.message : String(err)))),
  );
  return root;
}
