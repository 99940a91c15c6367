/**
 * The learning rate of each optimizer step, as Hugging Face's Trainer sets it:
 * transformers' get_cosine_schedule_with_warmup (linear warm-up from 0, then
 * half a cosine down to 0) or get_constant_schedule_with_warmup, driven by
 * torch's LambdaLR. The scheduler steps after the optimizer, so optimizer step
 * k (1-based) uses the factor of scheduler step k - 1: the first step of a
 * warm-up runs at 0, as it does in PyTorch.
 */
import type { FinetuneSettings } from '../../finetune-api';

export type ScheduleSettings = Pick<FinetuneSettings, 'learningRate' | 'warmupSteps' | 'schedule'>;

/** LambdaLR's factor at scheduler step `current` (0-based). */
export function scheduleFactor(current: number, warmupSteps: number, totalSteps: number, schedule: FinetuneSettings['schedule']): number {
  if (current < warmupSteps) return current / Math.max(1, warmupSteps);
  if (schedule === 'constant') return 1;
  const progress = (current - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** The learning rate of optimizer step `step` (1-based) of a run of `totalSteps`. */
export function learningRateAt(step: number, totalSteps: number, s: ScheduleSettings): number {
  return s.learningRate * scheduleFactor(step - 1, s.warmupSteps, totalSteps, s.schedule);
}

/** Optimizer steps of a run: `steps` when set, else enough for `epochs` passes over the training examples. */
export function totalStepsFor(s: Pick<FinetuneSettings, 'steps' | 'epochs' | 'batchSize' | 'gradAccumulation'>, trainExamples: number): number {
  if (s.steps > 0) return s.steps;
  return Math.max(1, Math.ceil((s.epochs * trainExamples) / (s.batchSize * s.gradAccumulation)));
}
