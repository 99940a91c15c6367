import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodePngRaster } from '../../src/data/png';
import { SafetensorsFile } from '../../src/models/safetensors';
import type { VlmEngine } from '../../src/models/engine';
import { NativeEngine } from '../../src/models/native/native-engine';
import { OnnxEngine } from '../../src/models/onnx/onnx-engine';
import { ContextLengthError, loadModelAssets, Vlm, type ChatMessage, type ModelAssets } from '../../src/models/vlm';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { testRuntime } from '../helpers/gpu';
import { bundledModelFiles } from './fs-files';
import { MODEL_DIR, readJson, type Golden } from './golden';

ort.env.wasm.numThreads = 1;

const golden = readJson<Golden>('golden.json');
const files = bundledModelFiles();
const raster = decodePngRaster(new Uint8Array(readFileSync(join(MODEL_DIR, golden.image))));
let rt: GpuRuntime;
let assets: ModelAssets;

beforeAll(async () => {
  rt = await testRuntime();
  assets = await loadModelAssets(files);
});

async function engines(): Promise<VlmEngine[]> {
  const file = new SafetensorsFile(await files.bytes('model.safetensors'), 'model.safetensors');
  return [new NativeEngine(rt, assets.config, file), await OnnxEngine.create(ort, files, assets.config, 'wasm')];
}

const EOS = 2;
const goldenAnswerIds = golden.greedy.ids.slice(0, golden.greedy.ids.indexOf(EOS));
const messages = golden.inputs.messages as ChatMessage[];

describe('VLM pipeline on both engines', () => {
  it('builds the golden prompt ids through the chat template and image-token expansion', () => {
    const vlm = new Vlm(assets, { contextLength: 512 } as VlmEngine);
    expect(Array.from(vlm.encodePrompt(messages))).toEqual(golden.inputs.expanded_input_ids);
  });

  it('native and ONNX answer the golden question with PyTorch greedy ids, and reuse the cache on the next turn', async () => {
    for (const engine of await engines()) {
      const vlm = new Vlm(assets, engine);
      const image = vlm.preprocess({ ...raster, channels: 3 });
      let streamed = '';
      const first = await vlm.chat(messages, [image], { maxNewTokens: 24 }, (p) => (streamed += p));
      expect(first.ids, engine.kind).toEqual(goldenAnswerIds);
      expect(first.finishReason).toBe('stop');
      expect(streamed).toBe(first.text);
      expect(first.text.length).toBeGreaterThan(10);

      const followUp: ChatMessage[] = [...messages, { role: 'assistant', content: first.text }, { role: 'user', content: 'What colour is the object?' }];
      const second = await vlm.chat(followUp, [image], { maxNewTokens: 8 });
      expect(second.reusedPositions, `${engine.kind} reuses the first turn`).toBeGreaterThan(golden.inputs.expanded_input_ids.length);
      // The same conversation from an empty cache gives the same answer.
      const fresh = new Vlm(assets, engine);
      await engine.prefill(Int32Array.of(1, 2), []);
      const again = await fresh.chat(followUp, [image], { maxNewTokens: 8 });
      expect(again.ids).toEqual(second.ids);
      await engine.dispose();
    }
  });

  it('two images in one prompt: each gets its own run of image tokens, and both engines answer alike', async () => {
    const twoImages: ChatMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'What is the difference between these two images?' }, { type: 'image' }, { type: 'image' }] },
    ];
    const flipped = new Uint8Array(raster.data.length);
    for (let i = 0; i < raster.data.length; i += 3) flipped.set(raster.data.subarray(raster.data.length - i - 3, raster.data.length - i), i);
    const answers: number[][] = [];
    for (const engine of await engines()) {
      const vlm = new Vlm(assets, engine);
      const ids = vlm.encodePrompt(twoImages);
      expect(ids.filter((id) => id === assets.config.imageTokenIndex)).toHaveLength(2 * assets.config.imageSeqLength);
      const images = [vlm.preprocess({ ...raster, channels: 3 }), vlm.preprocess({ width: raster.width, height: raster.height, data: flipped, channels: 3 })];
      expect(images[0]?.key).not.toBe(images[1]?.key);
      answers.push((await vlm.chat(twoImages, images, { maxNewTokens: 12 })).ids);
      await expect(vlm.chat(twoImages, images.slice(0, 1), { maxNewTokens: 2 })).rejects.toThrow(/2 image\(s\) but 1 were given/);
      await engine.dispose();
    }
    expect(answers[0]?.length).toBeGreaterThan(0);
    expect(answers[1]).toEqual(answers[0]);
  });

  it('refuses a prompt over the context, naming the limit', async () => {
    const [native] = await engines();
    const vlm = new Vlm(assets, native as VlmEngine);
    const long: ChatMessage[] = [{ role: 'user', content: 'red '.repeat(600) }];
    await expect(vlm.chat(long, [], { maxNewTokens: 4 })).rejects.toThrow(ContextLengthError);
    await expect(vlm.chat(long, [], { maxNewTokens: 4 })).rejects.toThrow(/context holds 512/);
  });

  it('cancels between tokens', async () => {
    const [native] = await engines();
    const vlm = new Vlm(assets, native as VlmEngine);
    const image = vlm.preprocess({ ...raster, channels: 3 });
    const stop = new AbortController();
    let pieces = 0;
    const r = await vlm.chat(messages, [image], { maxNewTokens: 24 }, () => ++pieces === 3 && stop.abort(), stop.signal);
    expect(r.finishReason).toBe('cancelled');
    expect(r.ids).toHaveLength(3);
  });
});
