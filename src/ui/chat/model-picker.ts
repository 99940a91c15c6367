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
import type { DownloadProgress, LoadedModel, LoadModelOptions, ZooEngine } from '../../worker/api';
import { describeProgress, requestPersistentStorage, type VlmClient } from '../../worker/client';
import { describeError, toTurnError } from './error-text';
import { cachedModelsView, type CachedModelsView } from './model-catalog';
import { describeLoaded, ENGINE_LABELS, pickerView, type PickerState, type PickerView } from './model-picker-view';

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
  /** Catches up with a model another view replaced or unloaded; loads Chat's again if none is left. */
  resync(): Promise<LoadedModel | null>;
  /** The model being loaded or loaded now; null when loading failed or none is loaded. */
  ready(): Promise<LoadedModel | null>;
  /** While an answer streams, loading another model would cut it off. */
  setBusy(busy: boolean): void;
  /** The engine worker died and a fresh one holds no model: say so, and let Load bring the lost model back. */
  engineStopped(message: string): void;
  /** Loads again the model the dead worker held (or the one chosen, if none was). */
  reload(): Promise<LoadedModel | null>;
}

/** The status line after a failed job: the worker's words, then what to do. */
function failureStatus(what: string, err: unknown): PickerState['status'] {
  const error = toTurnError(err);
  const e = describeError(error);
  // Worker messages may end without a full stop; the advice must read as its own sentence.
  const detail = /[.!?]$/.test(e.detail) ? e.detail : `${e.detail}.`;
  return { state: 'error', text: `${what} did not load. ${e.headline} ${detail} ${e.advice}`, code: error.code };
}

/** What every action works on: the state, the view, and the one job (load or download) running. */
interface Picker {
  api: VlmClient;
  loader: ModelLoader;
  state: PickerState;
  view: PickerView;
  cached: CachedModelsView;
  pending: Promise<LoadedModel | null> | null;
  /** The model a dead worker held, for reload(). */
  lost: LoadedModel | null;
  /** Told what is loaded after each change of the view, so the page can follow the model's capabilities. */
  onLoaded: (m: LoadedModel | null) => void;
}

const render = (p: Picker) => {
  p.view.render(p.state);
  p.onLoaded(p.state.loaded);
};

/** The zoo with cached marks; the bundled model stays first and is the default. */
async function refreshList(p: Picker): Promise<void> {
  // Asked beside the list, not before it: without adapter facts f16 is just not offered.
  void p.api
    .info()
    .then((info) => {
      p.state.shaderF16 = info.report.features['shader-f16'];
      render(p);
    })
    .catch(() => undefined);
  try {
    p.state.listings = await p.api.listModels();
  } catch {
    return; // The bundled choice stays; the list is a convenience, not needed to chat.
  }
  render(p);
}

/** Bytes are moving, so a download started: ask now that the browser keep what lands. */
function askToPersist(p: Picker): void {
  void requestPersistentStorage().then((kept) => {
    p.state.persisted = kept;
    render(p);
  });
}

/** Runs a load or download with the bar and the status line; the job returns the line to show when it is done. */
async function run(p: Picker, what: string, job: (onProgress: (progress: LoadProgress) => void) => Promise<string>): Promise<boolean> {
  const { state } = p;
  const t0 = performance.now();
  state.progress = { fraction: null };
  // Until a loader reports what it is doing (bytes downloaded), the elapsed time shows it is alive.
  let reported: string | null = null;
  let asked = false;
  const show = () => {
    state.status = { state: 'loading', text: `Loading ${what}… ${reported ?? `${((performance.now() - t0) / 1000).toFixed(1)} s`}` };
    render(p);
  };
  state.status = { state: 'loading', text: `Loading ${what}…` };
  render(p);
  const onProgress = (lp: LoadProgress) => {
    state.progress = { fraction: lp.fraction, bytes: lp.bytes ?? state.progress?.bytes };
    if (lp.bytes !== undefined && !asked) {
      asked = true;
      askToPersist(p);
    }
    reported = lp.text ?? reported;
    show();
  };
  const ticker = setInterval(show, 250);
  try {
    state.status = { state: 'ready', text: await job(onProgress) };
    return true;
  } catch (err) {
    state.status = failureStatus(what, err);
    return false;
  } finally {
    clearInterval(ticker);
    state.progress = null;
    render(p);
    void refreshList(p);
    void p.cached.refresh();
  }
}

/** One job at a time: the controls are disabled until it ends. */
function start(p: Picker, job: () => Promise<LoadedModel | null>): Promise<LoadedModel | null> {
  const running = job().finally(() => {
    if (p.pending === running) p.pending = null;
    p.state.working = p.pending !== null;
    render(p);
  });
  p.pending = running;
  p.state.working = true;
  render(p);
  return running;
}

function startLoad(p: Picker, id: string, options: LoadModelOptions): Promise<LoadedModel | null> {
  return start(p, async () => {
    const what = `${id} on ${ENGINE_LABELS[options.engine]}${options.engine !== 'onnx' && options.dtype ? ` (${options.dtype})` : ''}`;
    let result: LoadedModel | null = null;
    await run(p, what, async (onProgress) => {
      result = await p.loader(id, options, onProgress);
      return `Loaded: ${describeLoaded(result)}`;
    });
    p.state.loaded = result;
    return result;
  });
}

/** Fetches the named model's files without loading it; the loaded model stays. */
function startDownload(p: Picker, id: string, options: LoadModelOptions): Promise<LoadedModel | null> {
  const listing = p.state.listings?.find((m) => m.id === id);
  // The engine picked above when the model has files for it; otherwise the model's own default.
  const asked: ZooEngine = options.engine === 'transformers' ? 'transformers.js' : options.engine;
  const engineChoice: ZooEngine | undefined = !listing || listing.engines.some((c) => c.engine === asked) ? asked : undefined;
  const dtype = asked === 'transformers.js' && options.dtype ? { dtype: options.dtype } : {};
  return start(p, async () => {
    await run(p, `${id} (download)`, async (onProgress) => {
      const m = await p.api.downloadModel(
        id,
        { ...(engineChoice ? { engine: engineChoice, ...dtype } : {}), ...(options.hubUrl ? { hubUrl: options.hubUrl } : {}) },
        Comlink.proxy((dp: DownloadProgress) => onProgress(toLoadProgress(dp))),
      );
      const loaded = p.state.loaded;
      return `Downloaded ${m.id}: ${m.files} files cached. ${loaded ? `Still loaded: ${describeLoaded(loaded)}` : 'Press Load to use it.'}`;
    });
    return p.state.loaded;
  });
}

function adopt(p: Picker, current: LoadedModel, how: string): LoadedModel {
  p.state.loaded = current;
  p.view.adopt(current);
  p.state.status = { state: 'ready', text: `${how}: ${describeLoaded(current)}` };
  render(p);
  return current;
}

async function loadIfNone(p: Picker): Promise<LoadedModel | null> {
  if (p.pending) return p.pending;
  // A model loaded earlier in this worker (another view, the console) is adopted, not reloaded.
  const current = await p.api.loadedModel().catch(() => null);
  return current ? adopt(p, current, 'Loaded') : startLoad(p, p.view.listed(), p.view.chosen());
}

const sameLoad = (a: LoadedModel, b: LoadedModel) => a.id === b.id && a.engine === b.engine && a.dtype === b.dtype;

/**
 * Other views share the worker and may replace or unload Chat's model (the
 * Benchmark loads each engine in turn and unloads at the end): show what the
 * worker holds now, and load Chat's model again when it holds none, so the
 * status line never names a model that is gone.
 */
async function resync(p: Picker): Promise<LoadedModel | null> {
  if (p.pending) return p.pending;
  const had = p.state.loaded;
  // Nothing loaded here (a failed load, or none yet): loading stays the person's choice.
  if (!had) return null;
  const current = await p.api.loadedModel().catch(() => null);
  if (current && sameLoad(current, had)) return current;
  if (current) return adopt(p, current, 'Loaded by another view');
  p.view.adopt(had);
  return startLoad(p, had.id, p.view.chosen());
}

function engineStopped(p: Picker, message: string): void {
  p.lost = p.state.loaded ?? p.lost;
  p.state.loaded = null;
  // A load that was running fails on its own with the same code and says so.
  if (!p.pending) {
    const e = describeError({ code: 'worker-crashed', message });
    const gone = p.lost ? ` ${p.lost.id} is no longer loaded.` : '';
    p.state.status = { state: 'error', text: `${e.headline} ${e.detail}${gone} ${e.advice}`, code: 'worker-crashed' };
  }
  render(p);
  void refreshList(p);
}

function reload(p: Picker): Promise<LoadedModel | null> {
  if (p.pending) return p.pending;
  const lost = p.lost;
  p.lost = null;
  if (lost) p.view.adopt(lost);
  return startLoad(p, lost?.id ?? p.view.target(), p.view.chosen());
}

export function modelPicker(api: VlmClient, loader: ModelLoader = workerLoader(api), onLoaded: (m: LoadedModel | null) => void = () => undefined): ModelPicker {
  const state: PickerState = { listings: null, loaded: null, working: false, busy: false, status: { state: 'idle', text: 'No model loaded yet.' }, progress: null, persisted: null, shaderF16: false };
  const cached = cachedModelsView(
    () => api.cacheList(),
    (id) => api.cacheDelete(id),
    () => void refreshList(p),
  );
  const p: Picker = { api, loader, state, view: pickerView(cached.element), cached, pending: null, lost: null, onLoaded };
  const { engine, model, load, download } = p.view.controls;
  engine.addEventListener('change', () => render(p));
  model.addEventListener('change', () => {
    p.view.followModel();
    render(p);
  });
  load.addEventListener('click', () => void startLoad(p, p.view.target(), p.view.chosen()));
  download.addEventListener('click', () => void startDownload(p, p.view.target(), p.view.chosen()));
  render(p);
  void refreshList(p);
  void cached.refresh();
  return {
    element: p.view.element,
    loadIfNone: () => loadIfNone(p),
    resync: () => resync(p),
    ready: () => p.pending ?? Promise.resolve(state.loaded),
    setBusy(busy) {
      state.busy = busy;
      render(p);
    },
    engineStopped: (message) => engineStopped(p, message),
    reload: () => reload(p),
  };
}
