/**
 * Conversations on the transformers engine through the worker API: a new
 * conversation (the Chat view's first turn after Clear, sent `fresh`) answers
 * as a freshly loaded model does, with nothing taken from the last
 * conversation's KV cache; and a second image in a Florence-2 conversation is
 * refused as 'bad-input' saying it takes one image per task.
 */
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatReply, ChatRequest } from '../../src/worker/api';
import { VlmError } from '../../src/worker/errors';
import { fixtureRgba, useHubClient } from '../helpers/hub-client';

ort.env.wasm.numThreads = 1;

const QWEN = { dir: 'Qwen-tiny-qwen2-vl-grounding', repo: 'Qwen/Qwen2-VL-2B-Instruct' };
const FLORENCE = { dir: 'microsoft-tiny-florence2', repo: 'onnx-community/Florence-2-base' };

const { client, hub } = useHubClient([QWEN, FLORENCE]);

const ask = (text: string): ChatMessage => ({ role: 'user', content: [{ type: 'image' }, { type: 'text', text }] });
const chat = (request: ChatRequest): Promise<ChatReply> => client.chat({ ...request, options: { maxNewTokens: 8 } });

describe('conversations on the transformers engine', () => {
  it('a fresh first turn (after Clear) answers as a freshly loaded model, taking nothing from the last conversation', async () => {
    const load = () => client.loadModel(QWEN.repo, { engine: 'transformers', dtype: 'fp32', hubUrl: hub(QWEN).url });
    await load();
    const pixels = fixtureRgba(QWEN.dir);
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
    await client.loadModel(FLORENCE.repo, { engine: 'transformers', dtype: 'fp32', hubUrl: hub(FLORENCE).url });
    const first = await chat({ messages: [ask('<CAPTION>')], images: [fixtureRgba(FLORENCE.dir)], fresh: true });
    const messages: ChatMessage[] = [ask('<CAPTION>'), { role: 'assistant', content: first.text }, ask('<OD>')];
    const err = await chat({ messages, images: [fixtureRgba(FLORENCE.dir), fixtureRgba(QWEN.dir)] }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VlmError);
    expect((err as VlmError).code).toBe('bad-input');
    expect((err as VlmError).message).toMatch(/^Florence-2 takes one image per task, and this conversation holds 2: press Clear/);
    // The model still answers a task on one image.
    expect((await chat({ messages: [ask('<OD>')], images: [fixtureRgba(FLORENCE.dir)], fresh: true })).finishReason).toMatch(/stop|length/);
    await client.unloadModel();
  }, 120_000);
});
