import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as ort from 'onnxruntime-web';
import { env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePngRaster } from '../../src/data/png';
import { VlmChatModel } from '../../src/models/chat-model';
import type { ImagePixels } from '../../src/models/image-processing';
import { OnnxEngine } from '../../src/models/onnx/onnx-engine';
import { MissingDtypeFileError, UnsupportedModelError } from '../../src/models/transformers/families';
import { TransformersVlm } from '../../src/models/transformers/transformers-vlm';
import { loadModelAssets, Vlm, type ChatMessage } from '../../src/models/vlm';
import { HUB_DIR, loadFixtureVlm, readGolden, readPixels, type EngineCase } from '../helpers/family-golden';
import { bundledModelFiles } from './fs-files';
import { MODEL_DIR, MODEL_NAME, MODELS_DIR, maxAbsDiff, readJson, type Golden } from './golden';

// The transformers engine on the bundled model (LLaVA layout) and on the tiny SmolVLM
// (Idefics3) fixture, both read as transformers.js reads a hub repo, fp32 on the CPU.
ort.env.wasm.numThreads = 1;

const LOGIT_TOL = 1e-4;
const SMOL = 'HuggingFaceTB-tiny-smolvlm';
const SMOL_DIR = join(HUB_DIR, SMOL);

const golden = readJson<Golden>('golden.json');
const raster = decodePngRaster(new Uint8Array(readFileSync(join(MODEL_DIR, golden.image))));
const goldenImage: ImagePixels = { ...raster, channels: 3 };
const messages = golden.inputs.messages;

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** golden.png turned upside down: a second, different image. */
function flipped(img: ImagePixels): ImagePixels {
  const data = new Uint8Array(img.data.length);
  for (let i = 0; i < img.data.length; i += 3) data.set(img.data.subarray(img.data.length - i - 3, img.data.length - i), i);
  return { ...img, data };
}

describe('transformers engine on webvlm-tiny (LLaVA), fp32 on the CPU', () => {
  let tvlm: TransformersVlm;

  beforeAll(async () => {
    tvlm = await TransformersVlm.load(MODEL_NAME, { source: { kind: 'local', path: MODELS_DIR }, device: 'cpu', dtype: 'fp32' });
  }, 60_000);
  afterAll(() => tvlm?.dispose());

  it('gives the golden first-step logits and the 24 greedy ids, streaming the text it returns', async () => {
    expect(tvlm.info).toMatchObject({ engine: 'transformers', modelType: 'llava', contextLength: 512, dtype: 'fp32' });
    const logits = await tvlm.nextTokenLogits(messages, [goldenImage]);
    const diff = maxAbsDiff(logits.subarray(0, golden.logits.values.length), golden.logits.values);
    console.log(`transformers engine, webvlm-tiny fp32: first-step logits max |diff| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThanOrEqual(LOGIT_TOL);
    const top5 = Array.from(logits.keys()).sort((a, b) => (logits[b] ?? 0) - (logits[a] ?? 0)).slice(0, 5);
    expect(top5).toEqual(golden.logits.top5.map((t) => t.id));

    await tvlm.reset();
    let streamed = '';
    // The golden runs past the end id (stop_at_eos false): no stop ids here either.
    const r = await tvlm.chat(messages, [goldenImage], { maxNewTokens: golden.greedy.max_new_tokens, stopTokenIds: [] }, (p) => (streamed += p));
    expect(r.ids).toEqual(golden.greedy.ids);
    expect(r.finishReason).toBe('length');
    expect(r.promptTokens).toBe(golden.inputs.expanded_input_ids.length);
    expect(streamed).toBe(r.text);
    expect(r.text).toMatch(/^The image shows 1 object/);
  });

  it('stops with the end id by default; a Stop after 5 tokens, while the images are read, or before the start ends as cancelled', async () => {
    await tvlm.reset();
    const eos = golden.greedy.ids.indexOf(2);
    const full = await tvlm.chat(messages, [goldenImage], { maxNewTokens: 24 });
    expect(full.finishReason).toBe('stop');
    expect(full.ids).toEqual(golden.greedy.ids.slice(0, eos));

    await tvlm.reset();
    const stop = new AbortController();
    let pieces = 0;
    const r = await tvlm.chat(messages, [goldenImage], { maxNewTokens: 24 }, () => ++pieces === 5 && stop.abort(), stop.signal);
    expect(r.finishReason).toBe('cancelled');
    expect(r.ids).toEqual(golden.greedy.ids.slice(0, 5));
    // Stopped while the images are read: the decoder never runs, nothing is streamed or cached.
    await tvlm.reset();
    const inner = tvlm.model.encode_image.bind(tvlm.model);
    const whileReading = new AbortController();
    tvlm.model.encode_image = async (inputs: unknown) => {
      whileReading.abort();
      return inner(inputs);
    };
    try {
      const r2 = await tvlm.chat(messages, [goldenImage], { maxNewTokens: 24 }, () => expect.unreachable(), whileReading.signal);
      expect(r2).toMatchObject({ ids: [], text: '', finishReason: 'cancelled', reusedPositions: 0 });
    } finally {
      tvlm.model.encode_image = inner;
    }
    const after = await tvlm.chat(messages, [goldenImage], { maxNewTokens: 3 });
    expect(after).toMatchObject({ ids: golden.greedy.ids.slice(0, 3), reusedPositions: 0 });

    // Stopped before it starts: nothing runs, nothing is streamed.
    const before = await tvlm.chat(messages, [goldenImage], { maxNewTokens: 24 }, () => expect.unreachable(), stop.signal);
    expect(before).toMatchObject({ ids: [], text: '', finishReason: 'cancelled' });
  });

  it('expands every <image> of a two-image prompt and answers as our ONNX driver does', async () => {
    const two: ChatMessage[] = [{ role: 'user', content: [{ type: 'text', text: 'What is the difference between these two images?' }, { type: 'image' }, { type: 'image' }] }];
    const images = [goldenImage, flipped(goldenImage)];
    await tvlm.reset();
    const r = await tvlm.chat(two, images, { maxNewTokens: 12 });

    const files = bundledModelFiles();
    const assets = await loadModelAssets(files);
    const engine = await OnnxEngine.create(ort, files, assets.config, 'wasm');
    // Our pipeline through the same ChatModel interface: both take decoded pixels.
    const vlm = new Vlm(assets, engine);
    const ours = await new VlmChatModel(vlm, 'f32', 'wasm').chat(two, images, { maxNewTokens: 12 });
    await engine.dispose();
    const ids = vlm.encodePrompt(two);
    expect(ids.filter((id) => id === assets.config.imageTokenIndex)).toHaveLength(2 * assets.config.imageSeqLength);
    expect(r.promptTokens).toBe(ids.length);
    expect(r.ids.length).toBeGreaterThan(0);
    expect(r.ids).toEqual(ours.ids);
    await expect(tvlm.chat(two, images.slice(0, 1), { maxNewTokens: 2 })).rejects.toThrow(/2 image\(s\) but 1 were given/);
  }, 60_000);

  it('continues the cache on a second turn, answering as a fresh run does', async () => {
    await tvlm.reset();
    const first = await tvlm.chat(messages, [goldenImage], { maxNewTokens: 24 });
    expect(first.reusedPositions).toBe(0);
    const followUp: ChatMessage[] = [...messages, { role: 'assistant', content: first.text }, { role: 'user', content: 'What colour is the object?' }];
    const second = await tvlm.chat(followUp, [goldenImage], { maxNewTokens: 8 });
    expect(second.promptRecomputed).toBe(false);
    expect(second.reusedPositions).toBeGreaterThan(golden.inputs.expanded_input_ids.length);
    await tvlm.reset();
    const fresh = await tvlm.chat(followUp, [goldenImage], { maxNewTokens: 8 });
    expect(fresh.reusedPositions).toBe(0);
    expect(fresh.ids).toEqual(second.ids);
    expect(fresh.text).toBe(second.text);

    // A third turn with a new image: the cache keeps the first image, only the new one is encoded.
    const withImage: ChatMessage[] = [...followUp, { role: 'assistant', content: second.text }, { role: 'user', content: [{ type: 'text', text: 'And this one?' }, { type: 'image' }] }];
    const images = [goldenImage, flipped(goldenImage)];
    const third = await tvlm.chat(withImage, images, { maxNewTokens: 8 });
    expect(third.reusedPositions).toBeGreaterThan(golden.inputs.expanded_input_ids.length);
    expect(tvlm.stats().encodeMs).toBeGreaterThan(0);
    await tvlm.reset();
    const freshThird = await tvlm.chat(withImage, images, { maxNewTokens: 8 });
    expect(freshThird.ids).toEqual(third.ids);
  }, 30_000);

  it('samples repeatably with a seed, and top-k / top-p cut the candidates as ours do', async () => {
    const sampled = async (o: { topK?: number; topP?: number; seed?: number; temperature?: number }) => {
      await tvlm.reset();
      return (await tvlm.chat(messages, [goldenImage], { maxNewTokens: 8, temperature: 2, stopTokenIds: [], ...o })).ids;
    };
    const a = await sampled({ topK: 3, topP: 0.95, seed: 7 });
    expect(await sampled({ topK: 3, topP: 0.95, seed: 7 })).toEqual(a);
    expect(a).toHaveLength(8);
    // One candidate left, whatever the temperature: the greedy answer.
    const greedy = golden.greedy.ids.slice(0, 8);
    expect(await sampled({ topK: 1, seed: 1 })).toEqual(greedy);
    expect(await sampled({ topP: 1e-6, seed: 2 })).toEqual(greedy);
    // Hot and uncut, the tiny model wanders off its greedy path.
    expect(await sampled({ temperature: 50, seed: 3 })).not.toEqual(greedy);
  });
});

type SmolCase = EngineCase;

function smolImage(file: string): ImagePixels {
  return readPixels(SMOL, file);
}

describe('transformers engine on the tiny SmolVLM (Idefics3) fixture', () => {
  const smol = readGolden<SmolCase & { two_images: SmolCase }>(SMOL);
  const END_IDS = [2, 378];
  let tvlm: TransformersVlm;

  beforeAll(async () => {
    tvlm = await loadFixtureVlm(SMOL, listFiles(SMOL_DIR));
  }, 60_000);
  afterAll(() => tvlm?.dispose());

  it.each([
    ['one image (2 x 4 tiles)', () => smol],
    ['two images (2 x 4 and 4 x 2 tiles)', () => smol.two_images],
  ])('%s: the golden greedy ids, ending where PyTorch ends, and first-step logits', async (_name, get) => {
    const want = get();
    await tvlm.reset();
    let streamed = '';
    const r = await tvlm.chat(want.messages, want.images.map((i) => smolImage(i.file)), { maxNewTokens: want.max_new_tokens }, (p) => (streamed += p));
    expect(r.promptTokens).toBe(want.input_ids.length);
    const last = want.greedy_ids.at(-1) ?? -1;
    const endsOnStop = END_IDS.includes(last);
    expect(r.ids).toEqual(endsOnStop ? want.greedy_ids.slice(0, -1) : want.greedy_ids);
    expect(r.finishReason).toBe(endsOnStop ? 'stop' : 'length');
    expect(streamed).toBe(r.text);
    const logits = await tvlm.nextTokenLogits(want.messages, want.images.map((i) => smolImage(i.file)));
    expect(maxAbsDiff(logits, want.first_logits.values)).toBeLessThanOrEqual(LOGIT_TOL);
  });

  it('answers a text-only turn (its processor throws without an image)', async () => {
    await tvlm.reset();
    const r = await tvlm.chat([{ role: 'user', content: [{ type: 'text', text: 'Say something.' }] }], [], { maxNewTokens: 4 });
    expect(r.promptTokens).toBeGreaterThan(3);
    expect(r.ids.length + (r.finishReason === 'stop' ? 1 : 0)).toBeGreaterThan(0);
  });

  it('keeps the cached prompt of an image turn when the answer re-renders differently, answering as a fresh run does', async () => {
    await tvlm.reset();
    const image = smolImage(smol.images[0]?.file ?? 'golden.png');
    const first = await tvlm.chat(smol.messages, [image], { maxNewTokens: 6 });
    const followUp: ChatMessage[] = [...smol.messages, { role: 'assistant', content: [{ type: 'text', text: first.text }] }, { role: 'user', content: [{ type: 'text', text: 'And the colours?' }] }];
    const second = await tvlm.chat(followUp, [image], { maxNewTokens: 6 });
    expect(second.promptRecomputed).toBe(false);
    // The random model's answer is byte soup that does not tokenize back to its own ids (and the
    // template puts a space after "Assistant:"), so the cache is cut back to the first prompt:
    // the image tiles are not read again.
    expect(second.reusedPositions).toBe(smol.input_ids.length);
    await tvlm.reset();
    const fresh = await tvlm.chat(followUp, [image], { maxNewTokens: 6 });
    expect(fresh.ids).toEqual(second.ids);
  });
});

describe('transformers engine refuses what it cannot run', () => {
  it('names an unsupported model_type and the families it runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tjs-unsupported-'));
    try {
      mkdirSync(join(dir, 'tiny-paligemma'));
      writeFileSync(join(dir, 'tiny-paligemma', 'config.json'), JSON.stringify({ model_type: 'paligemma', architectures: ['PaliGemmaForConditionalGeneration'], text_config: { model_type: 'gemma' }, vision_config: { model_type: 'siglip_vision_model' } }));
      const options = { source: { kind: 'local', path: dir }, device: 'cpu', dtype: 'fp32' } as const;
      await expect(TransformersVlm.load('tiny-paligemma', options)).rejects.toThrow(UnsupportedModelError);
      await expect(TransformersVlm.load('tiny-paligemma', options)).rejects.toThrow(
        /"paligemma".*llava, idefics3, smolvlm, qwen2_vl, qwen2_5_vl, florence2/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('points env at the source only while loading, so a hub load and a local one do not mix', async () => {
    const fields = () => ({ local: env.allowLocalModels, remote: env.allowRemoteModels, path: env.localModelPath, host: env.remoteHost, template: env.remotePathTemplate });
    const before = fields();
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(req.url ?? '');
      res.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    try {
      const hub = TransformersVlm.load('org/tiny', { source: { kind: 'remote', host: `http://127.0.0.1:${port}` }, device: 'cpu', dtype: 'fp32' });
      const local = TransformersVlm.load('no-such-model', { source: { kind: 'local', path: HUB_DIR }, device: 'cpu', dtype: 'fp32' });
      await expect(hub).rejects.toThrow();
      await expect(local).rejects.toThrow(/not found locally.*no-such-model/);
      // The hub load asked the hub in its layout; the local one asked no host.
      expect(asked).toEqual(['/org/tiny/resolve/main/config.json']);
      expect(fields()).toEqual(before);
    } finally {
      server.close();
    }
  });

  it('names the missing file of a dtype and the dtypes the repo has', async () => {
    const load = TransformersVlm.load(MODEL_NAME, { source: { kind: 'local', path: MODELS_DIR }, device: 'cpu', dtype: 'q4', files: listFiles(MODEL_DIR) });
    await expect(load).rejects.toThrow(MissingDtypeFileError);
    await expect(
      TransformersVlm.load(MODEL_NAME, { source: { kind: 'local', path: MODELS_DIR }, device: 'cpu', dtype: 'q4f16', files: listFiles(MODEL_DIR) }),
    ).rejects.toThrow(/onnx\/vision_encoder_q4f16\.onnx is missing.*files for fp32$/);
  });
});
