/**
 * A fine-tuning run from start to stop: the data prepared for the loaded
 * model, the run saved (its data set once, then checkpoints), the training
 * loop driven with Pause and Cancel, and the adapter it leaves handed to the
 * adapter session. Resume continues the saved run from its last checkpoint,
 * also after a reload, with its curves continuing.
 */
import { VISION_TARGETS, type LoraConfig, type LoraTrainable } from '../../../models/lora/types';
import { VlmError } from '../../errors';
import type { FinetuneDataset, FinetuneEvent, FinetuneRunInfo, FinetuneSettings, FinetuneState } from '../../finetune-api';
import type { AdapterSession } from './adapter-session';
import { CHECKPOINT_VERSION, type CheckpointStore } from './checkpoint-store';
import { epochOrder } from './data-order';
import type { FinetuneModel } from './finetune-model';
import { prepareData, type ImageDecoder, type PreparedData } from './prepare';
import { TrainingLoop, type LoopEnd, type LoopProgress } from './run-loop';
import { totalStepsFor } from './schedule';
import { checkSettings } from './settings';

export interface FinetuneJobDeps {
  /** The loaded model as training sees it; throws a VlmError when none is loaded or its engine cannot train. */
  model(): FinetuneModel;
  store: CheckpointStore;
  adapters: AdapterSession;
  decode: ImageDecoder;
  now?: () => number;
}

interface Active {
  pause: boolean;
  cancel: AbortController;
}

type Emit = (event: FinetuneEvent) => void;

let runCounter = 0;

/** The adapter's config for the run: the vision tower's last `visionLastLayers` layers and `newWords`' rows need `model` to say which. */
export function loraConfigFor(settings: FinetuneSettings, baseModel: string, model?: FinetuneModel): LoraConfig {
  const config: LoraConfig = { rank: settings.rank, alpha: settings.alpha, dropout: settings.dropout, targetModules: [...settings.targetModules], trainProjector: settings.trainProjector, baseModel };
  const last = settings.visionLastLayers ?? 0;
  if (last > 0) {
    const count = model?.visionLayers ?? 0;
    if (count === 0) throw new VlmError('bad-input', `${baseModel}'s vision tower cannot take LoRA here: set "vision tower: last N layers" to 0.`);
    if (last > count) throw new VlmError('bad-input', `The vision tower has ${count} layers the features pass through, fewer than the ${last} asked for.`);
    config.visionLayers = Array.from({ length: last }, (_, i) => count - last + i);
    config.visionTargets = [...VISION_TARGETS];
  }
  const words = (settings.newWords ?? []).map((w) => w.trim()).filter((w) => w !== '');
  if (words.length > 0) {
    if (!model?.wordTokens) throw new VlmError('bad-input', `${baseModel} cannot train new words' rows: leave "new words to learn" empty.`);
    config.tokenIds = [...new Set(model.wordTokens(words))].sort((a, b) => a - b);
    config.tokenWords = words;
    config.tokenLr = settings.tokenLearningRate ?? settings.learningRate;
  }
  return config;
}

export class FinetuneJob {
  private active: Active | null = null;

  constructor(private readonly deps: FinetuneJobDeps) {}

  private now(): number {
    return (this.deps.now ?? (() => performance.now()))();
  }

  /** Trains a new adapter on `dataset`; the saved run before it is discarded. `signal` (the job's) pauses it. */
  async start(dataset: FinetuneDataset, settings: FinetuneSettings, onEvent: Emit = () => undefined, signal?: AbortSignal): Promise<FinetuneRunInfo> {
    checkSettings(settings);
    const model = this.deps.model();
    return this.claim((active) => this.startClaimed(active, model, dataset, settings, onEvent, signal));
  }

  private async startClaimed(active: Active, model: FinetuneModel, dataset: FinetuneDataset, settings: FinetuneSettings, onEvent: Emit, signal?: AbortSignal): Promise<FinetuneRunInfo> {
    const data = await this.prepare(dataset, model, settings, onEvent, active.cancel.signal);
    const run: FinetuneRunInfo = {
      id: `run-${Date.now().toString(36)}-${++runCounter}`,
      baseModel: model.id,
      datasetName: dataset.name,
      settings: { ...settings, targetModules: [...settings.targetModules], ...(settings.newWords ? { newWords: [...settings.newWords] } : {}) },
      state: 'running',
      step: 0,
      totalSteps: totalStepsFor(settings, data.train.length),
      trainExamples: data.train.length,
      validationExamples: data.validation.length,
      checkpointStep: 0,
      curve: [],
      validation: [],
      ...(data.skipped.length > 0 ? { skipped: data.skipped } : {}),
    };
    await this.deps.store.begin(run, dataset);
    const progress: LoopProgress = { step: 0, order: epochOrder(settings.seed, 0, data.train.length), curve: [], validation: [] };
    return this.drive(active, model, data, run, progress, null, onEvent, signal);
  }

  /** Continues the saved run from its last checkpoint (from step 0 when it had none). */
  async resume(onEvent: Emit = () => undefined, signal?: AbortSignal): Promise<FinetuneRunInfo> {
    const saved = await this.deps.store.load();
    if (!saved) throw new VlmError('bad-input', 'There is no saved fine-tuning run to resume.');
    const model = this.deps.model();
    if (model.id !== saved.run.baseModel) {
      throw new VlmError('bad-input', `The saved run trains ${saved.run.baseModel}, but ${model.id} is loaded; load ${saved.run.baseModel} to resume it.`);
    }
    const { checkpoint } = saved;
    const run: FinetuneRunInfo = { ...(checkpoint?.run ?? saved.run), state: 'running' };
    delete run.message;
    return this.claim(async (active) => {
      const data = await this.prepare(saved.dataset, model, run.settings, onEvent, active.cancel.signal);
      const progress: LoopProgress = checkpoint
        ? { step: checkpoint.run.step, order: checkpoint.order, curve: [...checkpoint.run.curve], validation: [...checkpoint.run.validation] }
        : { step: 0, order: epochOrder(run.settings.seed, 0, data.train.length), curve: [], validation: [] };
      const restore = checkpoint ? (t: LoraTrainable) => (t.importAdapter(checkpoint.adapter), t.importOptimizer(checkpoint.optimizer)) : null;
      return this.drive(active, model, data, run, progress, restore, onEvent, signal);
    });
  }

  /** One run at a time; Pause and Cancel reach it from here on, also while its examples are prepared. */
  private async claim<T>(fn: (active: Active) => Promise<T>): Promise<T> {
    if (this.active) throw new VlmError('busy', 'A fine-tuning run is training: pause or cancel it first.');
    const active: Active = { pause: false, cancel: new AbortController() };
    this.active = active;
    try {
      return await fn(active);
    } finally {
      this.active = null;
    }
  }

  /** Pause: the step under way finishes and a checkpoint is saved. */
  pause(): boolean {
    if (!this.active) return false;
    this.active.pause = true;
    return true;
  }

  /** Cancel: stops now; the adapter of the last finished step is kept. */
  cancel(): boolean {
    if (!this.active) return false;
    this.active.cancel.abort();
    return true;
  }

  running(): boolean {
    return this.active !== null;
  }

  saved(): Promise<FinetuneRunInfo | null> {
    return this.deps.store.savedRun();
  }

  async discard(): Promise<void> {
    if (this.active) throw new VlmError('busy', 'A fine-tuning run is training: pause or cancel it before discarding the saved run.');
    await this.deps.store.discard();
  }

  private async prepare(dataset: FinetuneDataset, model: FinetuneModel, settings: FinetuneSettings, emit: Emit, cancel: AbortSignal): Promise<PreparedData> {
    const data = await prepareData(dataset, model, settings, this.deps.decode, (done, total) => emit({ kind: 'preparing', done, total }), cancel);
    if (!data) throw new VlmError('cancelled', 'Cancelled while the examples were being prepared; nothing was trained.');
    return data;
  }

  private async drive(active: Active, model: FinetuneModel, data: PreparedData, run: FinetuneRunInfo, progress: LoopProgress, restore: ((t: LoraTrainable) => void) | null, emit: Emit, signal?: AbortSignal): Promise<FinetuneRunInfo> {
    // The run trains its own adapter on the base weights: one applied in Chat comes off first.
    this.deps.adapters.detach();
    const trainable = await model.createTrainable(loraConfigFor(run.settings, model.id, model), run.settings.seed);
    restore?.(trainable);
    return this.train(trainable, data, run, progress, active, emit, signal);
  }

  private async train(trainable: LoraTrainable, data: PreparedData, run: FinetuneRunInfo, progress: LoopProgress, active: Active, emit: Emit, signal?: AbortSignal): Promise<FinetuneRunInfo> {
    const snapshot = (state: FinetuneState): FinetuneRunInfo => ({ ...run, state, step: progress.step, curve: [...progress.curve], validation: [...progress.validation] });
    emit({ kind: 'started', run: snapshot('running') });
    const loop = new TrainingLoop(trainable, data, run.settings, run.totalSteps, {
      pauseRequested: () => active.pause || signal?.aborted === true,
      cancel: active.cancel.signal,
      now: () => this.now(),
      onEvent: emit,
      checkpoint: async (p) => {
        const info = { ...snapshot('running'), checkpointStep: p.step };
        const [adapter, optimizer] = [await trainable.exportAdapter(), await trainable.exportOptimizer()];
        await this.deps.store.save({ version: CHECKPOINT_VERSION, run: info, adapter, optimizer, order: p.order });
        run.checkpointStep = p.step;
        emit({ kind: 'checkpoint', step: p.step });
      },
    });
    let end: LoopEnd | { state: 'failed'; message: string };
    let failure: unknown = null;
    try {
      end = await loop.run(progress);
    } catch (err) {
      failure = err;
      end = { state: 'failed', message: err instanceof Error ? err.message : String(err) };
    }
    try {
      if (progress.step > 0) this.deps.adapters.set(await trainable.exportAdapter(), 'trained', `${run.datasetName}, step ${progress.step}`);
    } catch (err) {
      // A device lost mid-run fails the read-back too: the first failure is the one to report.
      if (!failure) {
        failure = err;
        end = { state: 'failed', message: err instanceof Error ? err.message : String(err) };
      }
    } finally {
      trainable.release();
    }
    const info = snapshot(end.state);
    if ('message' in end) info.message = end.message;
    await this.settle(info);
    emit({ kind: 'stopped', run: info });
    if (failure) throw failure;
    return info;
  }

  /** A paused run stays saved; a failed one keeps its last checkpoint to resume from; the others are done with. */
  private async settle(info: FinetuneRunInfo): Promise<void> {
    if (info.state === 'paused') await this.deps.store.updateRun(info).catch(() => undefined);
    else if (info.state !== 'failed') await this.deps.store.discard();
  }
}
