/**
 * The model picker's elements and its render(state). The form controls hold
 * the person's choices (model, engine, weights, hub); everything else on
 * screen is drawn from PickerState.
 */
import type { EngineKind, LoadedModel, LoadModelOptions, ModelDType, ModelListing } from '../../worker/api';
import { DEFAULT_HUB, formatBytes } from '../../worker/client';
import { h } from '../dom';
import { modelOption } from './model-catalog';

export interface ModelChoice {
  id: string;
  label: string;
  /** Shown beside the name: where it comes from and what it can do. */
  note: string;
}

/** The model zoo as the picker sees it; the bundled model first (the default). */
export const MODEL_CHOICES: readonly ModelChoice[] = [{ id: 'webvlm-tiny', label: 'webvlm-tiny', note: 'bundled, works offline: synthetic shapes, counts, colours, boxes' }];

export const ENGINE_LABELS: Record<EngineKind, string> = { native: 'Native WGSL', onnx: 'ONNX Runtime WebGPU', transformers: 'transformers.js' };
const NATIVE_DTYPES: [string, string][] = [
  ['f32', 'f32 (exact)'],
  ['int8', 'int8 (quantized at load)'],
  ['int4', 'int4 (quantized at load)'],
];
/** Offered only where the adapter has shader-f16: the kernels read f16 weights directly. */
const NATIVE_F16: [string, string] = ['f16', 'f16 (half the memory; shader-f16)'];

const ANY_TJS_DTYPES = ['fp32', 'q8', 'q4', 'fp16', 'q4f16'] as const;

/** The weight choices for an engine: native quantizes at load; transformers.js fetches the ONNX files of a dtype (only those this adapter runs, with sizes). */
function dtypeOptions(engine: string, listing: ModelListing | undefined, shaderF16: boolean): [string, string][] {
  if (engine !== 'transformers') return shaderF16 ? [NATIVE_DTYPES[0] as [string, string], NATIVE_F16, ...NATIVE_DTYPES.slice(1)] : NATIVE_DTYPES;
  const choice = listing?.engines.find((e) => e.engine === 'transformers.js');
  // A repo typed by id (or a listed model our engines run): every variant; the worker names the files a repo lacks.
  if (!choice) return ANY_TJS_DTYPES.map((d) => [d, d]);
  return choice.dtypes.map((d) => [d.dtype, d.approxBytes === null ? d.dtype : `${d.dtype} (~${formatBytes(d.approxBytes)})`]);
}

export interface PickerState {
  /** The zoo from the worker, once read; until then the bundled choice alone. */
  listings: readonly ModelListing[] | null;
  loaded: LoadedModel | null;
  /** A load or download is running. */
  working: boolean;
  /** An answer is streaming: loading another model would cut it off. */
  busy: boolean;
  status: { state: 'idle' | 'loading' | 'ready' | 'error'; text: string; code?: string };
  /** The bar while working: a fraction, or null while the amount of work is unknown. */
  progress: { fraction: number | null; bytes?: number } | null;
  /** Whether the browser agreed to keep downloaded weights (asked when bytes first move). */
  persisted: boolean | null;
  /** The adapter has shader-f16 (false until the worker says), so native f16 weights can be offered. */
  shaderF16: boolean;
}

export function describeLoaded(m: LoadedModel): string {
  const dtype = m.engine === 'native' ? ` · ${m.dtype} weights` : m.engine === 'transformers' ? ` · ${m.dtype} on ${m.device}` : '';
  return `${m.id} · ${ENGINE_LABELS[m.engine]}${dtype} · ${m.contextLength}-token context · loaded in ${(m.loadMs / 1000).toFixed(1)} s`;
}

function select(testId: string, label: string, options: [string, string][]): { wrap: HTMLElement; el: HTMLSelectElement } {
  const el = h('select', { 'data-testid': testId }, ...options.map(([value, text]) => h('option', { value }, text)));
  return { wrap: h('label', { class: 'field' }, h('span', {}, label), el), el };
}

/** The zoo with the bundled model first, then the default; keeps the choice while it can still run here. */
function renderOptions(el: HTMLSelectElement, listings: readonly ModelListing[]): void {
  const chosen = el.value;
  const ordered = [...listings].sort((a, b) => Number(b.source === 'bundled') - Number(a.source === 'bundled') || Number(b.isDefault) - Number(a.isDefault));
  const keep = ordered.some((m) => m.id === chosen && m.engines.some((e) => e.runsHere));
  const fallback = ordered.find((m) => m.isDefault)?.id ?? ordered[0]?.id;
  el.replaceChildren(...ordered.map((m) => modelOption(m, m.id === (keep ? chosen : fallback))));
  el.dataset.listed = String(ordered.length);
}

/** A repo not in the zoo (a llava-layout export) and another hub root (a mirror, a local server). */
function hubSource() {
  const hubId = h('input', { type: 'text', 'data-testid': 'hub-model-id', placeholder: 'org/name', spellcheck: 'false', autocomplete: 'off' });
  const hubUrl = h('input', { type: 'url', 'data-testid': 'hub-url', value: DEFAULT_HUB, spellcheck: 'false', autocomplete: 'off' });
  const download = h('button', { type: 'button', 'data-testid': 'download-model', title: 'Fetch the files into this browser without loading the model' }, 'Download only');
  const hub = h(
    'details',
    { class: 'hub-source', 'data-testid': 'hub-source' },
    h('summary', {}, 'Another hub repository'),
    h('div', { class: 'picker-row' }, h('label', { class: 'field' }, h('span', {}, 'Repository (overrides the list)'), hubId), h('label', { class: 'field' }, h('span', {}, 'Hub'), hubUrl), download),
  );
  return { hub, hubId, hubUrl, download };
}

export type PickerView = ReturnType<typeof pickerView>;

export function pickerView(cachedModels: HTMLElement) {
  const model = select(
    'model-select',
    'Model',
    MODEL_CHOICES.map((m) => [m.id, `${m.label} (${m.note})`]),
  );
  const engine = select('engine-select', 'Engine', [
    ['native', ENGINE_LABELS.native],
    ['onnx', ENGINE_LABELS.onnx],
    ['transformers', ENGINE_LABELS.transformers],
  ]);
  const dtype = select('dtype-select', 'Weights', NATIVE_DTYPES);
  const load = h('button', { type: 'button', 'data-testid': 'load-model' }, 'Load');
  const { hub, hubId, hubUrl, download } = hubSource();
  const progress = h('progress', { class: 'model-progress', 'data-testid': 'model-progress', hidden: '', 'aria-label': 'Loading the model' });
  const status = h('p', { class: 'model-status', 'data-testid': 'model-status', 'data-state': 'idle', role: 'status' }, 'No model loaded yet.');
  const element = h(
    'section',
    { class: 'panel model-picker', 'data-testid': 'model-picker', 'aria-label': 'Model' },
    h('div', { class: 'picker-row' }, model.wrap, engine.wrap, dtype.wrap, load),
    hub,
    progress,
    status,
    cachedModels,
  );
  let drawnListings: readonly ModelListing[] | null = null;
  let drawnDtypes = '';
  let drawnShaderF16 = false;

  /** The weight list follows the engine and model; a choice still offered is kept. */
  function renderDtypes(listings: readonly ModelListing[] | null, shaderF16: boolean): void {
    const options = dtypeOptions(engine.el.value, listings?.find((m) => m.id === model.el.value), shaderF16);
    const key = JSON.stringify(options);
    if (key === drawnDtypes) return;
    drawnDtypes = key;
    const kept = dtype.el.value;
    dtype.el.replaceChildren(...options.map(([value, text]) => h('option', { value }, text)));
    if (options.some(([value]) => value === kept)) dtype.el.value = kept;
  }

  function render(s: PickerState): void {
    if (s.listings && s.listings !== drawnListings) renderOptions(model.el, s.listings);
    drawnListings = s.listings;
    drawnShaderF16 = s.shaderF16;
    renderDtypes(s.listings, s.shaderF16);
    // ONNX files carry their own (f32) weights; quantizing at load is the native engine's, file variants transformers.js'.
    dtype.el.disabled = engine.el.value === 'onnx' || s.working;
    dtype.el.title = engine.el.value === 'onnx' ? 'The ONNX engine runs the f32 ONNX files as they are.' : '';
    model.el.disabled = engine.el.disabled = hubId.disabled = hubUrl.disabled = s.working;
    load.disabled = s.working || s.busy;
    download.disabled = s.working;
    status.dataset.state = s.status.state;
    status.textContent = s.status.text;
    if (s.status.code) status.dataset.code = s.status.code;
    else delete status.dataset.code;
    progress.hidden = s.progress === null;
    if (s.progress?.fraction === null || s.progress?.fraction === undefined) progress.removeAttribute('value');
    else progress.value = s.progress.fraction;
    if (s.progress?.bytes !== undefined) progress.dataset.bytes = String(s.progress.bytes);
    else delete progress.dataset.bytes;
    if (s.persisted !== null) progress.dataset.persisted = String(s.persisted);
  }

  /** The model chosen in the list. */
  const listed = () => model.el.value;
  /** The model the form names: a typed hub id overrides the list. */
  const target = () => hubId.value.trim() || model.el.value;
  /** Engine and weights as chosen; a hub other than the default goes along. */
  const chosen = (): LoadModelOptions => {
    const e = engine.el.value as EngineKind;
    const hubRoot = hubUrl.value.trim();
    const base = e === 'onnx' ? { engine: e } : { engine: e, dtype: dtype.el.value as ModelDType };
    return hubRoot && hubRoot !== DEFAULT_HUB ? { ...base, hubUrl: hubRoot } : base;
  };
  /** Shows a model loaded elsewhere (another view, the console) as the choice. */
  const adopt = (m: LoadedModel) => {
    engine.el.value = m.engine;
    if ([...model.el.options].some((o) => o.value === m.id)) model.el.value = m.id;
    renderDtypes(drawnListings, drawnShaderF16 || m.dtype === 'f16');
    dtype.el.value = m.dtype;
  };
  /**
   * A model the chosen engine cannot run switches to one that can; a hub model
   * starts on its first engine (transformers.js; SmolVLM offers native too).
   */
  const followModel = () => {
    const listing = drawnListings?.find((m) => m.id === model.el.value);
    if (!listing) return;
    const runs = listing.engines.filter((c) => c.runsHere).map((c) => (c.engine === 'transformers.js' ? 'transformers' : c.engine));
    const first = runs[0];
    if (first && (listing.source === 'hub' || !runs.includes(engine.el.value as EngineKind))) engine.el.value = first;
  };

  return { element, render, listed, target, chosen, adopt, followModel, controls: { engine: engine.el, model: model.el, load, download } };
}
