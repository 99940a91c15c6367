/**
 * Native LLaVA (the bundled model) with f16 weights: the same weights path as
 * SmolVLM's (every linear W kept as f16, read by matmul-w16). Needs
 * shader-f16: skipped on SwiftShader, run by `npm run test:f16` on lavapipe.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../src/models/generation';
import { NativeLlava } from '../../src/models/native/llava';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { logitsRelError } from '../../src/webgpu/verify/golden';
import { needF16, testRuntime } from '../helpers/gpu';
import { bundledLlava } from './golden';

const { golden, config, file, pixels } = bundledLlava();

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

async function run(model: NativeLlava): Promise<{ first: Float32Array; ids: number[] }> {
  const ids = Int32Array.from(golden.inputs.expanded_input_ids);
  const cache = model.decoder.newCache(rt, ids.length + golden.greedy.max_new_tokens + 1);
  try {
    const { logits: first } = await model.prefill(cache, ids, [pixels]);
    const result = await generate(first, (id) => model.decodeStep(cache, id), { maxNewTokens: golden.greedy.max_new_tokens }, [], () => undefined);
    return { first, ids: result.ids };
  } finally {
    cache.release();
  }
}

describe('native LLaVA f16 weights', () => {
  // The bundled model is stored as f16 safetensors, so f16 weights hold its own values:
  // what is left is the order of the f32 sums.
  const REL_TOL = 1e-5;

  it(`first-step logits within ${REL_TOL} of f32's max logit and PyTorch's 24 greedy ids`, async ({ skip }) => {
    needF16(rt, skip);
    expect(file.info('language_model.model.layers.0.self_attn.q_proj.weight').dtype).toBe('F16');
    const f32 = new NativeLlava(rt, config, file);
    const f16 = new NativeLlava(rt, config, file, { dtype: 'f16' });
    try {
      expect(f16.decoder.layers[0]?.q.weight.kind).toBe('f16');
      const a = await run(f32);
      const b = await run(f16);
      const rel = logitsRelError(b.first, Array.from(a.first));
      console.log(`native LLaVA f16: first-step logits vs f32 ${rel.toExponential(2)}, vs PyTorch ${logitsRelError(b.first, golden.logits.values).toExponential(2)}; weights ${f16.weights.gpuBytes} vs ${f32.weights.gpuBytes} bytes`);
      expect(rel).toBeLessThanOrEqual(REL_TOL);
      expect(b.ids).toEqual(golden.greedy.ids);
    } finally {
      f32.release();
      f16.release();
    }
  }, 600_000);
});
