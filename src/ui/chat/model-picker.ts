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
import { cachedModelsView } from './model-catalog';
import { describeLoaded, ENGINE_LABELS, pickerView, type PickerState } from './model-picker-view';

export { ENGINE_LABELS, MODEL_CHOICES, type ModelChoice } from './model-picker-view';

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

/** The status line after a failed job: the worker's words, then what to do. */
function failureStatus(what: string, err: unknown): PickerState['status'] {
  const error = toTurnError(err);
  const e = describeError(error);
  // Worker messages may end without a full stop; the advice must read as its own sentence.
  const detail = /[.!?]$/.test(e.detail) ? e.detail : `${e.detail}.`;
  return { state: 'error', text: `${what} did not load. ${e.headline} ${detail} ${e.advice}`, code: error.code };
}

export function modelPicker(api: VlmClient, loader: ModelLoader = workerLoader(api)): ModelPicker {
  const state: PickerState = { listings: null, loaded: null, working: false, busy: false, status: { state: 'idle', text: 'No model loaded yet.' }, progress: null, persisted: null };
  let pending: Promise<LoadedModel | null> | null = null;
  const cached = cachedModelsView(
    () => api.cacheList(),
    (id) => api.cacheDelete(id),
    () => void refreshList(),
  );
  const view = pickerView(cached.element);
  const render = () => view.render(state);

  /** The zoo with cached marks; the bundled model stays first and is the default. */
  async function refreshList(): Promise<void> {
    try {
      state.listings = await api.listModels();
    } catch {
      return; // The bundled choice stays; the list is a convenience, not needed to chat.
    }
    render();
  }

  /** Bytes are moving, so a download started: ask now that the browser keep what lands. */
  function askToPersist(): void {
    void requestPersistentStorage().then((kept) => {
      state.persisted = kept;
      render();
    });
  }

  async function run(what: string, job: (onProgress: (p: LoadProgress) => void) => Promise<string>): Promise<boolean> {
    const t0 = performance.now();
    state.progress = { fraction: null };
    // Until a loader reports what it is doing (bytes downloaded), the elapsed time shows it is alive.
    let reported: string | null = null;
    let asked = false;
    const show = () => {
      state.status = { state: 'loading', text: `Loading ${what}… ${reported ?? `${((performance.now() - t0) / 1000).toFixed(1)} s`}` };
      render();
    };
    state.status = { state: 'loading', text: `Loading ${what}…` };
    render();
    const onProgress = (p: LoadProgress) => {
      state.progress = { fraction: p.fraction, bytes: p.bytes ?? state.progress?.bytes };
      if (p.bytes !== undefined && !asked) {
        asked = true;
        askToPersist();
      }
      reported = p.text ?? reported;
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
      render();
      void refreshList();
      void cached.refresh();
    }
  }

  function start(job: () => Promise<LoadedModel | null>): Promise<LoadedModel | null> {
    const p = job().finally(() => {
      if (pending === p) pending = null;
      state.working = pending !== null;
      render();
    });
    pending = p;
    state.working = true;
    render();
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
      state.loaded = result;
      return result;
    });

  /** Fetches the named model's files without loading it; the loaded model stays. */
  const startDownload = (id: string, options: LoadModelOptions) => {
    const listing = state.listings?.find((m) => m.id === id);
    // The engine picked above when the model has files for it; otherwise the model's own default.
    const engineChoice: ZooEngine | undefined = !listing || listing.engines.some((c) => c.engine === options.engine) ? options.engine : undefined;
    return start(async () => {
      await run(`${id} (download)`, async (onProgress) => {
        const m = await api.downloadModel(
          id,
          { ...(engineChoice ? { engine: engineChoice } : {}), ...(options.hubUrl ? { hubUrl: options.hubUrl } : {}) },
          Comlink.proxy((p: DownloadProgress) => onProgress(toLoadProgress(p))),
        );
        return `Downloaded ${m.id}: ${m.files} files cached. ${state.loaded ? `Still loaded: ${describeLoaded(state.loaded)}` : 'Press Load to use it.'}`;
      });
      return state.loaded;
    });
  };

  view.controls.engine.addEventListener('change', render);
  view.controls.load.addEventListener('click', () => void startLoad(view.target(), view.chosen()));
  view.controls.download.addEventListener('click', () => void startDownload(view.target(), view.chosen()));
  render();
  void refreshList();
  void cached.refresh();

  return {
    element: view.element,
    async loadIfNone() {
      if (pending) return pending;
      // A model loaded earlier in this worker (another view, the console) is adopted, not reloaded.
      const current = await api.loadedModel().catch(() => null);
      if (!current) return startLoad(view.listed(), view.chosen());
      state.loaded = current;
      view.adopt(current);
      state.status = { state: 'ready', text: `Loaded: ${describeLoaded(current)}` };
      render();
      return current;
    },
    ready: () => pending ?? Promise.resolve(state.loaded),
    setBusy(b) {
      state.busy = b;
      render();
    },
  };
}
