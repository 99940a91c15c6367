/** The page's handle on the worker: the typed VlmApi over Comlink. */
import * as Comlink from 'comlink';
import type { VlmApi } from './api';
import './errors';

export type VlmClient = Comlink.Remote<VlmApi>;

export function startEngine(): { api: VlmClient; worker: Worker } {
  const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'vlm-engine' });
  return { api: Comlink.wrap<VlmApi>(worker), worker };
}

/** Wrap any MessagePort-like endpoint; tests use this over a MessageChannel. */
export function wrapEndpoint(endpoint: Comlink.Endpoint): VlmClient {
  return Comlink.wrap<VlmApi>(endpoint);
}
