import { beforeAll, describe, expect, it } from 'vitest';
import { preprocessLlavaNext } from '../../src/models/llava-next-processing';
import { LlavaNextChatModel, type LlavaNextAssets } from '../../src/models/llava-next';
import { NativeLlavaNext } from '../../src/models/native/llava-next';
import { type AnyresImageInput, NativeLlavaNextEngine } from '../../src/models/native/llava-next-engine';
import { CACHE_STEP, DECODE_ROOM } from '../../src/models/native/vlm-engine';
import type { SafetensorsFile } from '../../src/models/safetensors';
import { readPixels } from '../helpers/family-golden';
import { expectOneIdPerStep, greedyThroughEngine } from '../helpers/greedy-readback';
import { freshRuntime, peaksAfter } from '../helpers/pool-peaks';
import { LLAVA_NEXT_REPO, loadLlavaNextFixture, readLlavaNextGolden, type LlavaNextCase } from '../helpers/llava-next-fixture';

// What LLaVA-NeXT's native engine holds and reads back, as native-memory.test.ts
// checks for SmolVLM and LLaVA: an image's views are encoded one at a time, the
// KV cache follows the turn, and greedy decoding reads back the chosen id only.
const REPO = LLAVA_NEXT_REPO;
const golden = readLlavaNextGolden();
const CASES: [string, LlavaNextCase][] = [
  ['wide', golden],
  ['tall', golden.tall],
  ['two images', golden.two_images],
];

let assets: LlavaNextAssets;
let file: SafetensorsFile;

beforeAll(async () => {
  ({ assets, file } = await loadLlavaNextFixture());
});

/** The case's prompt ids and its images as the engine takes them (all views each). */
function turn(chat: LlavaNextChatModel, want: LlavaNextCase): { ids: number[]; inputs: AnyresImageInput[] } {
  const { ids, images } = chat.encode(want.messages, want.images.map((i) => readPixels(REPO, i.file)));
  return { ids: Array.from(ids), inputs: images };
}

describe('native LLaVA-NeXT encode memory', () => {
  it("the pool peak over one image's views grows by the kept feature rows only, not by a view of activations each", async () => {
    const rt = await freshRuntime();
    const model = new NativeLlavaNext(rt, assets.config, file);
    const d = assets.config.text.hiddenSize;
    const viewBytes = model.side * model.side * d * 4;
    const image = preprocessLlavaNext(readPixels(REPO, golden.images[0]?.file as string), assets.preprocessor, model.side);
    const views = image.views.length;
    const peaks: number[] = [];
    const before = rt.memory().peakBytes;
    try {
      // One view through the tower, then the whole image: every view, packed.
      const run = await peaksAfter(rt, [(s) => model.llava.encodeImages(s, image.views.slice(0, 1)), (s) => model.encodeImages(s, [image])]);
      expect(run.counts).toEqual([1, 1]);
      peaks.push(...run.peaks);
    } finally {
      model.release();
      rt.trim();
    }
    const oneView = (peaks[0] as number) - before;
    const extra = (peaks[1] as number) - (peaks[0] as number);
    // Kept for the whole image: every view's features, and the packed rows (at most every view's, plus a newline per grid row).
    const kept = views * viewBytes + (views * viewBytes + views * model.side * d * 4);
    console.log(
      `native LLaVA-NeXT encode: pool peak +${(oneView / 1024).toFixed(1)} KiB for 1 view, +${(extra / 1024).toFixed(1)} KiB more for the image's ${views} views; ` +
        `one view's features ${(viewBytes / 1024).toFixed(1)} KiB, the image's kept rows at most ${(kept / 1024).toFixed(1)} KiB`,
    );
    expect(oneView).toBeGreaterThan(4 * viewBytes);
    expect(extra).toBeLessThanOrEqual(kept);
  });
});

describe('native LLaVA-NeXT KV cache capacity', () => {
  it('follows the turn: the prompt plus room for the reply, grown on a longer turn that reuses the images, with the logits of a fresh engine', async () => {
    const rt = await freshRuntime();
    const ctx = assets.config.text.maxPositions;
    const engine = new NativeLlavaNextEngine(rt, assets.config, file, {}, ctx);
    const fresh = new NativeLlavaNextEngine(rt, assets.config, file, {}, ctx);
    const chat = new LlavaNextChatModel(assets, engine, 'f32');
    try {
      const { ids, inputs } = turn(chat, golden.two_images);
      const roundUp = (n: number) => Math.min(ctx, Math.ceil(n / CACHE_STEP) * CACHE_STEP);
      expect(engine.cacheCapacity).toBe(Math.min(ctx, CACHE_STEP));
      await engine.prefill(Int32Array.from(ids), inputs);
      expect(engine.cacheCapacity).toBe(roundUp(ids.length + DECODE_ROOM));
      expect(engine.cacheCapacity).toBeLessThan(ctx);
      // Greedy steps on the GPU fill the cache as decode() does.
      const reply = [golden.two_images.greedy_ids[0] as number];
      reply.push(await engine.decodeGreedy(reply[0] as number));
      await engine.decode(reply[1] as number);
      const filler = ids.filter((id) => id !== assets.config.imageTokenIndex).slice(0, 16);
      const turn2 = [...ids, ...reply];
      while (turn2.length + DECODE_ROOM <= engine.cacheCapacity) turn2.push(...filler);
      const grownFrom = engine.cacheCapacity;
      const got = await engine.prefill(Int32Array.from(turn2), inputs);
      expect(engine.reusedPositions).toBe(ids.length + reply.length);
      expect(engine.cacheCapacity).toBe(roundUp(turn2.length + DECODE_ROOM));
      expect(engine.cacheCapacity).toBeGreaterThan(grownFrom);
      const want = await fresh.prefill(Int32Array.from(turn2), inputs);
      expect(fresh.reusedPositions).toBe(0);
      let maxDiff = 0;
      let maxRef = 0;
      want.forEach((v, i) => {
        maxDiff = Math.max(maxDiff, Math.abs(v - (got[i] as number)));
        maxRef = Math.max(maxRef, Math.abs(v));
      });
      const t = assets.config.text;
      const rowBytes = 2 * t.numLayers * t.numKvHeads * t.headDim * 4;
      console.log(
        `LLaVA-NeXT KV cache: ${grownFrom} -> ${engine.cacheCapacity} rows at ${turn2.length} prompt positions (context ${ctx}: ${((ctx * rowBytes) / 1024).toFixed(0)} KiB, now ${((engine.cacheCapacity * rowBytes) / 1024).toFixed(0)} KiB); ` +
          `grown vs fresh logits max diff ${maxDiff.toExponential(2)} of ${maxRef.toFixed(2)}`,
      );
      expect(maxDiff).toBeLessThanOrEqual(1e-4 * maxRef);
    } finally {
      await engine.dispose();
      await fresh.dispose();
    }
  });
});

describe('native LLaVA-NeXT greedy decoding reads back 4 bytes a token', () => {
  it.each(CASES)('%s: the golden greedy ids, one map of one id per token', async (name, want) => {
    const rt = await freshRuntime();
    const engine = new NativeLlavaNextEngine(rt, assets.config, file);
    const chat = new LlavaNextChatModel(assets, engine, 'f32');
    const stops = assets.stopTokenIds;
    try {
      const { ids, inputs } = turn(chat, want);
      expect(ids).toEqual(want.input_ids);
      const run = await greedyThroughEngine(rt, engine, ids, inputs, want.max_new_tokens, stops);
      console.log(`LLaVA-NeXT greedy on the GPU (${name}): ${run.ids.length} ids, per decode step ${JSON.stringify(run.steps[0])}`);
      expect(run.ids).toEqual(want.greedy_ids.filter((id) => !stops.includes(id)));
      expectOneIdPerStep(run);
    } finally {
      await engine.dispose();
    }
  });
});
