/**
 * Conversations on the transformers engine through the worker API: a new
 * conversation (the Chat view's first turn after Clear, sent `fresh`) answers
 * as a freshly loaded model does, with nothing taken from the last
 * conversation's KV cache; and a second image in a Florence-2 conversation is
 * refused as 'bad-input' saying it takes one image per task.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web';
import { env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../../src/data/png';
import type { ChatMessage, ChatReply, ChatRequest } from '../../src/worker/api';
import { memoryKv } from '../../src/worker/cache/kv';
import { installTransformersCache, transformersCache, type TransformersCacheEnv } from '../../src/worker/cache/transformers-hook';
import { WeightCache } from '../../src/worker/cache/weight-cache';
import { wrapEndpoint, type VlmClient } from '../../src/worker/client';
import { Engine } from '../../src/worker/engine';
import { VlmError } from '../../src/worker/errors';
import { HUB_DIR } from '../helpers/family-golden';
import { startHubServer, type HubServer } from '../helpers/hub-server';

ort.env.wasm.numThreads = 1;

const QWEN = { dir: 'Qwen-tiny-qwen2-vl-grounding', repo: 'Qwen/Qwen2-VL-2B-Instruct' };
const FLORENCE = { dir: 'microsoft-tiny-florence2', repo: 'onnx-community/Florence-2-base' };

const tjsEnv = env as unknown as TransformersCacheEnv;
const saved = { useCustomCache: tjsEnv.useCustomCache, customCache: tjsEnv.customCache, useBrowserCache: tjsEnv.useBrowserCache };
const channel = new MessageChannel();
let qwen: HubServer;
let florence: HubServer;
let client: VlmClient;

/** A fixture's PNG as the RGBA pixels a page sends. */
function image(dir: string, file = 'golden.png') {
  const png = decodePng(new Uint8Array(readFileSync(join(HUB_DIR, dir, file))));
  const data = new Uint8Array(png.width * png.height * 4);
  for (let i = 0, j = 0; i < data.length; i += 4, j += png.channels) {
    data.set(png.data.subarray(j, j + 3), i);
    data[i + 3] = 255;
  }
  return { width: png.width, height: png.height, data };
}

const ask = (text: string): ChatMessage => ({ role: 'user', content: [{ type: 'image' }, { type: 'text', text }] });
const chat = (request: ChatRequest): Promise<ChatReply> => client.chat({ ...request, options: { maxNewTokens: 8 } });

beforeAll(async () => {
  qwen = await startHubServer(join(HUB_DIR, QWEN.dir), QWEN.repo);
  florence = await startHubServer(join(HUB_DIR, FLORENCE.dir), FLORENCE.repo);
  const weights = new WeightCache({ kv: memoryKv(), storage: { estimate: async () => ({ usage: 0, quota: 1e9 }) }, retryDelayMs: 0, progressIntervalMs: 0 });
  installTransformersCache(tjsEnv, transformersCache(weights));
  Comlink.expose(new Engine(() => undefined, weights), channel.port1);
  client = wrapEndpoint(channel.port2);
}, 60_000);

afterAll(async () => {
  Object.assign(tjsEnv, saved);
  channel.port1.close();
  channel.port2.close();
  await qwen?.close();
  await florence?.close();
});

describe('conversations on the transformers engine', () => {
  it('a fresh first turn (after Clear) answers as a freshly loaded model, taking nothing from the last conversation', async () => {
    const load = () => client.loadModel(QWEN.repo, { engine: 'transformers', dtype: 'fp32', hubUrl: qwen.url });
    await load();
    const pixels = image(QWEN.dir);
    const second: ChatRequest = { messages: [ask('Describe this image.')], images: [pixels] };
    await chat({ messages: [ask('Find the red square and give its bounding box.')], images: [pixels], fresh: true });
    // Without `fresh` the cache of the last conversation is continued where the prompts agree (system turn, image).
    const continued = await chat(second);
    expect(continued.reusedPositions).toBeGreaterThan(0);

    await chat({ messages: [ask('Find the red square and give its bounding box.')], images: [pixels], fresh: true });
    const cleared = await chat({ ...second, fresh: true });
    await client.unloadModel();
    await load();
    const reloaded = await chat({ ...second, fresh: true });
    expect(cleared).toMatchObject({ reusedPositions: 0, promptRecomputed: false, text: reloaded.text, newTokens: reloaded.newTokens, promptTokens: reloaded.promptTokens });
    expect(cleared.recomputeReason).toBeUndefined();
    await client.unloadModel();
  }, 120_000);

  it('Florence-2: a second image in the conversation is refused as bad input, saying it takes one image per task', async () => {
    await client.loadModel(FLORENCE.repo, { engine: 'transformers', dtype: 'fp32', hubUrl: florence.url });
    const first = await chat({ messages: [ask('<CAPTION>')], images: [image(FLORENCE.dir)], fresh: true });
    const messages: ChatMessage[] = [ask('<CAPTION>'), { role: 'assistant', content: first.text }, ask('<OD>')];
    const err = await chat({ messages, images: [image(FLORENCE.dir), image(QWEN.dir)] }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VlmError);
    expect((err as VlmError).code).toBe('bad-input');
    expect((err as VlmError).message).toMatch(/^Florence-2 takes one image per task, and this conversation holds 2: press Clear/);
    // The model still answers a task on one image.
    expect((await chat({ messages: [ask('<OD>')], images: [image(FLORENCE.dir)], fresh: true })).finishReason).toMatch(/stop|length/);
    await client.unloadModel();
  }, 120_000);
});
