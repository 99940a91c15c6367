import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageInput } from '../../src/models/engine';
import { LlavaNextChatModel, type LlavaNextAssets } from '../../src/models/llava-next';
import { NativeLlavaNextEngine } from '../../src/models/native/llava-next-engine';
import type { SafetensorsFile } from '../../src/models/safetensors';
import type { ChatMessage } from '../../src/models/vlm';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { readPixels } from '../helpers/family-golden';
import { testRuntime } from '../helpers/gpu';
import { LLAVA_NEXT_REPO, loadLlavaNextFixture, readLlavaNextGolden } from '../helpers/llava-next-fixture';

// The tiny LLaVA-NeXT fixture end to end as the worker runs it: the repo's files,
// the chat template, the AnyRes processor and the native engine with its KV cache.
const REPO = LLAVA_NEXT_REPO;
const golden = readLlavaNextGolden();

let rt: GpuRuntime;
let assets: LlavaNextAssets;
let file: SafetensorsFile;
let model: LlavaNextChatModel;

beforeAll(async () => {
  rt = await testRuntime();
  ({ assets, file } = await loadLlavaNextFixture());
  model = new LlavaNextChatModel(assets, new NativeLlavaNextEngine(rt, assets.config, file), 'f32');
});

afterAll(async () => {
  await model.dispose();
});

describe('LLaVA-NeXT chat on the native engine (tiny fixture)', () => {
  it.each([
    ['wide', golden],
    ['tall', golden.tall],
  ])('answers the %s image with PyTorch prompt ids and greedy ids', async (_name, want) => {
    const images = want.images.map((i) => readPixels(REPO, i.file));
    expect(Array.from(model.encode(want.messages, images).ids)).toEqual(want.input_ids);
    // A fresh conversation: nothing of the previous case may be reused.
    const result = await model.chat(want.messages, images, { maxNewTokens: want.max_new_tokens });
    expect(result.ids).toEqual(want.greedy_ids);
  });

  it('continues a conversation from the cached image and answers as a fresh engine does', async () => {
    const image = readPixels(REPO, golden.images[0]?.file as string);
    const first = await model.chat(golden.messages, [image], { maxNewTokens: 6 });
    const followUp: ChatMessage[] = [
      ...golden.messages,
      { role: 'assistant', content: [{ type: 'text', text: first.text }] },
      { role: 'user', content: [{ type: 'text', text: 'How many shapes are there?' }] },
    ];
    const again = await model.chat(followUp, [image], { maxNewTokens: 8 });
    // The whole first prompt (image tokens included) came from the cache.
    expect(again.reusedPositions).toBeGreaterThanOrEqual(golden.input_ids.length);
    const fresh = new LlavaNextChatModel(assets, new NativeLlavaNextEngine(rt, assets.config, file), 'f32');
    try {
      const ref = await fresh.chat(followUp, [image], { maxNewTokens: 8 });
      expect(ref.reusedPositions).toBe(0);
      expect(again.ids).toEqual(ref.ids);
    } finally {
      await fresh.dispose();
    }
  });

  it('answers about a 2 x 300 strip, whose grid keeps no tile row after unpadding, with only the global view\'s tokens', async () => {
    const strip = { width: 300, height: 2, channels: 3 as const, data: Uint8Array.from({ length: 2 * 300 * 3 }, (_, i) => (i * 11) % 256) };
    const { ids } = model.encode(golden.messages, [strip]);
    const imageTokens = Array.from(ids).filter((id) => id === assets.config.imageTokenIndex).length;
    expect(imageTokens).toBe(16);
    const result = await model.chat(golden.messages, [strip], { maxNewTokens: 2 });
    expect(result.promptTokens).toBe(ids.length);
    expect(result.ids.length).toBeGreaterThan(0);
  });

  it('refuses an image given as a plain single view', async () => {
    const engine = model.engine;
    const plain: ImageInput = { pixels: new Float32Array(3 * 32 * 32), key: 'plain' };
    await expect(engine.prefill(Int32Array.from(golden.input_ids), [plain])).rejects.toThrow(/AnyRes views/);
  });
});
