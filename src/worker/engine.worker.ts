/// <reference lib="webworker" />
import { env } from '@huggingface/transformers';
import * as Comlink from 'comlink';
import { installTransformersCache, transformersCache } from './cache/transformers-hook';
import { WeightCache } from './cache/weight-cache';
import { Engine } from './engine';
import './errors';

// One weight store for our loaders and for anything transformers.js fetches, so no file is downloaded twice.
const weights = new WeightCache();
installTransformersCache(env, transformersCache(weights));

Comlink.expose(new Engine(() => (self.navigator as WorkerNavigator & { gpu?: GPU }).gpu, weights));
