/**
 * Fine-tune checkpoints in IndexedDB (a database of their own, apart from the
 * weights and the evaluations): the data set once per run, then a checkpoint
 * every N steps and on Pause (adapter, AdamW state, step, data order, the run
 * with its curves), so a reload resumes where the run was.
 *
 * A new checkpoint is written in full under its own key and only then made
 * the latest; the old one is deleted after that. A write the browser refuses
 * (QuotaExceededError) leaves the previous checkpoint as the latest, intact.
 */
import type { LoraAdapterData, OptimizerState } from '../../../models/lora/types';
import type { KvStore } from '../../cache/kv';
import { VlmError } from '../../errors';
import type { FinetuneDataset, FinetuneRunInfo } from '../../finetune-api';
import type { DataOrder } from './data-order';

/** The stored format; bump when a checkpoint changes shape (older ones are then ignored). */
export const CHECKPOINT_VERSION = 1;
export const FINETUNE_DB = 'webvlm-finetune';
export const FINETUNE_STORE = 'checkpoints';

const LATEST_KEY = 'latest';
const datasetKey = (runId: string) => `dataset:${runId}`;
const checkpointKey = (runId: string, step: number) => `checkpoint:${runId}:${step}`;

export interface Checkpoint {
  version: number;
  run: FinetuneRunInfo;
  adapter: LoraAdapterData;
  optimizer: OptimizerState;
  order: DataOrder;
}

interface Latest {
  version: number;
  runId: string;
  /** Key of the newest complete checkpoint; null before the first one. */
  key: string | null;
  run: FinetuneRunInfo;
}

/** The browser refused to store more (IndexedDB's QuotaExceededError, however it is wrapped). */
export function isQuotaError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'QuotaExceededError' || (err instanceof Error && /quota/i.test(err.message));
}

function quotaError(what: string, kept: string): VlmError {
  return new VlmError('storage-quota', `The browser refused to store ${what} (QuotaExceededError: this site's storage is full); ${kept} Delete cached models or free disk space, then resume.`);
}

export class CheckpointStore {
  constructor(private readonly kv: KvStore) {}

  private async latest(): Promise<Latest | null> {
    const l = (await this.kv.get(LATEST_KEY)) as Latest | undefined;
    return l?.version === CHECKPOINT_VERSION ? l : null;
  }

  /** A new run: drops whatever run was saved, stores its data set and makes it the saved run (no checkpoint yet). */
  async begin(run: FinetuneRunInfo, dataset: FinetuneDataset): Promise<void> {
    await this.discard();
    try {
      await this.kv.set(datasetKey(run.id), { version: CHECKPOINT_VERSION, dataset });
      await this.kv.set(LATEST_KEY, { version: CHECKPOINT_VERSION, runId: run.id, key: null, run } satisfies Latest);
    } catch (err) {
      await this.kv.del(datasetKey(run.id)).catch(() => undefined);
      if (isQuotaError(err)) throw quotaError(`the training data of ${run.datasetName}`, 'the run was not started.');
      throw err;
    }
  }

  /** Writes `checkpoint` in full, then makes it the latest, then deletes the one before. */
  async save(checkpoint: Checkpoint): Promise<void> {
    const prev = await this.latest();
    // A second checkpoint at the same step (paused again right after a resume) still goes under a key of its own.
    const base = checkpointKey(checkpoint.run.id, checkpoint.run.step);
    const key = prev?.key === base ? `${base}:again` : base;
    try {
      await this.kv.set(key, checkpoint);
      await this.kv.set(LATEST_KEY, { version: CHECKPOINT_VERSION, runId: checkpoint.run.id, key, run: checkpoint.run } satisfies Latest);
    } catch (err) {
      if (prev?.key !== key) await this.kv.del(key).catch(() => undefined);
      if (!isQuotaError(err)) throw err;
      const kept = prev?.key ? `the checkpoint of step ${prev.run.checkpointStep} is kept.` : 'no earlier checkpoint was saved.';
      throw quotaError(`the checkpoint of step ${checkpoint.run.step}`, kept);
    }
    if (prev?.key && prev.key !== key) await this.kv.del(prev.key);
  }

  /** Updates the saved run's info (its state and message) without touching the checkpoint. */
  async updateRun(run: FinetuneRunInfo): Promise<void> {
    const l = await this.latest();
    if (l?.runId === run.id) await this.kv.set(LATEST_KEY, { ...l, run });
  }

  /** The saved run as its last write left it. */
  async savedRun(): Promise<FinetuneRunInfo | null> {
    return (await this.latest())?.run ?? null;
  }

  /** The latest checkpoint and the run's data set. */
  async load(): Promise<{ checkpoint: Checkpoint | null; dataset: FinetuneDataset; run: FinetuneRunInfo } | null> {
    const l = await this.latest();
    if (!l) return null;
    const stored = (await this.kv.get(datasetKey(l.runId))) as { version: number; dataset: FinetuneDataset } | undefined;
    if (stored?.version !== CHECKPOINT_VERSION) return null;
    const checkpoint = l.key ? ((await this.kv.get(l.key)) as Checkpoint | undefined) : undefined;
    return { checkpoint: checkpoint?.version === CHECKPOINT_VERSION ? checkpoint : null, dataset: stored.dataset, run: l.run };
  }

  /** Forgets the saved run: its checkpoints and its data set. */
  async discard(): Promise<void> {
    for (const key of await this.kv.keys()) if (key === LATEST_KEY || key.startsWith('dataset:') || key.startsWith('checkpoint:')) await this.kv.del(key);
  }
}
