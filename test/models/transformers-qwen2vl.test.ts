import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImagePixels } from '../../src/models/image-processing';
import { TransformersVlm } from '../../src/models/transformers/transformers-vlm';
import type { ChatMessage } from '../../src/models/vlm';
import { HUB_DIR, loadFixtureVlm, readGolden, readPixels, type EngineCase } from '../helpers/family-golden';

// The transformers engine on the tiny random Qwen2-VL fixture (hub layout, PyTorch goldens),
// where transformers.js 4.3.2 alone gets three things wrong: several images in one prompt,
// the rope delta of a text-only turn, and a preprocessor_config.json without its flags.
const REPO = 'Qwen-tiny-qwen2-vl';
const REPO_DIR = join(HUB_DIR, REPO);
const END_IDS = [338, 336];

type QwenCase = EngineCase;
const golden = readGolden<QwenCase & { two_images: QwenCase; text_only: QwenCase }>(REPO);

function image(file: string): ImagePixels {
  return readPixels(REPO, file);
}

/** The golden ids as our answer holds them: an end id ends it and is not part of it. */
function expected(want: QwenCase): { ids: number[]; finishReason: 'stop' | 'length' } {
  const last = want.greedy_ids.at(-1) ?? -1;
  return END_IDS.includes(last) ? { ids: want.greedy_ids.slice(0, -1), finishReason: 'stop' } : { ids: want.greedy_ids, finishReason: 'length' };
}

async function answer(tvlm: TransformersVlm, want: QwenCase) {
  return tvlm.chat(want.messages, want.images.map((i) => image(i.file)), { maxNewTokens: want.max_new_tokens });
}

describe('transformers engine on the tiny Qwen2-VL fixture', () => {
  let tvlm: TransformersVlm;

  beforeAll(async () => {
    tvlm = await loadFixtureVlm(REPO);
  }, 60_000);
  afterAll(() => tvlm?.dispose());

  it.each([
    ['one image', () => golden],
    ['two images (each through the image processor alone, every <|image_pad|> expanded)', () => golden.two_images],
    ['text only (rope delta corrected)', () => golden.text_only],
  ])('%s: the golden greedy ids', async (_name, get) => {
    const want = get();
    let streamed = '';
    const r = await tvlm.chat(want.messages, want.images.map((i) => image(i.file)), { maxNewTokens: want.max_new_tokens }, (p) => (streamed += p));
    expect(r.promptTokens).toBe(want.input_ids.length);
    expect(r).toMatchObject(expected(want));
    expect(streamed).toBe(r.text);
  });

  it.each([
    ['one image', () => golden],
    ['two images', () => golden.two_images],
    ['text only', () => golden.text_only],
  ])('%s: first-step logits within 1e-4 of PyTorch', async (_name, get) => {
    const want = get();
    const logits = await tvlm.nextTokenLogits(want.messages, want.images.map((i) => image(i.file)));
    expect(logits).toHaveLength(want.first_logits.values.length);
    let worst = 0;
    logits.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (want.first_logits.values[i] ?? Number.NaN)))));
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  it.each([
    ['after an image turn', () => golden],
    ['after a text-only turn', () => golden.text_only],
  ])('continues the cache %s, answering as a fresh run does', async (_name, get) => {
    const want = get();
    const images = want.images.map((i) => image(i.file));
    await tvlm.reset();
    const first = await tvlm.chat(want.messages, images, { maxNewTokens: 6 });
    const followUp: ChatMessage[] = [...want.messages, { role: 'assistant', content: first.text }, { role: 'user', content: 'And the colours?' }];
    const second = await tvlm.chat(followUp, images, { maxNewTokens: 6 });
    expect(second.promptRecomputed).toBe(false);
    expect(second.reusedPositions).toBeGreaterThanOrEqual(want.input_ids.length);
    await tvlm.reset();
    const fresh = await tvlm.chat(followUp, images, { maxNewTokens: 6 });
    expect(fresh.reusedPositions).toBe(0);
    expect(second.ids).toEqual(fresh.ids);
  });

  it('recomputes a turn that adds an image, and says why', async () => {
    await tvlm.reset();
    const first = await answer(tvlm, golden);
    const withImage: ChatMessage[] = [...golden.messages, { role: 'assistant', content: first.text }, { role: 'user', content: [{ type: 'text', text: 'And this?' }, { type: 'image' }] }];
    const images = [image(golden.images[0]?.file ?? ''), image(golden.two_images.images[1]?.file ?? '')];
    const second = await tvlm.chat(withImage, images, { maxNewTokens: 6 });
    expect(second).toMatchObject({ reusedPositions: 0, promptRecomputed: true });
    expect(second.recomputeReason).toMatch(/new image.*Qwen2-VL/);
    await tvlm.reset();
    expect((await tvlm.chat(withImage, images, { maxNewTokens: 6 })).ids).toEqual(second.ids);
  });
});

describe("Qwen2-VL with the real repo's preprocessor_config.json (no resize or normalise flags)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tjs-qwen-'));
  let tvlm: TransformersVlm;

  beforeAll(async () => {
    cpSync(REPO_DIR, join(dir, REPO), { recursive: true });
    const file = join(dir, REPO, 'preprocessor_config.json');
    const full = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const flags = ['do_convert_rgb', 'do_normalize', 'do_rescale', 'do_resize', 'resample', 'rescale_factor', 'size'];
    writeFileSync(file, JSON.stringify(Object.fromEntries(Object.entries(full).filter(([k]) => !flags.includes(k)))));
    tvlm = await TransformersVlm.load(REPO, { source: { kind: 'local', path: dir }, device: 'cpu', dtype: 'fp32' });
  }, 60_000);
  afterAll(async () => {
    await tvlm?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers as with the full file: HF's defaults stand in for the missing flags", async () => {
    const r = await answer(tvlm, golden);
    expect(r).toMatchObject(expected(golden));
  });
});
