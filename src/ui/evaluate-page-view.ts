/**
 * The Evaluate view's elements and their render(state): the benchmark choice
 * and its settings, Start and Cancel, the progress bar with ETA, the status
 * and error lines, and after a run the metrics, confusion matrices, chart and
 * per-question table with the downloads.
 */
import type { Chart } from 'chart.js';
import type { EvaluationResult, LoadedModel } from '../worker/api';
import { h, setChildren } from './dom';
import { groupTable } from './evaluate-group-results';
import { confusionMatrices, metricsTable, missingList, questionsTable } from './evaluate-results';

export type Benchmark = 'pope-synthetic' | 'pope-coco' | 'llava' | 'mme' | 'choice';

export interface EvaluateState {
  benchmark: Benchmark;
  model: LoadedModel | null;
  loadingModel: boolean;
  /** The user's image files, by the name the run uses (a folder pick's relative path). */
  files: Map<string, File>;
  /** The user's own question file (COCO POPE) or LLaVA JSON. */
  dataFile: File | null;
  progress: { done: number; total: number; elapsedMs: number } | null;
  result: EvaluationResult | null;
  onlyErrors: boolean;
  status: string;
  error: { code: string; message: string } | null;
}

const option = (value: string, label: string, selected = false) => h('option', selected ? { value, selected: '' } : { value }, label);

function field(label: string | HTMLElement, control: HTMLElement): HTMLLabelElement {
  return h('label', { class: 'eval-field' }, label, ' ', control);
}

function formatEta(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

/** "12 / 60 · 35 s left" from the average time per answer so far. */
export function progressText(p: { done: number; total: number; elapsedMs: number }): string {
  const eta = p.done > 0 ? ` · ${formatEta(((p.total - p.done) * p.elapsedMs) / p.done)} left` : '';
  return `${p.done} / ${p.total}${eta}`;
}

function benchmarkControls() {
  const benchmark = h('select', { 'data-testid': 'eval-benchmark' }, option('pope-synthetic', 'POPE, synthetic scenes', true), option('pope-coco', 'POPE, COCO question files + your images'), option('llava', 'LLaVA JSON + images'), option('mme', 'MME-style yes/no: your MME folder'), option('choice', 'Multiple choice (CircularEval): MMBench TSV'));
  const seed = h('input', { type: 'number', value: '9001', min: '0', step: '1', 'data-testid': 'eval-seed' });
  const count = h('input', { type: 'number', value: '2', min: '1', step: '1', 'data-testid': 'eval-count' });
  const split = h('select', { 'data-testid': 'eval-split' }, option('random', 'random', true), option('popular', 'popular'), option('adversarial', 'adversarial'));
  const folder = h('input', { type: 'file', webkitdirectory: '', multiple: '', 'data-testid': 'eval-folder' });
  const images = h('input', { type: 'file', multiple: '', accept: 'image/*', 'data-testid': 'eval-images' });
  const dataFile = h('input', { type: 'file', accept: '.json,.jsonl,.tsv,application/json,text/tab-separated-values', 'data-testid': 'eval-data-file' });
  const metric = h('select', { 'data-testid': 'eval-metric' }, option('', 'by task', true), ...['exact_match', 'vqa_exact_match', 'vqa_accuracy', 'f1', 'iou>0.5', 'cer'].map((m) => option(m, m)));
  const drop = h('div', { class: 'drop-zone eval-drop', 'data-testid': 'eval-drop' }, 'Drop the image folder or files here');
  return { benchmark, seed, count, split, folder, images, dataFile, metric, drop };
}

export type EvaluateView = ReturnType<typeof evaluateView>;

export function evaluateView() {
  const c = benchmarkControls();
  const start = h('button', { type: 'button', class: 'primary', 'data-testid': 'eval-start' }, 'Start');
  const cancel = h('button', { type: 'button', 'data-testid': 'eval-cancel' }, 'Cancel');
  // Filled by the page from listModels: "id|engine" values, the bundled model on the native engine first.
  const modelChoice = h('select', { 'data-testid': 'eval-model-choice', 'aria-label': 'Model, engine and weights' }, option('webvlm-tiny|native', 'webvlm-tiny · native', true));
  const loadModel = h('button', { type: 'button', 'data-testid': 'eval-load-model' }, 'Load');
  const onlyErrors = h('input', { type: 'checkbox', 'data-testid': 'eval-only-errors' });
  const downloadJson = h('button', { type: 'button', 'data-testid': 'eval-download-json' }, 'Download JSON');
  const downloadCsv = h('button', { type: 'button', 'data-testid': 'eval-download-csv' }, 'Download CSV');
  const downloadSummary = h('button', { type: 'button', 'data-testid': 'eval-download-summary' }, 'Summary CSV');
  const modelLine = h('p', { class: 'hint', 'data-testid': 'eval-model' });
  const dataLabel = h('span', {});
  const synthetic = h('div', { class: 'eval-settings' }, field('Seed', c.seed), field('Images per split', c.count));
  const coco = h('div', { class: 'eval-settings' }, field('Split', c.split), field('Image folder', c.folder), field('or files', c.images), field(dataLabel, c.dataFile), c.drop);
  const llava = h('div', { class: 'eval-settings' }, field('Metric', c.metric));
  const bar = h('progress', { max: '1', value: '0', 'data-testid': 'eval-progress' });
  const barText = h('span', { 'data-testid': 'eval-progress-text' });
  const status = h('p', { class: 'status', 'data-testid': 'eval-status' });
  const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'eval-error' });
  const canvas = h('canvas', { 'data-testid': 'eval-chart' });
  const results = h('div', { class: 'eval-results', 'data-testid': 'eval-results' });
  const questions = h('div', {});
  const element = h(
    'section',
    { class: 'panel evaluate' },
    h('h2', {}, 'Evaluate'),
    h('div', { class: 'eval-model-row' }, modelLine, modelChoice, loadModel),
    h('div', { class: 'eval-settings' }, field('Benchmark', c.benchmark)),
    synthetic,
    coco,
    llava,
    h('div', { class: 'eval-run-row' }, start, cancel, bar, barText),
    status,
    error,
    results,
  );
  let chart: Chart<'bar'> | null = null;
  let drawn: { result: EvaluationResult; onlyErrors: boolean } | null = null;

  function drawResult(r: EvaluationResult, thumb: (name: string) => string | null, errorsOnly: boolean): void {
    if (drawn?.result !== r) {
      chart?.destroy();
      const matrices = confusionMatrices(r.results);
      const group = groupTable(r);
      const chartBox = h('div', { class: 'eval-chart-box' }, canvas);
      setChildren(results, [
        h('h3', { 'data-testid': 'eval-title' }, r.title),
        ...[missingList(r.missingImages)].filter((x): x is HTMLElement => x !== null),
        group ?? metricsTable(r.results),
        ...(matrices ? [matrices, chartBox] : group ? [chartBox] : []),
        h('div', { class: 'eval-downloads' }, downloadJson, downloadCsv, downloadSummary, h('label', {}, onlyErrors, ' only errors')),
        questions,
      ]);
      chart = null;
      // Chart.js loads with the first result, not with the page.
      if (matrices)
        void import('./evaluate-chart').then(({ popeChart }) => {
          if (drawn?.result === r) chart = popeChart(canvas, r.results);
        });
      else if (group)
        void import('./evaluate-group-chart').then(({ groupChart }) => {
          if (drawn?.result === r) chart = groupChart(canvas, r.results);
        });
    }
    if (drawn?.result !== r || drawn.onlyErrors !== errorsOnly) setChildren(questions, [questionsTable(r.records, errorsOnly, thumb)]);
    drawn = { result: r, onlyErrors: errorsOnly };
  }

  function render(s: EvaluateState, thumb: (name: string) => string | null): void {
    const running = s.progress !== null;
    modelLine.textContent = s.loadingModel ? 'Loading the model…' : s.model ? `Model: ${s.model.id} on ${s.model.engine} (${s.model.dtype})` : 'No model is loaded: load one here or in the Chat view.';
    loadModel.disabled = s.loadingModel || running;
    modelChoice.disabled = s.loadingModel || running;
    synthetic.hidden = s.benchmark !== 'pope-synthetic';
    coco.hidden = s.benchmark === 'pope-synthetic';
    c.split.parentElement?.toggleAttribute('hidden', s.benchmark !== 'pope-coco');
    dataLabel.textContent = s.benchmark === 'llava' ? 'LLaVA JSON' : s.benchmark === 'choice' ? 'MMBench TSV' : 'Own question file (optional)';
    c.dataFile.parentElement?.toggleAttribute('hidden', s.benchmark === 'mme');
    llava.hidden = s.benchmark !== 'llava';
    c.drop.textContent = s.files.size > 0 ? `${s.files.size} image file(s) chosen; drop more to replace them` : 'Drop the image folder or files here';
    cancel.disabled = !running;
    bar.hidden = !running;
    barText.hidden = !running;
    if (s.progress) {
      bar.max = Math.max(1, s.progress.total);
      bar.value = s.progress.done;
      barText.textContent = progressText(s.progress);
    }
    status.textContent = s.status;
    error.textContent = s.error ? s.error.message : '';
    error.hidden = s.error === null;
    results.hidden = s.result === null;
    if (s.result) drawResult(s.result, thumb, s.onlyErrors);
  }

  return { element, render, controls: { ...c, start, cancel, modelChoice, loadModel, onlyErrors, downloadJson, downloadCsv, downloadSummary } };
}
