/**
 * Keeps the page's engine worker alive, or says why it is not.
 *
 * Comlink's calls never settle when the worker at the other end dies, so a
 * dead worker used to hang the app for good. How a death is noticed:
 * - A Web Lock. The worker takes a lock of its own as its first act
 *   (worker-lifeline.ts) and holds it for life; once it says ready, the page
 *   asks for the same lock, and the browser grants that only when the worker
 *   is gone: terminated, closed by itself or crashed. No timer is involved,
 *   so a long job is never mistaken for a death. Those deaths fire no event
 *   on the Worker object, which is why the lock is needed at all.
 * - The Worker's 'error' before the worker said ready: its script did not
 *   load or threw while starting (its API is not exposed, so every call
 *   would hang). An 'error' after ready is an uncaught exception in a worker
 *   that keeps running and keeps answering; the lock tells if it died.
 * - 'messageerror': a reply that could not be read is lost, and the call
 *   waiting for it would hang; the worker is replaced.
 * - Without Web Locks (an old browser), beats: the worker posts one every
 *   few seconds and a worker silent for a full minute counts as dead. The
 *   minute is generous because a long synchronous step (parsing a large
 *   model) delays beats.
 * A worker that is alive but stuck in a loop is not detected.
 *
 * On a death every pending call rejects with VlmError('worker-crashed'), the
 * dead worker is terminated, a fresh one is started and listeners hear what
 * happened. Nothing the page holds is touched (history, the weight cache in
 * IndexedDB); the model must be loaded again. A worker that keeps dying
 * (a broken script) is not restarted in a loop: after `maxFailures` deaths
 * within `failureWindowMs` the supervisor gives up and every call rejects.
 */
import * as Comlink from 'comlink';
import type { VlmApi } from './api';
import { VlmError } from './errors';
import { BEAT_MS, isLifelineMessage } from './lifeline';

/** What the supervisor needs of a Worker; tests pass a fake over a MessageChannel. */
export interface WorkerLike extends Comlink.Endpoint {
  terminate(): void;
}

/** The part of navigator.locks used here. */
export interface LockRequester {
  request(name: string, options: { signal: AbortSignal }, callback: () => unknown): Promise<unknown>;
}

export type CrashKind = 'stopped' | 'failed-to-start' | 'unreadable-reply';

export interface CrashReport {
  kind: CrashKind;
  /** What happened, in a sentence or two a person can read. */
  message: string;
  /** Calls that were running and were rejected with 'worker-crashed'. */
  interrupted: number;
  /** A fresh worker was started; false when the supervisor gave up (reload the page). */
  restarted: boolean;
}

export interface SupervisorOptions {
  create: () => WorkerLike;
  /** Default: navigator.locks where the page has it; null watches by beats only. */
  locks?: LockRequester | null;
  /** Without a lock: a worker silent this long is dead (default 60 s). */
  silentMs?: number;
  maxFailures?: number;
  failureWindowMs?: number;
  now?: () => number;
}

/** One worker's life: from its creation to its death. */
interface Life {
  worker: WorkerLike;
  remote: Comlink.Remote<VlmApi>;
  ready: boolean;
  over: boolean;
  /** Reject functions of the calls sent to this worker and not yet settled. */
  pending: Set<(err: VlmError) => void>;
  /** Cancels the page's lock request and the beat watch when the page ends the life itself. */
  abort: AbortController;
  lastBeat: number;
}

type Method = (...args: unknown[]) => Promise<unknown>;

const STOPPED = 'The engine worker stopped before this request finished (it was closed or crashed).';

export class EngineSupervisor {
  /** The typed API; calls go to the worker alive at the time of the call. */
  readonly api: Comlink.Remote<VlmApi>;
  private life: Life | null = null;
  private gaveUp: string | null = null;
  private readonly failures: number[] = [];
  private readonly crashListeners = new Set<(report: CrashReport) => void>();
  private readonly readyListeners = new Set<() => void>();
  private readonly locks: LockRequester | null;
  private readonly options: Required<Omit<SupervisorOptions, 'locks'>>;

  constructor(options: SupervisorOptions) {
    this.locks = options.locks !== undefined ? options.locks : ((globalThis.navigator as Navigator | undefined)?.locks ?? null);
    this.options = { silentMs: 60_000, maxFailures: 3, failureWindowMs: 60_000, now: () => Date.now(), ...options };
    // Every property is a method of VlmApi; 'then' must be absent, or awaiting the api would call the worker.
    this.api = new Proxy({} as Comlink.Remote<VlmApi>, {
      get: (_target, prop) => (typeof prop === 'string' && prop !== 'then' ? (...args: unknown[]) => this.call(prop, args) : undefined),
    });
    this.life = this.spawn();
  }

  /** The worker alive now (null after giving up): for the console and tests, which may terminate it. */
  get worker(): WorkerLike | null {
    return this.life?.worker ?? null;
  }

  /** Hears every death; returns the unsubscribe function. */
  onCrash(listener: (report: CrashReport) => void): () => void {
    this.crashListeners.add(listener);
    return () => this.crashListeners.delete(listener);
  }

  /** Hears each worker say ready (the first and every restarted one). */
  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  private call(method: string, args: unknown[]): Promise<unknown> {
    const life = this.life;
    if (!life) return Promise.reject(new VlmError('worker-crashed', this.gaveUp ?? STOPPED));
    return new Promise((resolve, reject) => {
      life.pending.add(reject);
      // Comlink.Remote types each method separately; here they are all forwarded alike, arguments unchanged.
      const fn = (life.remote as unknown as Record<string, Method>)[method] as Method;
      fn(...args)
        .then(resolve, reject)
        .finally(() => life.pending.delete(reject));
    });
  }

  private spawn(): Life | null {
    let worker: WorkerLike;
    try {
      worker = this.options.create();
    } catch (err) {
      // A Worker that cannot even be constructed (a blocked script URL) fails the same way every time.
      this.gaveUp = `The engine worker could not be started: ${err instanceof Error ? err.message : String(err)}`;
      return null;
    }
    const life: Life = { worker, remote: Comlink.wrap<VlmApi>(worker), ready: false, over: false, pending: new Set(), abort: new AbortController(), lastBeat: this.options.now() };
    worker.addEventListener('message', (ev) => this.onMessage(life, (ev as MessageEvent).data));
    worker.addEventListener('error', (ev) => {
      if (life.ready) return;
      const detail = ((ev as Partial<ErrorEvent>).message || 'its script could not be loaded').replace(/[.!?]+$/, '');
      this.die(life, 'failed-to-start', `The engine worker failed to start: ${detail}.`);
    });
    worker.addEventListener('messageerror', () => this.die(life, 'unreadable-reply', 'A reply from the engine worker could not be read, so the worker was replaced.'));
    worker.start?.();
    return life;
  }

  private onMessage(life: Life, data: unknown): void {
    if (!isLifelineMessage(data) || life.over) return;
    life.lastBeat = this.options.now();
    if (data.vlmLifeline !== 'ready' || life.ready) return;
    life.ready = true;
    if (data.lock && this.locks) this.watchLock(life, data.lock);
    else this.watchBeats(life);
    for (const l of this.readyListeners) l();
  }

  private watchLock(life: Life, lock: string): void {
    this.locks
      ?.request(lock, { signal: life.abort.signal }, () => this.die(life, 'stopped', 'The engine worker stopped (it was closed or crashed).'))
      // Aborted: the page ended this life itself.
      .catch(() => {});
  }

  private watchBeats(life: Life): void {
    const timer = setInterval(() => {
      if (this.options.now() - life.lastBeat > this.options.silentMs) this.die(life, 'stopped', `The engine worker stopped answering: no sign of life for ${Math.round(this.options.silentMs / 1000)} s.`);
    }, Math.min(BEAT_MS, this.options.silentMs / 4));
    life.abort.signal.addEventListener('abort', () => clearInterval(timer));
  }

  private die(life: Life, kind: CrashKind, what: string): void {
    if (life.over) return;
    life.over = true;
    life.abort.abort();
    life.worker.terminate();
    const callError = new VlmError('worker-crashed', kind === 'stopped' ? STOPPED : what);
    const interrupted = life.pending.size;
    for (const reject of life.pending) reject(callError);
    life.pending.clear();
    const now = this.options.now();
    this.failures.push(now);
    while (this.failures.length > 0 && now - (this.failures[0] ?? now) > this.options.failureWindowMs) this.failures.shift();
    let message = what;
    if (this.failures.length >= this.options.maxFailures) {
      message = `${what} It failed ${this.failures.length} times within ${Math.round(this.options.failureWindowMs / 1000)} s, so it is not started again: reload the page to try again.`;
      this.gaveUp = message;
      this.life = null;
    } else {
      this.life = this.spawn();
    }
    const report: CrashReport = { kind, message, interrupted, restarted: this.life !== null };
    for (const l of this.crashListeners) l(report);
  }
}
