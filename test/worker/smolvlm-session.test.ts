/**
 * The worker's model session loads the tiny SmolVLM (Idefics3) fixture on the
 * native engine from its hub files, as it loads any repo, and answers the
 * golden chat with PyTorch's greedy answer; a repeated turn reuses the tiles'
 * cached positions. The engine the session picks comes from config.json.
 */
import { join } from 'node:path';
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../src/worker/api';
import { ModelSession } from '../../src/worker/jobs/model-session';
import { HUB_DIR, readGolden, readPixels } from '../helpers/family-golden';
import { testRuntime } from '../helpers/gpu';
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

async function readText(name: string): Promise<string> {
  return new TextDecoder().decode(await files.bytes(name));
}
