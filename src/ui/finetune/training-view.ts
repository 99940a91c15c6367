/**
 * The Training panel's elements and their render(state): the model line (a
 * native model must be loaded; a button loads the bundled one), Start, Pause,
 * Resume and Cancel, the saved run's offer to resume, the figures of the last
 * step with a progress bar, the checkpoint indicator, the live loss chart and
 * the run's outcome in plain words.
 */
import type { LoadedModel } from '../../worker/api';
import type { FinetuneRunInfo } from '../../worker/client';
import { h } from '../dom';
import { trainingChart, type TrainingChart } from './training-chart';

export interface StepFigures {
  step: number;
  totalSteps: number;
  loss: number;
  lr: number;
  tokensPerSecond: number;
  stepMs: number;
  etaMs: number;
}

export interface TrainingState {
  model: LoadedModel | null;
  loadingModel: boolean;
  /** A run is going in the worker (started or resumed, not yet stopped). */
  running: boolean;
  pausing: boolean;
  preparing: { done: number; total: number } | null;
  figures: StepFigures | null;
  checkpointStep: number;
  /** The last run as the worker reported it (started or stopped). */
  run: FinetuneRunInfo | null;
  /** A saved run a Resume continues (paused, or interrupted by a reload). */
  saved: FinetuneRunInfo | null;
  outcome: { tone: 'ok' | 'bad'; text: string } | null;
  error: { headline: string; detail: string; advice: string } | null;
}

export function emptyTrainingState(): TrainingState {
  return { model: null, loadingModel: false, running: false, pausing: false, preparing: null, figures: null, checkpointStep: 0, run: null, saved: null, outcome: null, error: null };
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

const fig = (name: string, testid: string) => {
  const value = h('span', { class: 'ft-fig-value', 'data-testid': testid }, '–');
  return { value, element: h('div', { class: 'ft-fig' }, h('span', { class: 'ft-fig-name' }, name), value) };
};

/** The engine can train: the native engine with f32 weights (quantized weights are not trained). */
export const canTrain = (m: LoadedModel | null): boolean => m !== null && m.engine === 'native' && m.dtype === 'f32';

export type TrainingView = ReturnType<typeof trainingView>;

export function trainingView() {
  const modelLine = h('p', { class: 'hint', 'data-testid': 'ft-model' });
  const loadModel = h('button', { type: 'button', class: 'secondary', 'data-testid': 'ft-load-model' }, 'Load the bundled model (webvlm-tiny, native)');
  const start = h('button', { type: 'button', class: 'primary', 'data-testid': 'ft-start' }, 'Start training');
  const pause = h('button', { type: 'button', class: 'secondary', 'data-testid': 'ft-pause' }, 'Pause');
  const resume = h('button', { type: 'button', class: 'secondary', 'data-testid': 'ft-resume' }, 'Resume');
  const cancel = h('button', { type: 'button', class: 'stop', 'data-testid': 'ft-cancel' }, 'Cancel');
  const discard = h('button', { type: 'button', class: 'secondary', 'data-testid': 'ft-discard' }, 'Discard the saved run');
  const savedLine = h('p', { class: 'ft-saved', 'data-testid': 'ft-saved' });
  const saved = h('div', { class: 'toolbar ft-saved-row', hidden: '' }, savedLine, discard);
  const bar = h('progress', { max: '1', value: '0', 'data-testid': 'ft-progress' });
  const figs = {
    step: fig('Step', 'ft-fig-step'),
    loss: fig('Loss', 'ft-fig-loss'),
    lr: fig('Learning rate', 'ft-fig-lr'),
    tps: fig('Tokens/s', 'ft-fig-tps'),
    stepTime: fig('Step time', 'ft-fig-step-time'),
    eta: fig('ETA', 'ft-fig-eta'),
  };
  const checkpoint = h('p', { class: 'muted ft-checkpoint', 'data-testid': 'ft-checkpoint' });
  const preparing = h('p', { class: 'muted', 'data-testid': 'ft-preparing', hidden: '' });
  const outcome = h('p', { class: 'status', role: 'status', 'data-testid': 'ft-outcome', hidden: '' });
  const error = h('div', { class: 'chat-error', role: 'alert', 'data-testid': 'ft-train-error', hidden: '' });
  const canvas = h('canvas', { 'aria-label': 'Training and validation loss by step', 'data-testid': 'ft-chart-canvas' });
  const chartBox = h('div', { class: 'ft-chart', 'data-testid': 'ft-chart' }, canvas);
  const element = h(
    'section',
    { class: 'panel ft-training', 'aria-label': 'Training', 'data-testid': 'ft-training' },
    h('h2', {}, 'Training'),
    h('div', { class: 'toolbar' }, modelLine, loadModel),
    saved,
    h('div', { class: 'toolbar' }, start, pause, resume, cancel),
    preparing,
    h('div', { class: 'progress-row' }, bar),
    h('div', { class: 'ft-figures' }, ...Object.values(figs).map((f) => f.element)),
    checkpoint,
    outcome,
    error,
    chartBox,
  );
  let chart: TrainingChart | null = null;
  const ensureChart = () => (chart ??= trainingChart(canvas));

  function render(s: TrainingState): void {
    const trainable = canTrain(s.model);
    modelLine.textContent = s.loadingModel
      ? 'Loading the bundled model…'
      : s.model
        ? trainable
          ? `Training on ${s.model.id} (native engine).`
          : `${s.model.id} is loaded on the ${s.model.engine} engine${s.model.dtype === 'f32' ? '' : ` with ${s.model.dtype} weights`}: only the native engine with f32 weights can train. Load a native model to fine-tune.`
        : 'No model is loaded: training needs a model on the native engine.';
    modelLine.classList.toggle('bad', !s.loadingModel && !trainable);
    loadModel.hidden = trainable || s.running;
    loadModel.disabled = s.loadingModel;
    start.disabled = s.running || s.loadingModel;
    pause.hidden = !s.running;
    pause.disabled = s.pausing;
    cancel.hidden = !s.running && !s.saved;
    resume.hidden = s.running || !s.saved;
    resume.textContent = s.saved ? `Resume from step ${s.saved.checkpointStep}` : 'Resume';
    saved.hidden = s.running || !s.saved;
    if (s.saved) savedLine.textContent = `A saved run of ${s.saved.datasetName} on ${s.saved.baseModel} stopped at step ${s.saved.step} of ${s.saved.totalSteps} (${s.saved.state}). Resume from step ${s.saved.checkpointStep}, or discard it.`;
    preparing.hidden = !s.preparing;
    if (s.preparing) preparing.textContent = `Preparing the examples: ${s.preparing.done} / ${s.preparing.total}`;
    const f = s.figures;
    bar.value = f && f.totalSteps > 0 ? f.step / f.totalSteps : 0;
    figs.step.value.textContent = f ? `${f.step} / ${f.totalSteps}` : '–';
    figs.loss.value.textContent = f ? f.loss.toFixed(4) : '–';
    figs.lr.value.textContent = f ? f.lr.toExponential(2) : '–';
    figs.tps.value.textContent = f ? f.tokensPerSecond.toFixed(1) : '–';
    figs.stepTime.value.textContent = f ? `${Math.round(f.stepMs)} ms` : '–';
    figs.eta.value.textContent = f ? (s.running ? formatDuration(f.etaMs) : '–') : '–';
    checkpoint.textContent = s.checkpointStep > 0 ? `Checkpoint saved at step ${s.checkpointStep}: a reload resumes from there.` : 'No checkpoint saved yet.';
    outcome.hidden = !s.outcome;
    outcome.textContent = s.outcome?.text ?? '';
    outcome.className = `status ${s.outcome?.tone ?? ''}`;
    // An empty chart is a blank box: it appears with the first run (or the saved one).
    chartBox.hidden = !s.run && !s.running;
    error.hidden = !s.error;
    if (s.error) error.replaceChildren(h('strong', {}, s.error.headline), ' ', h('span', { 'data-testid': 'ft-train-error-detail' }, s.error.detail), h('p', { class: 'advice' }, s.error.advice));
  }

  return { element, render, chart: ensureChart, controls: { loadModel, start, pause, resume, cancel, discard } };
}
