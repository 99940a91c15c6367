/** The page's handle on the worker: the typed VlmApi over Comlink. */
import * as Comlink from 'comlink';
import type { VlmApi } from './api';

/*
 * What the page needs besides the API itself. The error type installs the
 * handler that turns a worker's {code, message} back into a VlmError; the
 * rest are pure formatters and defaults, exported here so the page imports
 * the worker side from one module only.
 */
export { VlmError } from './errors';
/** Turns download progress (loadModel's onProgress) into a bar fraction and a line of text. */
export { describeProgress } from './cache/progress';
export { formatBytes } from './cache/quota';
/** Where hub models come from unless the person names another hub. */
export { DEFAULT_HUB } from '../models/zoo';

export type VlmClient = Comlink.Remote<VlmApi>;

/**
 * The weight cache's chunk size from the page URL (?weight-chunk-kib=1024), passed
 * in the worker's name since a worker has no other way to see it before its
 * first message. Only tests use it: the default suits real downloads.
 */
function workerName(search: string): string {
  const kib = Number(new URLSearchParams(search).get('weight-chunk-kib'));
  return Number.isInteger(kib) && kib > 0 ? `vlm-engine chunk=${kib * 1024}` : 'vlm-engine';
}

export function startEngine(): { api: VlmClient; worker: Worker } {
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: workerName(globalThis.location?.search ?? '') });
  return { api: Comlink.wrap<VlmApi>(worker), worker };
}

/** Wrap any MessagePort-like endpoint; tests use this over a MessageChannel. */
export function wrapEndpoint(endpoint: Comlink.Endpoint): VlmClient {
  return Comlink.wrap<VlmApi>(endpoint);
}

/**
 * Asks the browser to keep the weight cache under storage pressure. Only a
 * page can ask (workers have no persist()); call it when the user starts a
 * download. Resolves false where the browser says no or cannot say.
 */
export async function requestPersistentStorage(storage: StorageManager | undefined = globalThis.navigator?.storage): Promise<boolean> {
  if (!storage?.persist) return false;
  if (await storage.persisted().catch(() => false)) return true;
  return storage.persist().catch(() => false);
}
