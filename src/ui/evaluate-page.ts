/**
 * The Evaluate view: pick a benchmark (synthetic POPE, COCO POPE over the
 * user's own images, or a LLaVA-JSON file with its images), run it in the
 * engine worker with progress and Cancel, and see and download the scores.
 * The worker scores and writes the exports; this file only gathers the
 * user's files, drives the run and keeps the state evaluate-page-view.ts draws.
 */
import * as Comlink from 'comlink';
import type { EvaluationEvent, EvaluationRequest, EvaluationResult, MetricName, PopeSplitName, UnfinishedEvaluation } from '../worker/api';
import { VlmError, type VlmClient } from '../worker/client';
import { h } from './dom';
import { choiceRequest, mmeRequest } from './evaluate-group-request';
import { modelChoices, parseChoice } from './evaluate-model';
import { evaluateView, type Benchmark, type EvaluateState, type EvaluateView } from './evaluate-page-view';
import { runsPanel, type RunsPanel } from './evaluate-runs';

/** What every action works on. */
interface Evaluate {
  api: VlmClient;
  state: EvaluateState;
  view: EvaluateView;
  runs: RunsPanel;
  /** Object URLs of the user's images shown as thumbnails, revoked when the files change. */
  thumbs: Map<string, string>;
}

function errorText(err: unknown): { code: string; message: string } {
  if (err instanceof VlmError) return { code: err.code, message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}

function download(name: string, type: string, body: string): void {
  const url = URL.createObjectURL(new Blob([body], { type }));
  h('a', { href: url, download: name }).click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function render(e: Evaluate): void {
  e.view.render(e.state, (name) => thumb(e, name));
}

function thumb(e: Evaluate, name: string): string | null {
  const file = e.state.files.get(name);
  if (!file) return null;
  let url = e.thumbs.get(name);
  // Untyped: an <img> still shows any raster picture, but a chosen SVG neither renders nor runs its script when opened.
  if (!url) e.thumbs.set(name, (url = URL.createObjectURL(new Blob([file], { type: 'application/octet-stream' }))));
  return url;
}

function setFiles(e: Evaluate, files: Iterable<File>): void {
  for (const url of e.thumbs.values()) URL.revokeObjectURL(url);
  e.thumbs.clear();
  e.state.files = new Map([...files].filter((f) => !f.name.startsWith('.')).map((f) => [f.webkitRelativePath || f.name, f]));
  render(e);
}

/** The official question file of the split, served with the app (public/pope). */
async function officialQuestions(split: PopeSplitName): Promise<{ name: string; text: string }> {
  const name = `coco_pope_${split}.json`;
  const res = await fetch(`/pope/${name}`);
  if (!res.ok) throw new VlmError('bad-input', `${name} could not be fetched (HTTP ${res.status}).`);
  return { name, text: await res.text() };
}

async function buildRequest(e: Evaluate): Promise<EvaluationRequest> {
  const c = e.view.controls;
  const imageNames = [...e.state.files.keys()];
  const own = e.state.dataFile;
  if (e.state.benchmark === 'pope-synthetic') return { benchmark: 'pope-synthetic', seed: Number(c.seed.value), images: Number(c.count.value), splits: ['random', 'popular', 'adversarial'] };
  if (e.state.benchmark === 'pope-coco') {
    const split = c.split.value as PopeSplitName;
    const questions = own ? { name: own.name, text: await own.text() } : await officialQuestions(split);
    return { benchmark: 'pope-coco', split, questions, imageNames };
  }
  if (e.state.benchmark === 'mme') return mmeRequest(e.state.files);
  if (e.state.benchmark === 'choice') return choiceRequest(e.state.files, own);
  if (!own) throw new VlmError('bad-input', 'Choose the LLaVA JSON file to evaluate.');
  const metric = c.metric.value ? (c.metric.value as MetricName) : undefined;
  return { benchmark: 'llava', data: { name: own.name, text: await own.text() }, imageNames, ...(metric ? { metric } : {}) };
}

/** The page's side of readImage: the named file's bytes, handed over to the worker. */
async function readImage(e: Evaluate, name: string): Promise<ArrayBuffer> {
  const file = e.state.files.get(name);
  if (!file) throw new VlmError('bad-input', `${name} is no longer among the chosen files.`);
  const bytes = await file.arrayBuffer();
  return Comlink.transfer(bytes, [bytes]);
}

function onEvent(e: Evaluate, ev: EvaluationEvent): void {
  const s = e.state;
  if (!s.progress) return;
  if (ev.type === 'planned') {
    s.progress.total = ev.total;
    s.status = ev.skipped > 0 ? skippedLine(ev.skipped, ev.missingImages.length) : `Running ${ev.total} questions…`;
  } else {
    s.progress = { done: ev.done, total: ev.total, elapsedMs: ev.elapsedMs };
  }
  render(e);
}

const skippedLine = (questions: number, images: number): string => `${questions} questions skipped, ${images} images missing.`;

function resultStatus(e: Evaluate): string {
  const r = e.state.result;
  if (!r) return '';
  const parts = [`${r.records.length} of ${r.total} questions answered in ${(r.ms / 1000).toFixed(1)} s.`];
  if (r.skipped > 0) parts.push(skippedLine(r.skipped, r.missingImages.length));
  if (r.stopped) parts.push(`Stopped early: ${r.stopped.message}`);
  return parts.join(' ');
}

/** Runs `go` (a new run or a resumed one) with progress, then keeps its result and re-reads the kept runs. */
async function drive(e: Evaluate, go: () => Promise<EvaluationResult>): Promise<void> {
  const s = e.state;
  if (s.progress) {
    s.error = { code: 'busy', message: 'An evaluation is already running; Cancel it or wait for it to finish.' };
    render(e);
    return;
  }
  s.error = null;
  s.status = 'Preparing…';
  s.progress = { done: 0, total: 0, elapsedMs: 0 };
  render(e);
  try {
    s.result = await go();
    s.status = resultStatus(e);
  } catch (err) {
    s.error = errorText(err);
    s.status = '';
  } finally {
    s.progress = null;
    render(e);
    void e.runs.refresh();
  }
}

const readProxy = (e: Evaluate) => Comlink.proxy((name: string) => readImage(e, name));
const eventProxy = (e: Evaluate) => Comlink.proxy((ev: EvaluationEvent) => onEvent(e, ev));

const start = (e: Evaluate) => drive(e, async () => e.api.evaluate(await buildRequest(e), readProxy(e), eventProxy(e)));

function resume(e: Evaluate, u: UnfinishedEvaluation): Promise<void> {
  return drive(e, async () => {
    if (u.needsFiles && e.state.files.size === 0) throw new VlmError('bad-input', 'This run read your image files: pick the same folder or files again, then Resume.');
    return e.api.resumeEvaluation([...e.state.files.keys()], readProxy(e), eventProxy(e));
  });
}

async function loadModel(e: Evaluate): Promise<void> {
  e.state.loadingModel = true;
  render(e);
  try {
    const choice = parseChoice(e.view.controls.modelChoice.value);
    if (!choice) throw new VlmError('bad-input', 'Choose a model and engine to load.');
    e.state.error = null;
    e.state.model = await e.api.loadModel(choice.id, { engine: choice.engine, dtype: choice.dtype });
  } catch (err) {
    e.state.error = errorText(err);
  } finally {
    e.state.loadingModel = false;
    render(e);
  }
}

/** Files of a dropped folder, read recursively (DataTransfer gives entries, not files, for folders). */
async function droppedFiles(items: DataTransferItemList): Promise<File[]> {
  const out: File[] = [];
  const walk = async (entry: FileSystemEntry | null): Promise<void> => {
    if (!entry) return;
    if (entry.isFile) out.push(await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail)));
    else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  await Promise.all([...items].map((i) => i.webkitGetAsEntry()).map(walk));
  return out;
}

function wire(e: Evaluate): void {
  const c = e.view.controls;
  c.benchmark.addEventListener('change', () => {
    e.state.benchmark = c.benchmark.value as Benchmark;
    render(e);
  });
  c.folder.addEventListener('change', () => setFiles(e, c.folder.files ?? []));
  c.images.addEventListener('change', () => setFiles(e, c.images.files ?? []));
  c.dataFile.addEventListener('change', () => {
    e.state.dataFile = c.dataFile.files?.[0] ?? null;
  });
  c.drop.addEventListener('dragover', (ev) => ev.preventDefault());
  c.drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    if (ev.dataTransfer) void droppedFiles(ev.dataTransfer.items).then((files) => setFiles(e, files));
  });
  c.start.addEventListener('click', () => void start(e));
  c.cancel.addEventListener('click', () => void e.api.stopEvaluation());
  c.loadModel.addEventListener('click', () => void loadModel(e));
  c.onlyErrors.addEventListener('change', () => {
    e.state.onlyErrors = c.onlyErrors.checked;
    render(e);
  });
  const saved = (kind: 'json' | 'csv' | 'summary') => () => {
    const r = e.state.result;
    if (!r) return;
    const base = `evaluation-${r.benchmark}`;
    if (kind === 'json') download(`${base}.json`, 'application/json', r.json);
    else download(kind === 'csv' ? `${base}.csv` : `${base}-summary.csv`, 'text/csv', kind === 'csv' ? r.csv : r.summaryCsv);
  };
  c.downloadJson.addEventListener('click', saved('json'));
  c.downloadCsv.addEventListener('click', saved('csv'));
  c.downloadSummary.addEventListener('click', saved('summary'));
}

export interface EvaluatePage {
  element: HTMLElement;
  /** The view came on screen: re-read which model is loaded. */
  activate(): void;
}

export function evaluatePage(api: VlmClient): EvaluatePage {
  const state: EvaluateState = { benchmark: 'pope-synthetic', model: null, loadingModel: false, files: new Map(), dataFile: null, progress: null, result: null, onlyErrors: false, status: '', error: null };
  const view = evaluateView();
  const e: Evaluate = { api, state, view, thumbs: new Map(), runs: runsPanel(api, { show: (r) => show(e, r), resume: (u) => void resume(e, u), error: (err) => showError(e, err) }) };
  view.element.append(e.runs.element);
  wire(e);
  render(e);
  void e.runs.refresh();
  void api.listModels().then((listings) => {
    const options = modelChoices(listings);
    if (options.length > 0) view.controls.modelChoice.replaceChildren(...options);
  }, () => undefined);
  void api.lastEvaluation().then((last) => {
    if (last && !state.result) {
      state.result = last;
      state.status = `Last run: ${resultStatus(e)}`;
      render(e);
    }
  });
  const activate = () => {
    void api.loadedModel().then((m) => {
      state.model = m;
      render(e);
    });
  };
  return { element: e.view.element, activate };
}

function show(e: Evaluate, r: EvaluationResult): void {
  e.state.result = r;
  e.state.status = `Kept run: ${resultStatus(e)}`;
  render(e);
}

function showError(e: Evaluate, err: unknown): void {
  e.state.error = errorText(err);
  render(e);
}
