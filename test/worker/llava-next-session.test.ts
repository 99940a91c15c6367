/**
 * The worker's model session loads the tiny LLaVA-NeXT fixture on the native
 * engine from its hub files (picked by config.json's model_type llava_next),
 * answers the golden chat with PyTorch's greedy answer for the wide and the
 * tall image, and a repeated turn reuses the image's cached positions.
 */
import { join } from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../src/worker/api';
import { ModelSession } from '../../src/worker/jobs/model-session';
import { readText } from '../../src/models/model-files';
import { SafetensorsFile, writeSafetensors } from '../../src/models/safetensors';
import { HUB_DIR, readGolden, readPixels } from '../helpers/family-golden';
import { testRuntime } from '../helpers/gpu';
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
