/**
 * Which model answers, on which engine, with which weights; loading it with a
 * progress indicator; and what is loaded now. The bundled model loads by
 * itself on the first visit, from the app's own files, so the page works
 * offline. Hub models and the weight cache plug in through MODEL_CHOICES and
 * the ModelLoader seam: a loader that downloads reports byte progress there.
 */
import type { EngineKind, LoadedModel, LoadModelOptions, WeightDType } from '../../worker/api';
import type { VlmClient } from '../../worker/client';
import { h } from '../dom';
import { describeError, toTurnError } from './error-text';

export interface ModelChoice {
  id: string;
  label: string;
  /** Shown beside the name: where it comes from and what it can do. */
  note: string;
}

/** The model zoo as the picker sees it; the bundled model first (the default). */
export const MODEL_CHOICES: readonly ModelChoice[] = [{ id: 'webvlm-tiny', label: 'webvlm-tiny', note: 'bundled, works offline: synthetic shapes, counts, colours, boxes' }];

export const ENGINE_LABELS: Record<EngineKind, string> = { native: 'Native WGSL', onnx: 'ONNX Runtime WebGPU' };
const DTYPES: readonly WeightDType[] = ['f32', 'int8', 'int4'];

export interface LoadProgress {
  /** 0..1, or null while the amount of work is unknown (the bar is then indeterminate). */
  fraction: number | null;
  text?: string;
}

/** Loads a model in the worker; a downloading loader reports progress through onProgress. */
export type ModelLoader = (id: string, options: LoadModelOptions, onProgress: (p: LoadProgress) => void) => Promise<LoadedModel>;

export interface ModelPicker {
  element: HTMLElement;
  /** Loads the chosen model unless one is loaded already (the first visit). */
  loadIfNone(): Promise<LoadedModel | null>;
  /** The model being loaded or loaded now; null when loading failed or none is loaded. */
  ready(): Promise<LoadedModel | null>;
  /** While an answer streams, loading another model would cut it off. */
  setBusy(busy: boolean): void;
}

function describeLoaded(m: LoadedModel): string {
  const dtype = m.engine === 'native' ? ` · ${m.dtype} weights` : '';
  return `${m.id} · ${ENGINE_LABELS[m.engine]}${dtype} · ${m.contextLength}-token context · loaded in ${(m.loadMs / 1000).toFixed(1)} s`;
}

function select(testId: string, label: string, options: [string, string][]): { wrap: HTMLElement; el: HTMLSelectElement } {
  const el = h('select', { 'data-testid': testId }, ...options.map(([value, text]) => h('option', { value }, text)));
  return { wrap: h('label', { class: 'field' }, h('span', {}, label), el), el };
}

export function modelPicker(api: VlmClient, loader: ModelLoader = (id, options) => api.loadModel(id, options)): ModelPicker {
  const model = select(
    'model-select',
    'Model',
    MODEL_CHOICES.map((m) => [m.id, `${m.label} (${m.note})`]),
  );
  const engine = select('engine-select', 'Engine', [
    ['native', ENGINE_LABELS.native],
    ['onnx', ENGINE_LABELS.onnx],
  ]);
  const dtype = select(
    'dtype-select',
    'Weights',
    DTYPES.map((d) => [d, d === 'f32' ? 'f32 (exact)' : `${d} (quantized at load)`]),
  );
  const load = h('button', { type: 'button', 'data-testid': 'load-model' }, 'Load');
  const progress = h('progress', { class: 'model-progress', 'data-testid': 'model-progress', hidden: '', 'aria-label': 'Loading the model' });
  const status = h('p', { class: 'model-status', 'data-testid': 'model-status', 'data-state': 'idle', role: 'status' }, 'No model loaded yet.');
  let pending: Promise<LoadedModel | null> | null = null;
  let loaded: LoadedModel | null = null;
  let busy = false;

  const syncControls = () => {
    const loading = pending !== null;
    // ONNX files carry their own (f32) weights; quantizing at load is the native engine's.
    dtype.el.disabled = engine.el.value !== 'native' || loading;
    dtype.el.title = engine.el.value === 'native' ? '' : 'The ONNX engine runs the f32 ONNX files as they are.';
    model.el.disabled = engine.el.disabled = loading;
    load.disabled = loading || busy;
  };
  engine.el.addEventListener('change', syncControls);

  const setStatus = (state: string, text: string) => {
    status.dataset.state = state;
    status.textContent = text;
  };

  async function run(id: string, options: LoadModelOptions): Promise<LoadedModel | null> {
    const what = `${id} on ${ENGINE_LABELS[options.engine]}${options.engine === 'native' ? ` (${options.dtype ?? 'f32'})` : ''}`;
    const t0 = performance.now();
    progress.hidden = false;
    progress.removeAttribute('value');
    delete status.dataset.code;
    setStatus('loading', `Loading ${what}…`);
    // Until a loader reports what it is doing (bytes downloaded), the elapsed time shows it is alive.
    let reported: string | null = null;
    const show = () => setStatus('loading', `Loading ${what}… ${reported ?? `${((performance.now() - t0) / 1000).toFixed(1)} s`}`);
    const onProgress = (p: LoadProgress) => {
      if (p.fraction === null) progress.removeAttribute('value');
      else progress.value = p.fraction;
      reported = p.text ?? reported;
      show();
    };
    const ticker = setInterval(show, 250);
    try {
      loaded = await loader(id, options, onProgress);
      setStatus('ready', `Loaded: ${describeLoaded(loaded)}`);
      return loaded;
    } catch (err) {
      loaded = null;
      const error = toTurnError(err);
      const e = describeError(error);
      setStatus('error', `${what} did not load. ${e.detail} ${e.advice}`);
      status.dataset.code = error.code;
      return null;
    } finally {
      clearInterval(ticker);
      progress.hidden = true;
    }
  }

  function start(id: string, options: LoadModelOptions): Promise<LoadedModel | null> {
    const job = run(id, options).finally(() => {
      if (pending === job) pending = null;
      syncControls();
    });
    pending = job;
    syncControls();
    return job;
  }

  const chosen = (): LoadModelOptions => {
    const e = engine.el.value as EngineKind;
    return e === 'native' ? { engine: e, dtype: dtype.el.value as WeightDType } : { engine: e };
  };
  load.addEventListener('click', () => void start(model.el.value, chosen()));
  syncControls();

  return {
    element: h(
      'section',
      { class: 'panel model-picker', 'data-testid': 'model-picker', 'aria-label': 'Model' },
      h('div', { class: 'picker-row' }, model.wrap, engine.wrap, dtype.wrap, load),
      progress,
      status,
    ),
    async loadIfNone() {
      if (pending) return pending;
      // A model loaded earlier in this worker (another view, the console) is adopted, not reloaded.
      const current = await api.loadedModel().catch(() => null);
      if (current) {
        loaded = current;
        engine.el.value = current.engine;
        dtype.el.value = current.dtype;
        if (MODEL_CHOICES.some((m) => m.id === current.id)) model.el.value = current.id;
        setStatus('ready', `Loaded: ${describeLoaded(current)}`);
        syncControls();
        return current;
      }
      return start(model.el.value, chosen());
    },
    ready: () => pending ?? Promise.resolve(loaded),
    setBusy(b) {
      busy = b;
      syncControls();
    },
  };
}
