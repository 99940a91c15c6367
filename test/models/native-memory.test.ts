import { beforeAll, describe, expect, it } from 'vitest';
import type { ImageInput } from '../../src/models/engine';
import { NativeEngine } from '../../src/models/native/native-engine';
import { NativeIdefics3Engine } from '../../src/models/native/idefics3-engine';
import { NativeIdefics3 } from '../../src/models/native/idefics3';
import type { Scope } from '../../src/models/native/ops';
import { CACHE_STEP, DECODE_ROOM } from '../../src/models/native/vlm-engine';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { expectOneIdPerStep, greedyThroughEngine } from '../helpers/greedy-readback';
import { freshRuntime, peaksAfter } from '../helpers/pool-peaks';
import { caseTiles, deeperFixture, smolConfig, smolFile, smolJson } from '../helpers/smolvlm-native';
import { readSmolGolden, smolCases } from '../helpers/smolvlm-golden';
import { bundledLlava } from './golden';

// What the native engine holds on the GPU and reads back: an encode's memory
// does not grow with the tile count, the KV cache follows the requests, and
// greedy decoding reads back the chosen id instead of the logits row.

const smolGolden = readSmolGolden();
const SMOL_CASES = smolCases(smolGolden);
const smolStops = (smolJson('generation_config.json') as { eos_token_id: number[] }).eos_token_id;
const allTiles = caseTiles(smolGolden);

const inputsOf = (tiles: Float32Array[]): ImageInput[] => tiles.map((pixels, i) => ({ pixels, key: `tile-${i}` }));

describe('native SmolVLM encode memory', () => {
  it('the pool peak over encoding N tiles grows by the kept feature rows only, not by a tile of activations each', async () => {
    const rt = await freshRuntime();
    const model = new NativeIdefics3(rt, smolConfig, smolFile);
    const featBytes = smolConfig.imageSeqLength * smolConfig.text.hiddenSize * 4;
    const peaks: number[] = [];
    const before = rt.memory().peakBytes;
    try {
      const counts = [1, 3, allTiles.length];
      const run = await peaksAfter(rt, counts.map((n) => (s: Scope) => model.encodeImages(s, allTiles.slice(0, n))));
      expect(run.counts).toEqual(counts);
      peaks.push(...run.peaks);
    } finally {
      model.release();
      rt.trim();
    }
    const oneTile = (peaks[0] as number) - before;
    console.log(`native SmolVLM encode: pool peak ${peaks.map((p) => (p / 1024).toFixed(0)).join(' / ')} KiB at 1 / 3 / ${allTiles.length} tiles; one tile's working set ${(oneTile / 1024).toFixed(0)} KiB, its features ${(featBytes / 1024).toFixed(0)} KiB`);
    // The test means something: one tile's activations are many times its kept features.
    expect(oneTile).toBeGreaterThan(4 * featBytes);
    const extra = (peaks[2] as number) - (peaks[0] as number);
    expect(extra).toBeLessThanOrEqual((allTiles.length - 1) * featBytes);
  });
});

describe('native decoder prefill memory', () => {
  it('a prompt holds one layer of activations at a time: the working set does not grow with depth', async () => {
    // A text-only prompt long enough that its activations dwarf the rounding of small buffers.
    const filler = smolGolden.input_ids.filter((id) => id !== smolConfig.imageTokenId);
    const ids = Int32Array.from({ length: 192 }, (_, i) => filler[i % filler.length] as number);
    const working: number[] = [];
    for (const layers of [2, 8]) {
      const rt = await freshRuntime();
      const deep = deeperFixture(layers);
      const model = new NativeIdefics3(rt, deep.config, deep.file);
      const cache = model.decoder.newCache(rt, ids.length + 1);
      const held = rt.memory().bytesHeld;
      try {
        await model.prefill(cache, ids, []);
        working.push(rt.memory().peakBytes - held);
      } finally {
        cache.release();
        model.release();
        rt.trim();
      }
    }
    console.log(`native decoder prefill of ${ids.length} positions: working set ${working.map((w) => (w / 1024).toFixed(0)).join(' / ')} KiB at 2 / 8 layers`);
    expect(working[1] as number).toBeLessThanOrEqual(1.1 * (working[0] as number));
  });
});

describe('native KV cache capacity', () => {
  it('follows the request: the prompt plus room for the reply, grown on a longer turn with the same logits as a fresh engine', async () => {
    const rt = await freshRuntime();
    const ctx = smolConfig.text.maxPositions;
    const engine = new NativeIdefics3Engine(rt, smolConfig, smolFile, {}, ctx);
    const fresh = new NativeIdefics3Engine(rt, smolConfig, smolFile, {}, ctx);
    try {
      const ids = Int32Array.from(smolGolden.input_ids);
      const roundUp = (n: number) => Math.min(ctx, Math.ceil(n / CACHE_STEP) * CACHE_STEP);
      expect(engine.cacheCapacity).toBe(Math.min(ctx, CACHE_STEP));
      await engine.prefill(ids, inputsOf(allTiles));
      expect(engine.cacheCapacity).toBe(roundUp(ids.length + DECODE_ROOM));
      expect(engine.cacheCapacity).toBeLessThan(ctx);
      // A second turn past the capacity: the first turn's rows are reused, moved into larger buffers.
      const reply = [smolGolden.greedy_ids[0] as number];
      await engine.decode(reply[0] as number);
      const filler = smolGolden.input_ids.filter((id) => id !== smolConfig.imageTokenId);
      const turn2: number[] = [...smolGolden.input_ids, ...reply];
      while (turn2.length + DECODE_ROOM <= engine.cacheCapacity) turn2.push(...filler);
      const grownFrom = engine.cacheCapacity;
      const got = await engine.prefill(Int32Array.from(turn2), inputsOf(allTiles));
      expect(engine.reusedPositions).toBe(ids.length + 1);
      expect(engine.cacheCapacity).toBe(roundUp(turn2.length + DECODE_ROOM));
      expect(engine.cacheCapacity).toBeGreaterThan(grownFrom);
      const want = await fresh.prefill(Int32Array.from(turn2), inputsOf(allTiles));
      let maxDiff = 0;
      let maxRef = 0;
      want.forEach((v, i) => {
        maxDiff = Math.max(maxDiff, Math.abs(v - (got[i] as number)));
        maxRef = Math.max(maxRef, Math.abs(v));
      });
      console.log(`KV cache: ${grownFrom} -> ${engine.cacheCapacity} rows at ${turn2.length} prompt positions (context ${ctx}); grown vs fresh logits max diff ${maxDiff.toExponential(2)} of ${maxRef.toFixed(2)}`);
      expect(maxDiff).toBeLessThanOrEqual(1e-4 * maxRef);
    } finally {
      await engine.dispose();
      await fresh.dispose();
    }
  });
});

describe('greedy decoding reads back 4 bytes a token', () => {
  let rt: GpuRuntime;
  beforeAll(async () => {
    rt = await freshRuntime();
  });

  it.each(SMOL_CASES)('SmolVLM %s: the golden greedy ids, one map of one id per token', async (_name, want) => {
    const engine = new NativeIdefics3Engine(rt, smolConfig, smolFile);
    try {
      const run = await greedyThroughEngine(rt, engine, want.input_ids, inputsOf(caseTiles(want)), want.max_new_tokens, smolStops);
      console.log(`SmolVLM greedy on the GPU: ${run.ids.length} ids, per decode step ${JSON.stringify(run.steps[0])}`);
      expect(run.ids).toEqual(want.greedy_ids.filter((id) => !smolStops.includes(id)));
      expectOneIdPerStep(run);
    } finally {
      await engine.dispose();
    }
  });

  it('webvlm-tiny (LLaVA): the golden 24 greedy ids, one map of one id per token', async () => {
    const { golden, config, file, pixels } = bundledLlava();
    const engine = new NativeEngine(rt, config, file);
    try {
      const run = await greedyThroughEngine(rt, engine, golden.inputs.expanded_input_ids, [{ pixels, key: 'golden' }], golden.greedy.max_new_tokens, []);
      expect(run.ids).toEqual(golden.greedy.ids);
      expect(engine.cacheCapacity).toBeLessThan(config.text.maxPositions);
      expectOneIdPerStep(run);
    } finally {
      await engine.dispose();
    }
  });
});
