import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/models/generation';
import { NativeLlava } from '../../src/models/native/llava';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { compareGolden, GOLDEN_LOGITS_REL_TOL } from '../../src/webgpu/verify/golden';
import { testRuntime } from '../helpers/gpu';
import { bundledLlava } from './golden';

// The native engine on the bundled model, in Node through Dawn, against PyTorch's golden outputs.

let rt: GpuRuntime;
const { golden, config, file, pixels } = bundledLlava();

beforeAll(async () => {
  rt = await testRuntime();
});

async function runGolden(model: NativeLlava) {
  const ids = Int32Array.from(golden.inputs.expanded_input_ids);
  const cache = model.decoder.newCache(rt, ids.length + golden.greedy.max_new_tokens + 1);
  const { logits: first } = await model.prefill(cache, ids, [pixels]);
  const result = await generate(first, (id) => model.decodeStep(cache, id), { maxNewTokens: golden.greedy.max_new_tokens }, [], () => undefined);
  cache.release();
  return { first, ids: result.ids };
}

describe('native engine on the bundled model', () => {
  it('preprocesses the golden image exactly as PyTorch', () => {
    const g = golden.pixel_values;
    const mean = pixels.reduce((a, b) => a + b, 0) / pixels.length;
    expect(pixels.length).toBe(g.shape.reduce((a, b) => a * b, 1));
    expect(mean).toBeCloseTo(g.mean, 6);
    expect(Array.from(pixels.slice(0, g.first.length))).toEqual(g.first.map((v) => Math.fround(v)));
  });

  it('f32 weights: first-step logits within 1e-3 and the same 24 greedy ids', async () => {
    const model = new NativeLlava(rt, config, file);
    const { first, ids } = await runGolden(model);
    const r = compareGolden({ logits: first, ids }, { logits: golden.logits.values, ids: golden.greedy.ids });
    console.log(`native f32: first-step logits relative error ${r.logitsRelError.toExponential(2)}`);
    expect(r.logitsRelError).toBeLessThanOrEqual(GOLDEN_LOGITS_REL_TOL);
    const top5 = Array.from(first).map((v, i) => ({ v, i })).sort((a, b) => b.v - a.v).slice(0, 5).map((x) => x.i);
    expect(top5).toEqual(golden.logits.top5.map((t) => t.id));
    expect(r.greedyIds).toEqual(r.goldenIds);
    expect(r.match).toBe(true);
  });

  it('int8 weights: the same greedy ids (logits error reported)', async () => {
    const model = new NativeLlava(rt, config, file, { dtype: 'int8', groupSize: 32 });
    const { first, ids } = await runGolden(model);
    const r = compareGolden({ logits: first, ids }, { logits: golden.logits.values, ids: golden.greedy.ids });
    console.log(`native int8: first-step logits relative error ${r.logitsRelError.toExponential(2)}`);
    expect(r.greedyIds).toEqual(r.goldenIds);
    expect(r.match).toBe(true);
  });
});
