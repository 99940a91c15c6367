/**
 * The messages of the page's watch over the engine worker: the worker's half
 * is worker-lifeline.ts, the page's half supervisor.ts (with the reasons).
 * They go beside Comlink's on the same port and carry no `id`, so Comlink's
 * listeners skip them. No side effects here: the page imports this too.
 */

/** How often the worker says it is alive, for pages without Web Locks (the page allows far longer; see supervisor.ts). */
export const BEAT_MS = 5_000;

export type LifelineMessage =
  /** The API is exposed; `lock` is the Web Lock the worker holds until it dies, or null where it has none. */
  | { vlmLifeline: 'ready'; lock: string | null }
  | { vlmLifeline: 'beat' };

export function isLifelineMessage(data: unknown): data is LifelineMessage {
  return typeof data === 'object' && data !== null && 'vlmLifeline' in data;
}
