/**
 * The fine-tune part of the worker API (VlmApi extends it): data for LoRA
 * (LLaVA JSON with its images, generated, or written by a teacher), a
 * training run with live events, checkpoints that survive a reload, and the
 * adapter (apply, merge, PEFT files out and in).
 */
import type { LlavaRecord } from '../data/llava';
import type { HeldOutMode } from '../data/vocabulary';
import type { LoraConfig, LoraTarget, PeftFiles } from '../models/lora/types';

export type { PeftFiles };

/** One image file of a data set, by its path relative to the LLaVA JSON. */
export interface FinetuneImage {
  path: string;
  /** MIME type (image/png, image/jpeg, image/webp). */
  type: string;
  bytes: Uint8Array;
}

/** LLaVA JSON records and the image files they name. */
export interface FinetuneDataset {
  name: string;
  records: LlavaRecord[];
  images: FinetuneImage[];
}

export interface FinetuneSettings {
  rank: number;
  alpha: number;
  dropout: number;
  targetModules: LoraTarget[];
  trainProjector: boolean;
  learningRate: number;
  /** Linear warm-up steps, then cosine decay to 0 (or constant). */
  warmupSteps: number;
  schedule: 'cosine' | 'constant';
  /** Optimizer steps; when 0, `epochs` decides. */
  steps: number;
  epochs: number;
  /** Sequences per micro-batch and micro-batches per optimizer step. */
  batchSize: number;
  gradAccumulation: number;
  maxSeqLength: number;
  weightDecay: number;
  maxGradNorm: number;
  seed: number;
  /** Share of records held out for validation (0..0.5). */
  validationFraction: number;
  /** Validation loss every N steps. */
  validateEvery: number;
  /** Checkpoint to IndexedDB every N steps (and on Pause). */
  checkpointEvery: number;
  /** LoRA on the vision tower's last N encoder layers too (absent or 0: the tower stays frozen). */
  visionLastLayers?: number;
  /** Words whose embed_tokens and lm_head rows are trained (each one token with its leading space; absent or empty: none). */
  newWords?: string[];
  /** Peak learning rate of those rows (default: learningRate), on the same schedule. */
  tokenLearningRate?: number;
}

/** LLaVA's LoRA recipe, sized for the browser. */
export const DEFAULT_FINETUNE_SETTINGS: FinetuneSettings = {
  rank: 16,
  alpha: 32,
  dropout: 0.05,
  targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'],
  trainProjector: false,
  learningRate: 2e-4,
  warmupSteps: 10,
  schedule: 'cosine',
  steps: 0,
  epochs: 1,
  batchSize: 4,
  gradAccumulation: 1,
  maxSeqLength: 256,
  weightDecay: 0,
  maxGradNorm: 1,
  seed: 0,
  validationFraction: 0.05,
  validateEvery: 20,
  checkpointEvery: 20,
};

export type FinetuneState = 'running' | 'paused' | 'finished' | 'cancelled' | 'diverged' | 'failed';

export interface CurvePoint {
  step: number;
  loss: number;
}

/** A run as the page shows it and as its checkpoint keeps it. */
export interface FinetuneRunInfo {
  id: string;
  baseModel: string;
  datasetName: string;
  settings: FinetuneSettings;
  state: FinetuneState;
  step: number;
  totalSteps: number;
  trainExamples: number;
  validationExamples: number;
  /** Step of the last checkpoint saved (0 when none). */
  checkpointStep: number;
  curve: CurvePoint[];
  validation: CurvePoint[];
  /** Why it stopped when not finished (e.g. "the loss became NaN at step 12; the adapter from step 11 is kept"). */
  message?: string;
  /** Records left out of training, one sentence each naming the record and why (e.g. every answer token past the maximum length). */
  skipped?: string[];
}

export type FinetuneEvent =
  | { kind: 'preparing'; done: number; total: number }
  | { kind: 'started'; run: FinetuneRunInfo }
  | { kind: 'step'; step: number; totalSteps: number; loss: number; lr: number; gradNorm: number; tokensPerSecond: number; stepMs: number; etaMs: number }
  | { kind: 'validation'; step: number; loss: number }
  | { kind: 'checkpoint'; step: number }
  | { kind: 'stopped'; run: FinetuneRunInfo };

/** The synthetic generator's tasks, counts per task, and the held-out concept mode. */
export interface GenerateRequest {
  counts: Record<string, number>;
  heldOut: HeldOutMode;
  seed: number;
}

export type TeacherTask = 'detailed-description' | 'reasoning' | 'conversation' | 'story' | 'count' | 'colours' | 'where' | 'grounding';

export type TeacherSource =
  | { kind: 'loaded-model' }
  /** An OpenAI-compatible chat-completions endpoint; the key stays in memory. */
  | { kind: 'endpoint'; url: string; model: string; apiKey?: string; timeoutMs?: number };

export interface TeacherRequest {
  images: FinetuneImage[];
  tasks: TeacherTask[];
  source: TeacherSource;
  maxRetries?: number;
}

export type TeacherEvent =
  | { kind: 'record'; record: LlavaRecord; done: number; total: number }
  | { kind: 'retry'; image: string; attempt: number; reason: string; delayMs: number }
  | { kind: 'failed'; image: string; reason: string };

/** The adapter held by the worker for the loaded model. */
export interface AdapterState {
  name: string;
  source: 'trained' | 'imported';
  config: LoraConfig;
  /** Applied in Chat (LoRA added at run time). */
  applied: boolean;
  /** Merged into the loaded model's weights (cannot be removed until the model is reloaded). */
  merged: boolean;
  parameters: number;
}


/** The browser's loss and LoRA gradient norms on golden.json's lora batch beside PyTorch's. */
export interface LoraGradientCheck {
  loss: number;
  expectedLoss: number;
  /** Largest relative difference over the loss and every gradient norm. */
  maxRelative: number;
  norms: { name: string; got: number; expected: number }[];
}

export interface FinetuneApi {
  /** Generated LLaVA data (scenes, documents, charts) with its PNG images. */
  finetuneGenerate(request: GenerateRequest, onProgress?: (done: number, total: number) => void): Promise<FinetuneDataset>;
  /** Instruction data for unlabeled images, written by a teacher; failed images are named in events and skipped. */
  teacherWrite(request: TeacherRequest, onEvent?: (event: TeacherEvent) => void): Promise<LlavaRecord[]>;
  /** Train an adapter on the loaded native model; resolves when the run stops (finished, paused, cancelled, diverged). */
  finetuneStart(dataset: FinetuneDataset, settings: FinetuneSettings, onEvent?: (event: FinetuneEvent) => void): Promise<FinetuneRunInfo>;
  finetunePause(): Promise<boolean>;
  finetuneCancel(): Promise<boolean>;
  /** Continue the saved run from its last checkpoint (also after a reload); its base model must be loaded. */
  finetuneResume(onEvent?: (event: FinetuneEvent) => void): Promise<FinetuneRunInfo>;
  /** The saved (paused or interrupted) run, if any. */
  finetuneSaved(): Promise<FinetuneRunInfo | null>;
  finetuneDiscard(): Promise<void>;
  adapterState(): Promise<AdapterState | null>;
  adapterApply(applied: boolean): Promise<AdapterState>;
  adapterMerge(): Promise<AdapterState>;
  adapterExport(): Promise<PeftFiles>;
  /** Refuses an adapter for another base or with a wrong shape, naming the tensor. */
  adapterImport(files: PeftFiles): Promise<AdapterState>;
  /** golden.json's lora batch through the loaded bundled model (Chromium's side of the gradient check). */
  loraGradientCheck(): Promise<LoraGradientCheck>;
}
