/// <reference lib="webworker" />
// First, before any other module runs: the lock the page watches to learn that this worker died.
import { announceReady } from './worker-lifeline';
import { env } from '@huggingface/transformers';
import * as Comlink from 'comlink';
import { installTransformersCache, transformersCache } from './cache/transformers-hook';
import { WeightCache } from './cache/weight-cache';
import { Engine } from './engine';
import './errors';

/**
 * The page may ask for smaller chunks through the worker's name
 * ("vlm-engine chunk=<bytes>", see client.ts): the bundled model's files are
 * under the 8 MiB default, so end-to-end tests of resume and chunk repair need
 * several chunks per file.
 */
function chunkOption(name: string): { chunkSize?: number } {
  const n = Number(/\bchunk=(\d+)/.exec(name)?.[1]);
  return Number.isInteger(n) && n >= 64 * 1024 ? { chunkSize: n } : {};
}

// One weight store for our loaders and for anything transformers.js fetches, so no file is downloaded twice.
const weights = new WeightCache(chunkOption(self.name));
installTransformersCache(env, transformersCache(weights));

Comlink.expose(new Engine(() => (self.navigator as WorkerNavigator & { gpu?: GPU }).gpu, weights));
// Only now: a start that threw above never says ready, so the page reads its 'error' event as a failed start.
announceReady();
