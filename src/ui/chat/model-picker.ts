/**
 * Which model answers, on which engine, with which weights; loading it with a
 * progress indicator; and what is loaded now. The bundled model loads by
 * itself on the first visit, from the app's own files, so the page works
 * offline. The list comes from the worker's model zoo (listModels): hub
 * models with their size, capabilities and cached state, those our engines
 * cannot run listed but disabled with the reason. Loads and downloads report
 * bytes, rate and time left through the ModelLoader seam.
 */
import * as Comlink from 'comlink';
import type { DownloadProgress, EngineKind, LoadedModel, LoadModelOptions, ModelListing, WeightDType, ZooEngine } from '../../worker/api';
import { DEFAULT_HUB, describeProgress, requestPersistentStorage, type VlmClient } from '../../worker/client';
import { h } from '../dom';
import { describeError, toTurnError } from './error-text';
import { cachedModelsView, modelOption } from './model-catalog';

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
  /** Bytes of the model on hand while downloading; present only when bytes are moving. */
  bytes?: number;
}

/** Loads a model in the worker; a downloading loader reports progress through onProgress. */
export type ModelLoader = (id: string, options: LoadModelOptions, onProgress: (p: LoadProgress) => void) => Promise<LoadedModel>;

/** Download events as the bar shows them. */
export function toLoadProgress(p: DownloadProgress): LoadProgress {
  const d = describeProgress(p);
  return { fraction: d.fraction, text: d.text, bytes: p.modelLoaded };
}

/** The worker's loadModel with its download progress forwarded across Comlink. */
export const workerLoader =
  (api: VlmClient): ModelLoader =>
  (id, options, onProgress) =>
    api.loadModel(id, options, Comlink.proxy((p: DownloadProgress) => onProgress(toLoadProgress(p))));

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

export function modelPicker(api: VlmClient, loader: ModelLoader = workerLoader(api)): ModelPicker {
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
  // A repo not in the zoo (a llava-layout export) and another hub root (a mirror, a local server).
  const hubId = h('input', { type: 'text', 'data-testid': 'hub-model-id', placeholder: 'org/name', spellcheck: 'false', autocomplete: 'off' });
  const hubUrl = h('input', { type: 'url', 'data-testid': 'hub-url', value: DEFAULT_HUB, spellcheck: 'false', autocomplete: 'off' });
  const download = h('button', { type: 'button', 'data-testid': 'download-model', title: 'Fetch the files into this browser without loading the model' }, 'Download only');
  const hub = h(
    'details',
    { class: 'hub-source', 'data-testid': 'hub-source' },
    h('summary', {}, 'Another hub repository'),
    h(
      'div',
      { class: 'picker-row' },
      h('label', { class: 'field' }, h('span', {}, 'Repository (overrides the list)'), hubId),
      h('label', { class: 'field' }, h('span', {}, 'Hub'), hubUrl),
      download,
    ),
  );
  const progress = h('progress', { class: 'model-progress', 'data-testid': 'model-progress', hidden: '', 'aria-label': 'Loading the model' });
  const status = h('p', { class: 'model-status', 'data-testid': 'model-status', 'data-state': 'idle', role: 'status' }, 'No model loaded yet.');
  let pending: Promise<LoadedModel | null> | null = null;
  let loaded: LoadedModel | null = null;
  let busy = false;
  let listings: ModelListing[] = [];

  const cached = cachedModelsView(
    () => api.cacheList(),
    (id) => api.cacheDelete(id),
    () => void refreshList(),
  );

  const syncControls = () => {
    const loading = pending !== null;
    // ONNX files carry their own (f32) weights; quantizing at load is the native engine's.
    dtype.el.disabled = engine.el.value !== 'native' || loading;
    dtype.el.title = engine.el.value === 'native' ? '' : 'The ONNX engine runs the f32 ONNX files as they are.';
    model.el.disabled = engine.el.disabled = hubId.disabled = hubUrl.disabled = loading;
    load.disabled = loading || busy;
    download.disabled = loading;
  };
  engine.el.addEventListener('change', syncControls);

  /** The zoo with cached marks; the bundled model stays first and is the default. */
  async function refreshList(): Promise<void> {
    try {
      listings = await api.listModels();
    } catch {
      return; // The bundled choice stays; the list is a convenience, not needed to chat.
    }
    const chosen = model.el.value;
    const ordered = [...listings].sort((a, b) => Number(b.source === 'bundled') - Number(a.source === 'bundled') || Number(b.isDefault) - Number(a.isDefault));
    const keep = ordered.some((m) => m.id === chosen && m.engines.some((e) => e.runsHere));
    const fallback = ordered.find((m) => m.isDefault)?.id ?? ordered[0]?.id;
    model.el.replaceChildren(...ordered.map((m) => modelOption(m, m.id === (keep ? chosen : fallback))));
    model.el.dataset.listed = String(ordered.length);
  }

  const setStatus = (state: string, text: string) => {
    status.dataset.state = state;
    status.textContent = text;
  };

  async function run(what: string, job: (onProgress: (p: LoadProgress) => void) => Promise<string>): Promise<boolean> {
    const t0 = performance.now();
    progress.hidden = false;
    progress.removeAttribute('value');
    delete progress.dataset.bytes;
    delete status.dataset.code;
    setStatus('loading', `Loading ${what}…`);
    // Until a loader reports what it is doing (bytes downloaded), the elapsed time shows it is alive.
    let reported: string | null = null;
    let asked = false;
    const show = () => setStatus('loading', `Loading ${what}… ${reported ?? `${((performance.now() - t0) / 1000).toFixed(1)} s`}`);
    const onProgress = (p: LoadProgress) => {
      if (p.fraction === null) progress.removeAttribute('value');
      else progress.value = p.fraction;
      if (p.bytes !== undefined) {
        progress.dataset.bytes = String(p.bytes);
        // Bytes are moving, so a download started: ask now that the browser keep what lands.
        if (!asked) {
          asked = true;
          void requestPersistentStorage().then((kept) => {
            progress.dataset.persisted = String(kept);
          });
        }
      }
      reported = p.text ?? reported;
      show();
    };
    const ticker = setInterval(show, 250);
    try {
      setStatus('ready', await job(onProgress));
      return true;
    } catch (err) {
      const error = toTurnError(err);
      const e = describeError(error);
      // Worker messages may end without a full stop; the advice must read as its own sentence.
      const detail = /[.!?]$/.test(e.detail) ? e.detail : `${e.detail}.`;
      setStatus('error', `${what} did not load. ${e.headline} ${detail} ${e.advice}`);
      status.dataset.code = error.code;
      return false;
    } finally {
      clearInterval(ticker);
      progress.hidden = true;
      void refreshList();
      void cached.refresh();
    }
  }

  function start(job: () => Promise<LoadedModel | null>): Promise<LoadedModel | null> {
    const p = job().finally(() => {
      if (pending === p) pending = null;
      syncControls();
    });
    pending = p;
    syncControls();
    return p;
  }

  const startLoad = (id: string, options: LoadModelOptions) =>
    start(async () => {
      const what = `${id} on ${ENGINE_LABELS[options.engine]}${options.engine === 'native' ? ` (${options.dtype ?? 'f32'})` : ''}`;
      let result: LoadedModel | null = null;
      await run(what, async (onProgress) => {
        result = await loader(id, options, onProgress);
        return `Loaded: ${describeLoaded(result)}`;
      });
      loaded = result;
      return result;
    });

  const target = () => hubId.value.trim() || model.el.value;
  const chosen = (): LoadModelOptions => {
    const e = engine.el.value as EngineKind;
    const hubRoot = hubUrl.value.trim();
    const base = e === 'native' ? { engine: e, dtype: dtype.el.value as WeightDType } : { engine: e };
    return hubRoot && hubRoot !== DEFAULT_HUB ? { ...base, hubUrl: hubRoot } : base;
  };
  load.addEventListener('click', () => void startLoad(target(), chosen()));
  download.addEventListener('click', () => {
    const id = target();
    const options = chosen();
    const listing = listings.find((m) => m.id === id);
    // The engine picked above when the model has files for it; otherwise the model's own default.
    const engineChoice: ZooEngine | undefined = !listing || listing.engines.some((c) => c.engine === options.engine) ? options.engine : undefined;
    void start(async () => {
      await run(`${id} (download)`, async (onProgress) => {
        const m = await api.downloadModel(
          id,
          { ...(engineChoice ? { engine: engineChoice } : {}), ...(options.hubUrl ? { hubUrl: options.hubUrl } : {}) },
          Comlink.proxy((p: DownloadProgress) => onProgress(toLoadProgress(p))),
        );
        return `Downloaded ${m.id}: ${m.files} files cached. ${loaded ? `Still loaded: ${describeLoaded(loaded)}` : 'Press Load to use it.'}`;
      });
      return loaded;
    });
  });
  syncControls();
  void refreshList();
  void cached.refresh();

  return {
    element: h(
      'section',
      { class: 'panel model-picker', 'data-testid': 'model-picker', 'aria-label': 'Model' },
      h('div', { class: 'picker-row' }, model.wrap, engine.wrap, dtype.wrap, load),
      hub,
      progress,
      status,
      cached.element,
    ),
    async loadIfNone() {
      if (pending) return pending;
      // A model loaded earlier in this worker (another view, the console) is adopted, not reloaded.
      const current = await api.loadedModel().catch(() => null);
      if (current) {
        loaded = current;
        engine.el.value = current.engine;
        dtype.el.value = current.dtype;
        if ([...model.el.options].some((o) => o.value === current.id)) model.el.value = current.id;
        setStatus('ready', `Loaded: ${describeLoaded(current)}`);
        syncControls();
        return current;
      }
      return startLoad(model.el.value, chosen());
    },
    ready: () => pending ?? Promise.resolve(loaded),
    setBusy(b) {
      busy = b;
      syncControls();
    },
  };
}
