/**
 * Every job of the worker goes through this one queue, so jobs that share the
 * model or the GPU never run at once. A job needs resources ('model': the
 * loaded model and its KV cache; 'gpu': the device's time) and, when one is
 * taken, is either refused at once or waits its turn. The decision is made
 * when the job is submitted, before anything awaits, so two calls that arrive
 * together can never both pass the check.
 *
 * What each kind of job does when another holds what it needs, and why:
 * - answer (chat, ground, askDocument, evalQuestions): refused as 'busy',
 *   naming what runs. A person waits for an answer as it streams; one queued
 *   silently behind a long job would look frozen, and one run beside another
 *   would share its KV cache.
 * - evaluation: refused as 'busy' the same way; it runs for minutes.
 * - finetune (finetuneStart, finetuneResume): refused as 'busy' the same
 *   way; it trains for minutes or hours. A load that replaces the model
 *   pauses it (the step under way finishes and a checkpoint is saved).
 * - ocr (ocrDocument, ocrImage): waits its turn. A file dropped while a slice
 *   of pages is read is read after it, in drop order. OCR uses its own models,
 *   so it does not wait for a load.
 * - load (loadModel, unloadModel, goldenCheck): waits for the load before it,
 *   so loads run one after another, and stops the answer, evaluation or
 *   training run that uses the model it replaces (they end as stopped or
 *   paused, not failed).
 * Each job has an id: stop(id) and cancel(id) reach that job only, so one
 * view's Stop never ends another view's work. A waiting job that is cancelled
 * is dropped before it starts.
 */
import { VlmError } from '../errors';

export type JobKind = 'answer' | 'evaluation' | 'finetune' | 'ocr' | 'load';
export type Resource = 'model' | 'gpu';

interface Policy {
  needs: readonly Resource[];
  whenBusy: 'refuse' | 'wait';
  /** Stops running jobs of these kinds that hold a resource it needs. */
  stops: readonly JobKind[];
  /** What the job is, as the busy message names it. */
  doing: string;
  /** What the person can do about it. */
  advice: string;
}

const POLICIES: Record<JobKind, Policy> = {
  answer: { needs: ['model', 'gpu'], whenBusy: 'refuse', stops: [], doing: 'An answer is being generated', advice: 'wait for it or press Stop where it was asked, then try again.' },
  evaluation: { needs: ['model', 'gpu'], whenBusy: 'refuse', stops: [], doing: 'An evaluation is running', advice: 'stop it in Evaluate or wait for it to finish, then try again.' },
  finetune: { needs: ['model', 'gpu'], whenBusy: 'refuse', stops: [], doing: 'A fine-tuning run is training', advice: 'pause or cancel it in Fine-tune, then try again.' },
  ocr: { needs: ['gpu'], whenBusy: 'wait', stops: [], doing: 'A document is being read', advice: 'wait for its pages or press Cancel in Documents, then try again.' },
  load: { needs: ['model'], whenBusy: 'wait', stops: ['answer', 'evaluation', 'finetune'], doing: 'A model is loading', advice: 'wait for it to finish, then try again.' },
};

export interface JobOptions {
  /** Who may stop it; a fresh id when none is given. */
  id?: string;
  /** Overrides the kind's resources (goldenCheck loads and then runs the model, so it needs both). */
  needs?: readonly Resource[];
}

interface Job {
  id: string;
  kind: JobKind;
  needs: readonly Resource[];
  controller: AbortController;
  start: () => void;
  cancel: (err: unknown) => void;
}

let counter = 0;

export class JobQueue {
  private readonly running = new Set<Job>();
  private readonly waiting: Job[] = [];

  /**
   * Runs `fn` when the job's turn comes, with a signal that stop(id) or a
   * replacing load aborts; rejects with 'busy' (a refused kind) at once.
   */
  submit<T>(kind: JobKind, options: JobOptions, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const policy = POLICIES[kind];
    const needs = options.needs ?? policy.needs;
    const blocker = this.blocker(needs);
    if (blocker && policy.whenBusy === 'refuse') {
      const p = POLICIES[blocker.kind];
      return Promise.reject(new VlmError('busy', `${p.doing}: ${p.advice}`));
    }
    const controller = new AbortController();
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        id: options.id ?? `${kind}-${++counter}`,
        kind,
        needs,
        controller,
        start: () => {
          this.running.add(job);
          let result: Promise<T>;
          try {
            result = fn(controller.signal);
          } catch (err) {
            result = Promise.reject(err);
          }
          // The turn is free before the caller hears the result, so it can start its next job at once.
          const done = () => {
            this.running.delete(job);
            this.pump();
          };
          result.then(
            (value) => {
              done();
              resolve(value);
            },
            (err: unknown) => {
              done();
              reject(err);
            },
          );
        },
        cancel: reject,
      };
      for (const r of this.running) if (policy.stops.includes(r.kind) && overlaps(r.needs, needs)) r.controller.abort();
      if (blocker) this.waiting.push(job);
      else job.start();
    });
  }

  /** Stops the job with this id, running or waiting; false when there is none. */
  cancel(id: string): boolean {
    const i = this.waiting.findIndex((j) => j.id === id);
    const queued = this.waiting[i];
    if (queued) {
      this.waiting.splice(i, 1);
      queued.cancel(new VlmError('cancelled', 'Cancelled before it started.'));
      this.pump();
      return true;
    }
    const job = [...this.running].find((j) => j.id === id);
    job?.controller.abort();
    return job !== undefined;
  }

  /** Stops the running job of a kind: the one with this id, or with no id whichever runs. */
  stop(kind: JobKind, id?: string): boolean {
    const job = [...this.running].find((j) => j.kind === kind && (id === undefined || j.id === id));
    job?.controller.abort();
    return job !== undefined;
  }

  /** Is a job of this kind running or waiting? */
  has(kind: JobKind): boolean {
    return [...this.running, ...this.waiting].some((j) => j.kind === kind);
  }

  /** The job, running or waiting, that holds or waits for one of `needs`. */
  private blocker(needs: readonly Resource[]): Job | undefined {
    return [...this.running, ...this.waiting].find((j) => overlaps(j.needs, needs));
  }

  /** Starts waiting jobs, in order, whose resources are free and wanted by no job before them. */
  private pump(): void {
    const claimed = new Set<Resource>();
    for (const r of this.running) for (const n of r.needs) claimed.add(n);
    for (const job of [...this.waiting]) {
      const free = job.needs.every((n) => !claimed.has(n));
      for (const n of job.needs) claimed.add(n);
      if (!free) continue;
      this.waiting.splice(this.waiting.indexOf(job), 1);
      job.start();
    }
  }
}

function overlaps(a: readonly Resource[], b: readonly Resource[]): boolean {
  return a.some((r) => b.includes(r));
}
