import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImagePixels } from '../../src/models/image-processing';
import type { ModelFiles } from '../../src/models/model-files';
import { NativeIdefics3Engine } from '../../src/models/native/idefics3-engine';
import { SafetensorsFile } from '../../src/models/safetensors';
import { loadSmolVlmAssets, SmolVlmChatModel } from '../../src/models/smolvlm';
import type { TransformersVlm } from '../../src/models/transformers/transformers-vlm';
import type { ChatMessage } from '../../src/models/vlm';
import { HUB_DIR, ids, loadFixtureVlm, readPixels, readRawImage, readReposFromFixtures, worst } from '../helpers/family-golden';
import { testRuntime } from '../helpers/gpu';

// Our SmolVLM path against its peer, directly, with no golden file between
// them: on the tiny random fixture, our TypeScript Idefics3 processor (what the
// native engine's chat model runs) and transformers.js's own Idefics3Processor
// make the same prompt ids and the same pixel values per tile, and our native
// engine (WGSL through Dawn, from model.safetensors) and the transformers engine
// (transformers.js on the onnx-community files of the same weights) answer
// with the same greedy ids. Both also match PyTorch (smolvlm-native and
// smolvlm-fixture tests); this pins the two implementations to each other.
const REPO = 'HuggingFaceTB-tiny-smolvlm';
const dir = join(HUB_DIR, REPO);

/** The crops are cut from the same bytes on both sides; the global view is one bilinear resize in f32 (theirs) or f64 rounded to f32 (ours). */
const GLOBAL_VIEW_TOL = 1e-6;
const MAX_NEW = 16;

const files: ModelFiles = {
  id: REPO,
  bytes: (name) => {
    const b = readFileSync(join(dir, name));
    return Promise.resolve(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  },
};

const IMAGES: [string, string][] = [
  ['a 256 x 128 image (2 x 4 tiles + global)', 'golden.png'],
  ['a 128 x 256 image (4 x 2 tiles + global)', 'golden-tall.png'],
];
const messages: ChatMessage[] = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'Can you describe this image?' }] }];

readReposFromFixtures();

let native: SmolVlmChatModel;
let peer: TransformersVlm;

beforeAll(async () => {
  const assets = await loadSmolVlmAssets(files);
  const file = new SafetensorsFile(await files.bytes('model.safetensors'), 'model.safetensors');
  native = new SmolVlmChatModel(assets, new NativeIdefics3Engine(await testRuntime(), assets.config, file), 'f32');
  peer = await loadFixtureVlm(REPO);
}, 60_000);

afterAll(async () => {
  await native?.dispose();
  await peer?.dispose();
});

describe.each(IMAGES)('SmolVLM, ours against transformers.js, on %s', (_name, png) => {
  const pixels: ImagePixels = readPixels(REPO, png);

  it("gives the prompt ids and per-tile pixel values of transformers.js's own Idefics3 processor", async () => {
    const ours = native.encode(messages, [pixels]);
    const processor = peer.processor;
    const text = processor.apply_chat_template(messages as never, { add_generation_prompt: true }) as string;
    const theirs = (await processor(text, [readRawImage(REPO, png)])) as { input_ids: Tensor; pixel_values: Tensor };

    expect(Array.from(ours.ids)).toEqual(ids(theirs.input_ids));
    const [, tiles = 0, ...tileShape] = theirs.pixel_values.dims;
    expect(ours.tiles).toHaveLength(tiles);
    const per = tileShape.reduce((a, b) => a * b, 1);
    const data = theirs.pixel_values.data as Float32Array;
    ours.tiles.forEach(({ pixels: tile }, t) => {
      expect(tile.length, `tile ${t}`).toBe(per);
      const w = worst(tile, data.subarray(t * per, (t + 1) * per));
      // The last tile is the global view; every other one is a crop, equal bit for bit.
      expect(w.diff, `tile ${t}: worst at ${w.index}`).toBeLessThanOrEqual(t === tiles - 1 ? GLOBAL_VIEW_TOL : 0);
    });
  });

  it('answers with the greedy ids of the transformers engine', async () => {
    const [a, b] = [await native.chat(messages, [pixels], { maxNewTokens: MAX_NEW }), await peer.chat(messages, [pixels], { maxNewTokens: MAX_NEW })];
    // Random weights still pick real ids: a run long enough to differ somewhere if either engine were off.
    expect(a.ids.length).toBeGreaterThanOrEqual(4);
    expect(a.ids).toEqual(b.ids);
    expect(a.finishReason).toBe(b.finishReason);
    expect(a.promptTokens).toBe(b.promptTokens);
  });
});
