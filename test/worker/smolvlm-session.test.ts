/**
 * The worker's model session loads the tiny SmolVLM (Idefics3) fixture on the
 * native engine from its hub files, as it loads any repo, and answers the
 * golden chat with PyTorch's greedy answer; a repeated turn reuses the tiles'
 * cached positions. The engine the session picks comes from config.json.
 * Through the worker API, the zoo's SmolVLM-256M-Instruct loads natively from
 * a hub-like server on 127.0.0.1 serving the fixture under the real repo id.
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
import { SafetensorsFile, writeSafetensors } from '../../src/models/safetensors';
import type { ModelFiles } from '../../src/models/model-files';
import { HUB_DIR, readGolden, readPixels } from '../helpers/family-golden';
import { nodeGpuEntry, testRuntime } from '../helpers/gpu';
import { startHubServer } from '../helpers/hub-server';
import { bundledModelFiles } from '../models/fs-files';

const REPO = 'HuggingFaceTB-tiny-smolvlm';
const files = bundledModelFiles(join(HUB_DIR, REPO), REPO);
const session = new ModelSession(testRuntime);

interface Case {
  images: { file: string }[];
  messages: ChatRequest['messages'];
  greedy_ids: number[];
  max_new_tokens: number;
}
const golden = readGolden<Case>(REPO);

/** The fixture's RGB PNG as the page hands decoded pixels over (RGBA). */
function rgba(file: string): ChatRequest['images'][number] {
  const px = readPixels(REPO, file);
  const data = new Uint8ClampedArray(px.width * px.height * 4);
  for (let p = 0; p < px.width * px.height; p++) data.set([px.data[p * 3] ?? 0, px.data[p * 3 + 1] ?? 0, px.data[p * 3 + 2] ?? 0, 255], p * 4);
  return { width: px.width, height: px.height, data };
}

describe('SmolVLM through the model session (native engine)', () => {
  it("answers the golden chat with PyTorch's greedy words, and a repeated turn reuses the cached tiles", async () => {
    const loaded = await session.load(REPO, { engine: 'native' }, files);
    expect(loaded).toMatchObject({ engine: 'native', dtype: 'f32', device: 'native', imageSize: 64 });
    const tokenizer = new PreTrainedTokenizer(JSON.parse(await readText('tokenizer.json')), JSON.parse(await readText('tokenizer_config.json')));
    const want = tokenizer.decode(golden.greedy_ids, { skip_special_tokens: true });
    const ask: ChatRequest = { messages: golden.messages, images: golden.images.map((i) => rgba(i.file)), options: { maxNewTokens: golden.max_new_tokens } };
    const first = await session.chat(ask);
    expect(first.text).toBe(want);
    expect(first.promptTokens).toBe(74);
    expect(first.newTokens).toBe(golden.greedy_ids.length);
    const again = await session.chat(ask);
    expect(again.text).toBe(want);
    // Every position but the last is served from the cache: the 9 tiles' features are not computed again.
    expect(again.reusedPositions).toBe(73);
    await session.unload();
  }, 120_000);

  it('refuses the ONNX engine for an Idefics3 repo, saying which engines run it', async () => {
    await expect(session.load(REPO, { engine: 'onnx' }, files)).rejects.toMatchObject({ code: 'unsupported-model', message: expect.stringMatching(/idefics3.*native and transformers/) });
  });
});

/** The fixture with its model.safetensors rewritten (f32) by `edit`, which may drop or reshape tensors. */
async function damaged(edit: (tensors: Record<string, { shape: number[]; data: Float32Array }>) => void): Promise<ModelFiles> {
  const file = new SafetensorsFile(await files.bytes('model.safetensors'));
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, info] of file.tensors) tensors[name] = { shape: [...info.shape], data: file.float32(name) };
  edit(tensors);
  const bytes = writeSafetensors(tensors);
  return { id: REPO, bytes: (name) => (name === 'model.safetensors' ? Promise.resolve(bytes.slice().buffer) : files.bytes(name)) };
}

describe('a SmolVLM repo with a bad model.safetensors', () => {
  it('is refused naming the missing tensor and the file', async () => {
    const name = 'model.connector.modality_projection.proj.weight';
    const broken = await damaged((t) => {
      for (const key of Object.keys(t)) if (key === name) Reflect.deleteProperty(t, key);
    });
    await expect(session.load(REPO, { engine: 'native' }, broken)).rejects.toMatchObject({ code: 'model-file', message: `${REPO}/model.safetensors: has no tensor named ${name}` });
  });

  // [32, 64] holds as many values as [64, 32]: a transposed tensor is refused too, not read in the wrong order.
  it.each([
    ['fewer values', [32, 32]],
    ['the same number of values, transposed', [32, 64]],
  ])('is refused naming the tensor of the wrong shape (%s), its shape and the one the config implies', async (_what, shape) => {
    const name = 'model.vision_model.embeddings.position_embedding.weight';
    const broken = await damaged((t) => {
      t[name] = { shape, data: new Float32Array(shape.reduce((a, d) => a * d, 1)).fill(0.5) };
    });
    await expect(session.load(REPO, { engine: 'native' }, broken)).rejects.toMatchObject({
      code: 'model-file',
      message: `${REPO}/model.safetensors: tensor ${name} is [${shape.join(',')}] but the config implies [64,32]`,
    });
  });

  it('is refused naming a linear weight stored transposed (f32, read without quantizing)', async () => {
    const name = 'model.text_model.layers.1.mlp.down_proj.weight';
    const broken = await damaged((t) => {
      const w = t[name];
      if (w) t[name] = { shape: [w.shape[1] as number, w.shape[0] as number], data: w.data };
    });
    await expect(session.load(REPO, { engine: 'native' }, broken)).rejects.toMatchObject({
      code: 'model-file',
      message: `${REPO}/model.safetensors: tensor ${name} is [128,64] but the config implies [64,128]`,
    });
  });
});

describe('the zoo\'s SmolVLM-256M-Instruct on the native engine through the worker API and the weight cache', () => {
  const channel = new MessageChannel();
  afterAll(() => {
    channel.port1.close();
    channel.port2.close();
  });

  it('fetches the safetensors and processor files (no ONNX) and answers the golden chat', async () => {
    const hub = await startHubServer(join(HUB_DIR, REPO), 'HuggingFaceTB/SmolVLM-256M-Instruct');
    try {
      const weights = new WeightCache({ kv: memoryKv(), storage: { estimate: async () => ({ usage: 0, quota: 1e9 }) }, retryDelayMs: 0, progressIntervalMs: 0 });
      Comlink.expose(new Engine(() => nodeGpuEntry(), weights), channel.port1);
      const client = wrapEndpoint(channel.port2);
      const loaded = await client.loadModel(hub.repo, { engine: 'native', dtype: 'f32', hubUrl: hub.url });
      expect(loaded).toMatchObject({ id: hub.repo, engine: 'native', imageSize: 64 });
      const fetched = hub.log.filter((r) => r.method === 'GET').map((r) => r.file);
      expect(fetched).toEqual(expect.arrayContaining(['config.json', 'processor_config.json', 'preprocessor_config.json', 'chat_template.json', 'model.safetensors']));
      expect(fetched.some((f) => f.endsWith('.onnx'))).toBe(false);
      const tokenizer = new PreTrainedTokenizer(JSON.parse(await readText('tokenizer.json')), JSON.parse(await readText('tokenizer_config.json')));
      const reply = await client.chat({ messages: golden.messages, images: golden.images.map((i) => rgba(i.file)), options: { maxNewTokens: golden.max_new_tokens } });
      expect(reply.text).toBe(tokenizer.decode(golden.greedy_ids, { skip_special_tokens: true }));
      await client.unloadModel();
    } finally {
      await hub.close();
    }
  }, 120_000);
});

async function readText(name: string): Promise<string> {
  return new TextDecoder().decode(await files.bytes(name));
}
