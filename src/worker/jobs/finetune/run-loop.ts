/**
 * The training loop of a LoRA run, independent of the model and of storage:
 * per optimizer step, batchSize x gradAccumulation sequences are accumulated
 * with scale 1 / (supervised tokens of the step), so the gradient is that of
 * the mean token loss of the whole step (HF's causal-LM loss over one batch);
 * the global gradient norm is clipped as torch.nn.utils.clip_grad_norm_ does;
 * the learning rate follows schedule.ts. A NaN or infinite loss or gradient
 * norm ends the run before the optimizer step, so the adapter stays the last
 * good one.
 */
import { deriveSeed } from '../../../data/random';
import type { LoraTrainable, TrainExample } from '../../../models/lora/types';
import type { CurvePoint, FinetuneEvent, FinetuneSettings } from '../../finetune-api';
import { takeNext, type DataOrder } from './data-order';
import { learningRateAt } from './schedule';

/** AdamW as PyTorch and HF's Trainer default it; the weight decay comes from the settings. */
export const ADAMW_DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;
/** torch.nn.utils.clip_grad_norm_ adds this to the norm before dividing. */
const CLIP_EPS = 1e-6;
const IGNORE_INDEX = -100;

export interface TrainingData {
  train: readonly TrainExample[];
  validation: readonly TrainExample[];
}

/** Where a run is: what a checkpoint keeps besides the adapter and optimizer. */
export interface LoopProgress {
  /** Optimizer steps done. */
  step: number;
  order: DataOrder;
  curve: CurvePoint[];
  validation: CurvePoint[];
}

export type LoopEnd = { state: 'finished' | 'paused' | 'cancelled' } | { state: 'diverged'; message: string };

export interface LoopControl {
  /** Pause: the step under way finishes, a checkpoint is saved, the loop ends. */
  pauseRequested(): boolean;
  /** Cancel: ends the loop at once; the step under way is dropped. */
  readonly cancel: AbortSignal;
  /** Saves a checkpoint of `progress`; the trainable then holds the matching adapter and optimizer. */
  checkpoint(progress: LoopProgress): Promise<void>;
  onEvent(event: FinetuneEvent): void;
  now(): number;
}

/** Positions the loss is taken at: labels other than -100 after the shift (label i is predicted at i - 1). */
export function supervisedTokens(example: TrainExample): number {
  let n = 0;
  for (let i = 1; i < example.labels.length; i++) if (example.labels[i] !== IGNORE_INDEX) n++;
  return n;
}

/** The global L2 norm over every parameter's gradient norm. */
export function totalNorm(norms: Record<string, number>): number {
  let sq = 0;
  for (const n of Object.values(norms)) sq += n * n;
  return Math.sqrt(sq);
}

/** clip_grad_norm_'s factor: gradients shrink to maxGradNorm when their norm is above it (0 or less: no clipping). */
export function clipScale(norm: number, maxGradNorm: number): number {
  if (!(maxGradNorm > 0)) return 1;
  return Math.min(1, maxGradNorm / (norm + CLIP_EPS));
}

/** Mean loss per supervised token over `examples` (forward only); NaN when none is supervised. */
export async function validationLoss(trainable: LoraTrainable, examples: readonly TrainExample[]): Promise<number> {
  let sum = 0;
  let tokens = 0;
  for (const ex of examples) {
    const r = await trainable.evaluate(ex);
    sum += r.lossSum;
    tokens += r.tokens;
  }
  return tokens > 0 ? sum / tokens : Number.NaN;
}

interface StepResult {
  loss: number;
  gradNorm: number;
  lr: number;
  tokens: number;
}

export class TrainingLoop {
  /** Milliseconds of each step run by this loop (the ETA's average). */
  private readonly stepMs: number[] = [];

  constructor(
    private readonly trainable: LoraTrainable,
    private readonly data: TrainingData,
    private readonly settings: FinetuneSettings,
    readonly totalSteps: number,
    private readonly control: LoopControl,
  ) {}

  /** Runs from `progress` (changed in place) until the run ends. */
  async run(progress: LoopProgress): Promise<LoopEnd> {
    let savedAt = -1;
    const pause = async (): Promise<LoopEnd> => {
      if (savedAt !== progress.step) await this.control.checkpoint(progress);
      return { state: 'paused' };
    };
    while (progress.step < this.totalSteps) {
      if (this.control.cancel.aborted) return { state: 'cancelled' };
      if (this.control.pauseRequested()) return pause();
      const t0 = this.control.now();
      const step = progress.step + 1;
      const n = this.settings.batchSize * this.settings.gradAccumulation;
      const { picked, next } = takeNext(progress.order, n, this.settings.seed, this.data.train.length);
      const r = await this.step(step, picked.map((i) => this.data.train[i] as TrainExample));
      if (r === 'cancelled') return { state: 'cancelled' };
      if (!Number.isFinite(r.loss) || !Number.isFinite(r.gradNorm)) {
        this.trainable.zeroGrads();
        return { state: 'diverged', message: divergedMessage(step, r) };
      }
      progress.step = step;
      progress.order = next;
      progress.curve.push({ step, loss: r.loss });
      const ms = this.control.now() - t0;
      this.stepMs.push(ms);
      this.control.onEvent({ kind: 'step', step, totalSteps: this.totalSteps, loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, tokensPerSecond: ms > 0 ? (r.tokens * 1000) / ms : 0, stepMs: ms, etaMs: this.eta(step) });
      if (this.data.validation.length > 0 && (step % this.settings.validateEvery === 0 || step === this.totalSteps)) {
        const loss = await validationLoss(this.trainable, this.data.validation);
        progress.validation.push({ step, loss });
        this.control.onEvent({ kind: 'validation', step, loss });
      }
      if (step < this.totalSteps && this.settings.checkpointEvery > 0 && step % this.settings.checkpointEvery === 0) {
        await this.control.checkpoint(progress);
        savedAt = step;
      }
    }
    return { state: 'finished' };
  }

  /** One optimizer step over `examples`; the optimizer is not touched when the loss or the norm is not finite. */
  private async step(step: number, examples: TrainExample[]): Promise<StepResult | 'cancelled'> {
    const supervised = examples.reduce((a, ex) => a + supervisedTokens(ex), 0);
    const scale = 1 / Math.max(1, supervised);
    let lossSum = 0;
    let tokens = 0;
    const signal = this.control.cancel;
    for (const [i, ex] of examples.entries()) {
      try {
        const r = await this.trainable.accumulate(ex, scale, { dropoutSeed: deriveSeed('finetune-dropout', this.settings.seed, step, i), signal });
        lossSum += r.lossSum;
      } catch (err) {
        if (!signal.aborted) throw err;
      }
      tokens += ex.ids.length;
      if (signal.aborted) {
        this.trainable.zeroGrads();
        return 'cancelled';
      }
    }
    const loss = lossSum / Math.max(1, supervised);
    const lr = learningRateAt(step, this.totalSteps, this.settings);
    if (!Number.isFinite(loss)) return { loss, gradNorm: Number.NaN, lr, tokens };
    const gradNorm = totalNorm(await this.trainable.gradNorms());
    if (!Number.isFinite(gradNorm)) return { loss, gradNorm, lr, tokens };
    // Token rows have their own peak rate, on the same schedule.
    const tokenLr = this.trainable.config.tokenLr === undefined ? lr : (this.trainable.config.tokenLr * lr) / this.settings.learningRate;
    this.trainable.optimizerStep({ ...ADAMW_DEFAULTS, lr, weightDecay: this.settings.weightDecay, step, gradScale: clipScale(gradNorm, this.settings.maxGradNorm), tokenLr });
    return { loss, gradNorm, lr, tokens };
  }

  private eta(step: number): number {
    const mean = this.stepMs.reduce((a, b) => a + b, 0) / this.stepMs.length;
    return mean * (this.totalSteps - step);
  }
}

function divergedMessage(step: number, r: StepResult): string {
  const what = !Number.isFinite(r.loss) ? `the loss became ${r.loss}` : `the gradient norm became ${r.gradNorm}`;
  const kept = step > 1 ? `the adapter from step ${step - 1} is kept` : 'the adapter is still the initial one';
  return `${what} at step ${step} (learning rate ${r.lr.toExponential(2)}); training stopped before the update and ${kept}. Try a lower learning rate.`;
}
