/**
 * The fine-tune part of the worker API behind the engine's thin delegation:
 * runs go through the job queue as 'finetune' jobs (they hold the model and
 * the GPU; a load that replaces the model pauses them), the adapter calls
 * that change the model as short 'answer' jobs (refused while anything else
 * uses it), progress goes out fire-and-forget (a Comlink proxy returns a
 * promise per call and training must not wait on the page).
 */
import type { KvStore } from '../../cache/kv';
import { VlmError } from '../../errors';
import type { AdapterState, FinetuneDataset, FinetuneEvent, FinetuneRunInfo, FinetuneSettings, PeftFiles } from '../../finetune-api';
import type { JobQueue } from '../job-queue';
import { AdapterSession } from './adapter-session';
import { CheckpointStore } from './checkpoint-store';
import { decodeDatasetImage } from './decode-image';
import { FinetuneJob } from './finetune-job';
import type { FinetuneModel } from './finetune-model';
import type { ImageDecoder } from './prepare';

export interface FinetuneServiceDeps {
  jobs: JobQueue;
  /** The loaded model as training sees it (throws a VlmError when it cannot train). */
  model(): FinetuneModel;
  /** The current load's identity: the adapter session drops its adapter when it changes. */
  loaded(): unknown;
  checkpoints: KvStore;
  decode?: ImageDecoder;
}

export class FinetuneService {
  readonly adapters: AdapterSession;
  readonly job: FinetuneJob;

  constructor(private readonly deps: FinetuneServiceDeps) {
    this.adapters = new AdapterSession(deps.loaded, deps.model);
    this.job = new FinetuneJob({ model: deps.model, store: new CheckpointStore(deps.checkpoints), adapters: this.adapters, decode: deps.decode ?? decodeDatasetImage });
  }

  start(dataset: FinetuneDataset, settings: FinetuneSettings, onEvent?: (event: FinetuneEvent) => void): Promise<FinetuneRunInfo> {
    return this.deps.jobs.submit('finetune', {}, (signal) => this.job.start(dataset, settings, quiet(onEvent), signal));
  }

  resume(onEvent?: (event: FinetuneEvent) => void): Promise<FinetuneRunInfo> {
    return this.deps.jobs.submit('finetune', {}, (signal) => this.job.resume(quiet(onEvent), signal));
  }

  async pause(): Promise<boolean> {
    return this.job.pause();
  }

  async cancel(): Promise<boolean> {
    return this.job.cancel();
  }

  saved(): Promise<FinetuneRunInfo | null> {
    return this.job.saved();
  }

  discard(): Promise<void> {
    return this.job.discard();
  }

  async state(): Promise<AdapterState | null> {
    return this.adapters.state();
  }

  apply(applied: boolean): Promise<AdapterState> {
    return this.deps.jobs.submit('answer', {}, async () => this.adapters.apply(applied));
  }

  merge(): Promise<AdapterState> {
    return this.deps.jobs.submit('answer', {}, () => this.adapters.merge());
  }

  async export(): Promise<PeftFiles> {
    return this.adapters.export();
  }

  import(files: PeftFiles): Promise<AdapterState> {
    return this.deps.jobs.submit('answer', {}, async () => {
      if (this.job.running()) throw new VlmError('busy', 'A fine-tuning run is training: pause or cancel it before importing an adapter.');
      return this.adapters.import(files);
    });
  }
}

/** Progress to the page without waiting for it. */
function quiet(onEvent?: (event: FinetuneEvent) => void): (event: FinetuneEvent) => void {
  return (event) => void onEvent?.(event);
}
