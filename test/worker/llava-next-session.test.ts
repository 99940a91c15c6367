/**
 * The worker's model session loads the tiny LLaVA-NeXT fixture on the native
 * engine from its hub files (picked by config.json's model_type llava_next),
 * answers the golden chat with PyTorch's greedy answer for the wide and the
 * tall image, and a repeated turn reuses the image's cached positions.
 * Through the worker API, a repo loaded by id from a hub-like server on
 * 127.0.0.1 goes through the weight cache like any hub model.
 */
import { join } from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import * as Comlink from 'comlink';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../src/worker/api';
import { memoryKv } from '../../src/worker/cache/kv';
import { WeightCache } from '../../src/worker/cache/weight-cache';
import { wrapEndpoint } from '../../src/worker/client';
import { Engine } from '../../src/worker/engine';
import { ModelSession } from '../../src/worker/jobs/model-session';
import { readText } from '../../src/models/model-files';
import { SafetensorsFile, writeSafetensors } from '../../src/models/safetensors';
import { HUB_DIR, readGolden, readPixels } from '../helpers/family-golden';
import { nodeGpuEntry, testRuntime } from '../helpers/gpu';
import { startHubServer } from '../helpers/hub-server';
import { bundledModelFiles } from '../models/fs-files';

const REPO = 'llava-hf-tiny-llava-next';
const files = bundledModelFiles(join(HUB_DIR, REPO), REPO);
const session = new ModelSession(testRuntime);

interface Case {
  images: { file: string }[];
  messages: ChatRequest['messages'];
  input_ids: number[];
  greedy_ids: number[];
  max_new_tokens: number;
}
const golden = readGolden<Case & { tall: Case }>(REPO);

/** The fixture's RGB PNG as the page hands decoded pixels over (RGBA). */
function rgba(file: string): ChatRequest['images'][number] {
  const px = readPixels(REPO, file);
  const data = new Uint8ClampedArray(px.width * px.height * 4);
  for (let p = 0; p < px.width * px.height; p++) data.set([px.data[p * 3] ?? 0, px.data[p * 3 + 1] ?? 0, px.data[p * 3 + 2] ?? 0, 255], p * 4);
  return { width: px.width, height: px.height, data };
}

describe('LLaVA-NeXT through the model session (native engine)', () => {
  it("answers the wide and the tall image with PyTorch's greedy words; a repeated turn reuses the cached image", async () => {
    const loaded = await session.load(REPO, { engine: 'native' }, files);
    expect(loaded).toMatchObject({ engine: 'native', dtype: 'f32', device: 'native', imageSize: 32 });
    const tokenizer = new PreTrainedTokenizer(JSON.parse(await readText(files, 'tokenizer.json')), JSON.parse(await readText(files, 'tokenizer_config.json')));
    for (const want of [golden, golden.tall]) {
      const ask: ChatRequest = { messages: want.messages, images: want.images.map((i) => rgba(i.file)), options: { maxNewTokens: want.max_new_tokens } };
      const first = await session.chat(ask);
      expect(first.text).toBe(tokenizer.decode(want.greedy_ids, { skip_special_tokens: true }));
      expect(first.promptTokens).toBe(want.input_ids.length);
      const again = await session.chat(ask);
      expect(again.text).toBe(first.text);
      // Every position but the last comes from the cache: the views are not encoded again.
      expect(again.reusedPositions).toBe(want.input_ids.length - 1);
    }
    await session.unload();
  }, 120_000);

  it('refuses the ONNX engine for a llava_next repo, saying which engine runs it', async () => {
    await expect(session.load(REPO, { engine: 'onnx' }, files)).rejects.toMatchObject({ code: 'unsupported-model', message: expect.stringMatching(/llava_next.*native engine/) });
  });

  it('refuses a checkpoint without image_newline, naming the tensor and the file', async () => {
    const file = new SafetensorsFile(await files.bytes('model.safetensors'));
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, info] of file.tensors) if (name !== 'image_newline') tensors[name] = { shape: [...info.shape], data: file.float32(name) };
    const bytes = writeSafetensors(tensors);
    const broken = { id: REPO, bytes: (name: string) => (name === 'model.safetensors' ? Promise.resolve(bytes.slice().buffer) : files.bytes(name)) };
    await expect(session.load(REPO, { engine: 'native' }, broken)).rejects.toMatchObject({ code: 'model-file', message: expect.stringMatching(/model\.safetensors.*image_newline/) });
  });
});

describe('a llava_next repo loaded by id through the worker API and the weight cache', () => {
  const channel = new MessageChannel();
  afterAll(() => {
    channel.port1.close();
    channel.port2.close();
  });

  it('fetches the safetensors and the configs (no ONNX), loads natively by model_type and answers the golden chat', async () => {
    const hub = await startHubServer(join(HUB_DIR, REPO), 'llava-hf/tiny-llava-next');
    try {
      const weights = new WeightCache({ kv: memoryKv(), storage: { estimate: async () => ({ usage: 0, quota: 1e9 }) }, retryDelayMs: 0, progressIntervalMs: 0 });
      Comlink.expose(new Engine(() => nodeGpuEntry(), weights), channel.port1);
      const client = wrapEndpoint(channel.port2);
      const loaded = await client.loadModel(hub.repo, { engine: 'native', dtype: 'f32', hubUrl: hub.url });
      expect(loaded).toMatchObject({ id: hub.repo, engine: 'native', imageSize: 32 });
      const fetched = hub.log.filter((r) => r.method === 'GET').map((r) => r.file);
      expect(fetched).toEqual(expect.arrayContaining(['config.json', 'preprocessor_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']));
      expect(fetched.some((f) => f.endsWith('.onnx'))).toBe(false);
      const tokenizer = new PreTrainedTokenizer(JSON.parse(await readText(files, 'tokenizer.json')), JSON.parse(await readText(files, 'tokenizer_config.json')));
      const want = golden.tall;
      const reply = await client.chat({ messages: want.messages, images: want.images.map((i) => rgba(i.file)), options: { maxNewTokens: want.max_new_tokens } });
      expect(reply.text).toBe(tokenizer.decode(want.greedy_ids, { skip_special_tokens: true }));
      await client.unloadModel();
    } finally {
      await hub.close();
    }
  }, 120_000);
});
