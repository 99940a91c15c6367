/**
 * Training: Start sends the records and settings to the worker's run, whose
 * events move the chart, the figures and the checkpoint line; Pause ends the
 * run after a checkpoint, Resume continues the saved run (also after a
 * reload, offered when the view opens), Cancel ends it for good. A run that
 * stops on its own says why: finished, diverged (the last good adapter kept),
 * failed, or storage full.
 */
import * as Comlink from 'comlink';
import { VlmError, type FinetuneDataset, type FinetuneEvent, type FinetuneRunInfo, type FinetuneSettings, type VlmClient } from '../../worker/client';
import { describeError, toTurnError } from '../chat/error-text';
import { canTrain, emptyTrainingState, trainingView, type TrainingState } from './training-view';

export interface TrainingHost {
  /** The data to train on, or what is missing. */
  dataset(): FinetuneDataset | string;
  /** The checked settings, or null (the form lists the problems). */
  settings(): FinetuneSettings | null;
  /** A run stopped (the adapter may have changed). */
  stopped(run: FinetuneRunInfo): void;
}

export interface TrainingPanel {
  element: HTMLElement;
  /** Re-reads the loaded model and the saved run (the view came on screen). */
  activate(): Promise<void>;
}

const BUNDLED = 'webvlm-tiny';

function outcome(run: FinetuneRunInfo): TrainingState['outcome'] {
  const why = run.message ? ` ${run.message}` : '';
  switch (run.state) {
    case 'finished':
      return { tone: 'ok', text: `Finished: ${run.step} steps on ${run.trainExamples} examples (${run.validationExamples} held out for validation). The adapter is ready below.` };
    case 'paused':
      return { tone: 'ok', text: `Paused at step ${run.step} of ${run.totalSteps}; checkpoint at step ${run.checkpointStep}. Resume continues from there.` };
    case 'cancelled':
      return { tone: 'ok', text: `Cancelled at step ${run.step}.${why}` };
    case 'diverged':
      return { tone: 'bad', text: `Stopped: the loss diverged.${why || ' The last good adapter is kept.'} Lower the learning rate and start again.` };
    case 'failed':
      return { tone: 'bad', text: `The run failed at step ${run.step}.${why}` };
    case 'running':
      return null;
  }
}

export function trainingPanel(api: VlmClient, host: TrainingHost): TrainingPanel {
  const state = emptyTrainingState();
  const view = trainingView();
  const render = () => view.render(state);

  const onEvent = (ev: FinetuneEvent) => {
    if (ev.kind === 'preparing') state.preparing = { done: ev.done, total: ev.total };
    else if (ev.kind === 'started') {
      state.preparing = null;
      state.run = ev.run;
      state.checkpointStep = ev.run.checkpointStep;
      view.chart().reset(ev.run.curve, ev.run.validation);
    } else if (ev.kind === 'step') {
      state.figures = ev;
      view.chart().addTrain({ step: ev.step, loss: ev.loss });
    } else if (ev.kind === 'validation') view.chart().addValidation({ step: ev.step, loss: ev.loss });
    else if (ev.kind === 'checkpoint') state.checkpointStep = ev.step;
    else state.run = ev.run;
    render();
  };

  const drive = async (go: (events: (ev: FinetuneEvent) => void) => Promise<FinetuneRunInfo>) => {
    if (state.running) return;
    state.running = true;
    state.pausing = false;
    state.outcome = null;
    state.error = null;
    render();
    try {
      const run = await go(Comlink.proxy(onEvent));
      state.run = run;
      state.checkpointStep = run.checkpointStep;
      state.outcome = outcome(run);
      host.stopped(run);
    } catch (err) {
      state.error = describeError(toTurnError(err));
    } finally {
      state.running = false;
      state.pausing = false;
      state.preparing = null;
      state.saved = await api.finetuneSaved().catch(() => null);
      render();
    }
  };

  const start = () => {
    // Settings and data first: their problems are worth fixing while the model loads.
    const settings = host.settings();
    const dataset = host.dataset();
    if (!settings) state.error = { headline: 'The settings need fixing.', detail: 'The problems are listed under Settings.', advice: 'Correct the marked fields, then Start again.' };
    else if (typeof dataset === 'string') state.error = { headline: 'No training data.', detail: dataset, advice: 'Load LLaVA JSON, generate records or have a teacher write them under Data, then Start again.' };
    else if (!canTrain(state.model)) state.error = { headline: 'No model to train.', detail: 'Training needs a model on the native engine with f32 weights.', advice: 'Press "Load the bundled model" above, or load a native model in Chat, then Start again.' };
    else state.error = null;
    if (state.error || !settings || typeof dataset === 'string') {
      render();
      return;
    }
    state.figures = null;
    view.chart().reset([], []);
    void drive((events) => api.finetuneStart(dataset, settings, events));
  };

  const loadModel = async () => {
    state.loadingModel = true;
    state.error = null;
    render();
    try {
      state.model = await api.loadModel(BUNDLED, { engine: 'native' });
    } catch (err) {
      state.error = describeError(toTurnError(err));
    } finally {
      state.loadingModel = false;
      render();
    }
  };

  const c = view.controls;
  c.start.addEventListener('click', start);
  c.loadModel.addEventListener('click', () => void loadModel());
  c.pause.addEventListener('click', () => {
    state.pausing = true;
    render();
    void api.finetunePause();
  });
  c.resume.addEventListener('click', () => {
    if (!state.saved) return;
    state.figures = null;
    void drive((events) => api.finetuneResume(events));
  });
  c.cancel.addEventListener('click', () => {
    if (state.running) void api.finetuneCancel();
    else void discard();
  });
  c.discard.addEventListener('click', () => void discard());

  const discard = async () => {
    try {
      await api.finetuneDiscard();
      state.saved = null;
      state.outcome = { tone: 'ok', text: 'The saved run was discarded.' };
    } catch (err) {
      state.error = describeError(toTurnError(err));
    }
    render();
  };

  render();
  return {
    element: view.element,
    async activate() {
      const [model, saved] = await Promise.all([api.loadedModel().catch(() => null), api.finetuneSaved().catch((err: unknown) => (err instanceof VlmError ? null : Promise.reject(err)))]);
      state.model = model;
      if (!state.running) {
        state.saved = saved;
        // A reload lands here with the saved run's curve: show it before Resume continues it.
        if (saved && !state.run) {
          state.run = saved;
          state.checkpointStep = saved.checkpointStep;
          view.chart().reset(saved.curve, saved.validation);
        }
      }
      render();
    },
  };
}
