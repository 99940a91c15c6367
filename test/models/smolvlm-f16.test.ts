/**
 * Native SmolVLM with f16 weights (every linear layer's W kept as f16 on the
 * GPU, read by matmul-w16; activations, norms and embeddings stay f32). Needs
 * shader-f16: skipped on SwiftShader, run by `npm run test:f16` on lavapipe,
 * where it must run. The refusal without shader-f16 needs no device.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { argmax } from '../../src/models/generation';
import { NativeIdefics3 } from '../../src/models/native/idefics3';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { logitsRelError } from '../../src/webgpu/verify/golden';
import { needF16, testRuntime } from '../helpers/gpu';
import { alongGolden, caseTiles, greedy, smolConfig, smolFile, top2Margin } from '../helpers/smolvlm-native';
import { readSmolGolden, smolCases } from '../helpers/smolvlm-golden';

const CASES = smolCases(readSmolGolden());

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

describe('native SmolVLM f16 weights', () => {
  it('is refused on an adapter without shader-f16, saying what to pick instead', () => {
    const noF16 = { ctx: { ...rt.ctx, features: { ...rt.ctx.features, 'shader-f16': false } } } as unknown as GpuRuntime;
    expect(() => new NativeIdefics3(noF16, smolConfig, smolFile, { dtype: 'f16' })).toThrow(/f16 weights need the shader-f16 feature.*f32, int8 or int4/);
  });

  // The hub ships SmolVLM as bf16, and every bf16 value inside f16's range is exactly an
  // f16 (8 mantissa bits in 10), so f16 weights hold the checkpoint's own values: what is
  // left is the order of the f32 sums. Measured 1.7e-7..7.4e-7 of the max logit.
  const REL_TOL = 1e-5;
  const MARGIN = 0.1;

  it(`logits within ${REL_TOL} of f32's max logit at every step of PyTorch's path, and PyTorch's greedy ids`, async ({ skip }) => {
    needF16(rt, skip);
    const f32 = new NativeIdefics3(rt, smolConfig, smolFile);
    const f16 = new NativeIdefics3(rt, smolConfig, smolFile, { dtype: 'f16' });
    try {
      expect(f16.decoder.layers[0]?.q.weight.kind).toBe('f16');
      expect(smolFile.info('model.text_model.layers.0.self_attn.q_proj.weight').dtype).toBe('BF16');
      expect(f16.weights.gpuBytes).toBeLessThan(f32.weights.gpuBytes);
      for (const [name, want] of CASES) {
        const tiles = caseTiles(want);
        const base = await alongGolden(f32, want, tiles);
        const steps = await alongGolden(f16, want, tiles);
        const margins = base.map(top2Margin);
        const rels = steps.map((l, i) => logitsRelError(l, Array.from(base[i] as Float32Array)));
        const agree = steps.map((l, i) => argmax(l) === want.greedy_ids[i]);
        const wide = agree.filter((_, i) => (margins[i] as number) >= MARGIN);
        const free = (await greedy(f16, want.input_ids, tiles, want.max_new_tokens)).ids;
        const prefix = free.findIndex((id, i) => id !== want.greedy_ids[i]);
        console.log(
          `native SmolVLM f16 (${name}): logits vs f32 relative error first ${(rels[0] as number).toExponential(2)}, worst step ${Math.max(...rels).toExponential(2)}; ` +
            `vs PyTorch ${logitsRelError(steps[0] as Float32Array, want.first_logits.values).toExponential(2)}; ` +
            `PyTorch's id at ${agree.filter(Boolean).length} of ${agree.length} steps (${wide.filter(Boolean).length} of the ${wide.length} with margin >= ${MARGIN}); ` +
            `free-running ids equal for ${prefix < 0 ? free.length : prefix} of ${want.greedy_ids.length}; weights ${f16.weights.gpuBytes} vs ${f32.weights.gpuBytes} bytes`,
        );
        expect(Math.max(...rels)).toBeLessThanOrEqual(REL_TOL);
        expect(agree.every(Boolean)).toBe(true);
        expect(free).toEqual(want.greedy_ids);
      }
    } finally {
      f32.release();
      f16.release();
    }
    // lavapipe runs every shader on the CPU: both models along both paths take minutes.
  }, 600_000);
});
