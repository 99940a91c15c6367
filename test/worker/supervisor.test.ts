import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { VlmError } from '../../src/worker/errors';
import type { LifelineMessage } from '../../src/worker/lifeline';
import { EngineSupervisor, type CrashReport, type LockRequester, type WorkerLike } from '../../src/worker/supervisor';

/**
 * The supervisor against fake workers: each is a MessageChannel with a small
 * API exposed at the far end, and a lock manager that frees a worker's lock
 * when it is terminated or closes itself, as the browser does.
 */
class FakeLocks implements LockRequester {
  private readonly held = new Set<string>();
  private readonly waiting = new Map<string, () => void>();
  take(name: string): void {
    this.held.add(name);
  }
  free(name: string): void {
    this.held.delete(name);
    this.waiting.get(name)?.();
    this.waiting.delete(name);
  }
  request(name: string, options: { signal: AbortSignal }, callback: () => unknown): Promise<unknown> {
    if (!this.held.has(name)) return Promise.resolve(callback());
    return new Promise((resolve, reject) => {
      this.waiting.set(name, () => resolve(callback()));
      options.signal.addEventListener('abort', () => {
        this.waiting.delete(name);
        reject(new Error('AbortError'));
      });
    });
  }
}

/** What the fake engine answers; `hang` never settles, like a long job. */
const fakeApi = {
  info: () => Promise.resolve({ name: 'fake adapter' }),
  hang: () => new Promise<never>(() => {}),
};
type FakeApi = typeof fakeApi;

type Start = 'ready' | 'throws' | 'silent-ready';

class FakeWorker extends EventTarget implements WorkerLike {
  static count = 0;
  readonly index = FakeWorker.count++;
  terminated = false;
  private readonly channel = new MessageChannel();
  private readonly lock = `lock-${this.index}`;

  constructor(
    private readonly locks: FakeLocks | null,
    start: Start,
  ) {
    super();
    this.channel.port1.addEventListener('message', (e) => this.dispatchEvent(new MessageEvent('message', { data: e.data })));
    this.channel.port1.start();
    if (start === 'throws') {
      // As a browser does for a script that throws at start: an ErrorEvent-like event, and nothing exposed.
      setTimeout(() => this.dispatchEvent(Object.assign(new Event('error'), { message: 'Uncaught Error: broken build' })), 5);
      return;
    }
    Comlink.expose(fakeApi, this.channel.port2);
    this.locks?.take(this.lock);
    const ready: LifelineMessage = { vlmLifeline: 'ready', lock: this.locks && start === 'ready' ? this.lock : null };
    setTimeout(() => this.channel.port2.postMessage(ready), 5);
  }

  postMessage(message: unknown, transfer?: Transferable[]): void {
    if (!this.terminated) this.channel.port1.postMessage(message, transfer ?? []);
  }

  /** The worker closing itself: no event, only its lock freed. */
  close(): void {
    this.channel.port2.close();
    this.locks?.free(this.lock);
  }

  terminate(): void {
    this.terminated = true;
    this.channel.port1.close();
    this.close();
  }
}

let supervisors: EngineSupervisor[] = [];
afterEach(() => {
  for (const s of supervisors) s.worker?.terminate();
  supervisors = [];
});

function supervise(starts: Start[], options: { locks?: FakeLocks | null; now?: () => number; silentMs?: number } = {}) {
  const locks = options.locks === undefined ? new FakeLocks() : options.locks;
  const workers: FakeWorker[] = [];
  const crashes: CrashReport[] = [];
  const supervisor = new EngineSupervisor({
    create: () => {
      const w = new FakeWorker(locks, starts[Math.min(workers.length, starts.length - 1)] ?? 'ready');
      workers.push(w);
      return w;
    },
    locks,
    ...(options.now ? { now: options.now } : {}),
    ...(options.silentMs ? { silentMs: options.silentMs } : {}),
  });
  supervisor.onCrash((r) => crashes.push(r));
  supervisors.push(supervisor);
  // The fake's methods are not VlmApi's; the supervisor forwards any name alike.
  const api = supervisor.api as unknown as Comlink.Remote<FakeApi>;
  return { supervisor, api, workers, crashes };
}

const crashed = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);
const ready = (s: EngineSupervisor) => new Promise<void>((resolve) => s.onReady(resolve));

describe('the engine supervisor', () => {
  it('forwards calls to the worker, and awaiting the api itself does not call it', async () => {
    const { api, supervisor } = supervise(['ready']);
    expect(await api.info()).toEqual({ name: 'fake adapter' });
    expect(await Promise.resolve(supervisor.api)).toBe(supervisor.api);
  });

  it('a worker closed mid-call: the call rejects with worker-crashed, a fresh worker answers the next call', async () => {
    const { api, supervisor, workers, crashes } = supervise(['ready']);
    await ready(supervisor);
    const running = crashed(api.hang());
    workers[0]?.close();
    const err = await running;
    expect(err).toBeInstanceOf(VlmError);
    expect((err as VlmError).code).toBe('worker-crashed');
    expect((err as VlmError).message).toMatch(/stopped before this request finished/);
    expect(workers[0]?.terminated).toBe(true);
    expect(crashes).toEqual([expect.objectContaining({ kind: 'stopped', interrupted: 1, restarted: true })]);
    expect(workers).toHaveLength(2);
    expect(supervisor.worker).toBe(workers[1]);
    expect(await api.info()).toEqual({ name: 'fake adapter' });
  });

  it('a worker terminated from outside is noticed the same way', async () => {
    const { api, supervisor, workers, crashes } = supervise(['ready']);
    await ready(supervisor);
    const running = crashed(api.hang());
    supervisor.worker?.terminate();
    expect(((await running) as VlmError).code).toBe('worker-crashed');
    expect(crashes).toHaveLength(1);
    expect(await api.info()).toEqual({ name: 'fake adapter' });
    expect(workers).toHaveLength(2);
  });

  it('a worker that fails at start rejects its calls with the reason, and a broken script is not restarted forever', async () => {
    const { api, supervisor, workers, crashes } = supervise(['throws']);
    const first = await crashed(api.info());
    expect((first as VlmError).code).toBe('worker-crashed');
    expect((first as VlmError).message).toBe('The engine worker failed to start: Uncaught Error: broken build.');
    await expect.poll(() => crashes.length).toBe(3);
    expect(crashes.map((c) => c.restarted)).toEqual([true, true, false]);
    expect(crashes[2]?.message).toMatch(/failed 3 times within 60 s, so it is not started again/);
    expect(workers).toHaveLength(3);
    expect(supervisor.worker).toBeNull();
    const later = await crashed(api.info());
    expect((later as VlmError).code).toBe('worker-crashed');
    expect((later as VlmError).message).toMatch(/reload the page/);
    expect(workers).toHaveLength(3);
  });

  it('failures spread over more than the window keep restarting', async () => {
    let clock = 0;
    const { supervisor, workers, crashes } = supervise(['ready'], { now: () => clock });
    for (let i = 0; i < 4; i++) {
      await ready(supervisor);
      clock += 40_000;
      workers[i]?.close();
      await expect.poll(() => crashes.length).toBe(i + 1);
    }
    expect(crashes.every((c) => c.restarted)).toBe(true);
    expect(workers).toHaveLength(5);
  });

  it('an unreadable reply replaces the worker and rejects what was waiting', async () => {
    const { api, supervisor, workers, crashes } = supervise(['ready']);
    await ready(supervisor);
    const running = crashed(api.hang());
    workers[0]?.dispatchEvent(new Event('messageerror'));
    expect(((await running) as VlmError).code).toBe('worker-crashed');
    expect(crashes[0]?.kind).toBe('unreadable-reply');
    expect(await api.info()).toEqual({ name: 'fake adapter' });
  });

  it('an error event after ready is not a death: the worker keeps answering', async () => {
    const { api, supervisor, workers, crashes } = supervise(['ready']);
    await ready(supervisor);
    workers[0]?.dispatchEvent(Object.assign(new Event('error'), { message: 'Uncaught TypeError: late' }));
    expect(await api.info()).toEqual({ name: 'fake adapter' });
    expect(crashes).toEqual([]);
    expect(workers).toHaveLength(1);
  });

  it('without Web Locks a worker whose beats stop is declared dead after the silent time', async () => {
    let clock = 0;
    const { api, supervisor, crashes } = supervise(['silent-ready'], { locks: null, now: () => clock, silentMs: 1_000 });
    await ready(supervisor);
    const running = crashed(api.hang());
    clock = 2_000;
    expect(((await running) as VlmError).code).toBe('worker-crashed');
    expect(crashes[0]?.message).toMatch(/no sign of life for 1 s/);
  });
});
