/// <reference lib="webworker" />
/**
 * The worker's half of the page's watch over it (supervisor.ts has the
 * page's half and the reasons). Imported first by engine.worker.ts, so that
 * taking the Web Lock is the worker's first act: the lock is held for the
 * worker's whole life and the browser frees it only when the worker is gone
 * (terminated, closed or crashed), which is how the page learns of a death
 * that fires no event.
 */
import { BEAT_MS, type LifelineMessage } from './lifeline';

function uniqueName(): string {
  const id = typeof crypto.randomUUID === 'function' ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return `vlm-engine-lifeline-${id}`;
}

/** Takes a lock of its own and never lets it go; resolves with its name once held, null without Web Locks. */
function holdLifeline(): Promise<string | null> {
  const locks = (self.navigator as WorkerNavigator | undefined)?.locks;
  if (!locks) return Promise.resolve(null);
  const name = uniqueName();
  return new Promise((resolve) => {
    locks
      .request(name, () => {
        resolve(name);
        return new Promise<never>(() => {});
      })
      .catch(() => resolve(null));
  });
}

const held = holdLifeline();

/**
 * Tells the page the worker is ready, once its API is exposed and the lock is
 * held; from then on it beats. A worker whose start throws before this call
 * never says ready, and the page reads its 'error' event as a failed start.
 */
export function announceReady(): void {
  const scope = self as unknown as DedicatedWorkerGlobalScope;
  void held.then((lock) => {
    const ready: LifelineMessage = { vlmLifeline: 'ready', lock };
    scope.postMessage(ready);
    const beat: LifelineMessage = { vlmLifeline: 'beat' };
    setInterval(() => scope.postMessage(beat), BEAT_MS);
  });
}
