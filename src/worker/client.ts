/** The page's handle on the worker: the typed VlmApi over Comlink. */
import * as Comlink from 'comlink';
import type { VlmApi } from './api';
import { EngineSupervisor } from './supervisor';

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
/** The raster check the page runs on an attached file before it keeps it (an SVG can run script). */
export { looksLikeSvg, RASTER_NAMES, rasterImageType } from '../documents/file-kind';
/** The fine-tune view's defaults and the formats it reads and writes in the page (LLaVA JSON records, PEFT target names). */
export { DEFAULT_FINETUNE_SETTINGS } from './finetune-api';
export type * from './finetune-api';
export { LORA_TARGETS, type LoraTarget } from '../models/lora/types';
export { serialiseLlava, type LlavaRecord } from '../data/llava';
export { datasetFileStem, readLlavaFiles, type LlavaFileProblem, type LlavaInputFile } from '../data/llava-files';

export type VlmClient = Comlink.Remote<VlmApi>;
export type { CrashKind, CrashReport, EngineSupervisor } from './supervisor';

/**
 * The weight cache's chunk size from the page URL (?weight-chunk-kib=1024), passed
 * in the worker's name since a worker has no other way to see it before its
 * first message. Only tests use it: the default suits real downloads.
 */
function workerName(search: string): string {
  const kib = Number(new URLSearchParams(search).get('weight-chunk-kib'));
  return Number.isInteger(kib) && kib > 0 ? `vlm-engine chunk=${kib * 1024}` : 'vlm-engine';
}

/**
 * Starts the engine worker under a supervisor: `api` forwards to the worker
 * alive at each call; when it dies, pending calls reject with
 * 'worker-crashed' and a fresh worker is started (see supervisor.ts).
 */
export function startEngine(): { api: VlmClient; supervisor: EngineSupervisor } {
  const name = workerName(globalThis.location?.search ?? '');
  const supervisor = new EngineSupervisor({ create: () => new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name }) });
  return { api: supervisor.api, supervisor };
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
