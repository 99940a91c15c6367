import { describe, expect, it } from 'vitest';
import { imageTokenCount, type Size } from '../../src/models/anyres';
import { parseLlavaConfig } from '../../src/models/config';
import { expandLlavaNextPrompt, parseLlavaNextPreprocessor, preprocessLlavaNext } from '../../src/models/llava-next-processing';
import { packPlan } from '../../src/models/native/llava-next';

// The AnyRes processor and the GPU packing plan on sizes the golden images do not
// reach: odd sizes, both unpad branches, images smaller than a tile and extreme
// aspect ratios, with llava-v1.6's pinpoints scaled to 32-pixel tiles.
const TILE = 32;
const PINPOINTS: Size[] = [[32, 64], [64, 32], [64, 64], [32, 96], [96, 32]];
const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

const config = parseLlavaConfig({
  model_type: 'llava_next',
  image_grid_pinpoints: PINPOINTS,
  vision_config: { image_size: TILE, patch_size: 8, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 1 },
  text_config: { vocab_size: 10, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 1 },
});

function image(height: number, width: number): { width: number; height: number; data: Uint8Array; channels: 3 } {
  return { width, height, data: Uint8Array.from({ length: height * width * 3 }, (_, i) => (i * 37) % 256), channels: 3 };
}

describe('LLaVA-NeXT processing and packing plan', () => {
  it('writes every packed token exactly once, and as many as the processor counts (both unpad branches, odd sizes)', () => {
    for (const side of [2, 4, 5]) {
      for (const [h, w] of [[40, 100], [120, 44], [97, 61], [1, 500], [500, 1], [33, 33], [7, 3], [64, 64], [30, 200]] as Size[]) {
        const plan = packPlan([h, w], PINPOINTS, TILE, side);
        expect(plan.tokens, `${h}x${w} side ${side}`).toBe(imageTokenCount([h, w], PINPOINTS, TILE, side));
        const written = new Uint8Array(plan.tokens);
        for (const c of plan.copies) {
          expect(c.count).toBeGreaterThan(0);
          expect(c.from + c.count).toBeLessThanOrEqual(c.view < 0 ? 1 : side * side);
          for (let t = c.to; t < c.to + c.count; t++) written[t] = (written[t] as number) + 1;
        }
        expect(Array.from(written).every((n) => n === 1), `${h}x${w} side ${side}`).toBe(true);
      }
    }
  });

  it('pads with black normalised per channel, as HF pads the bytes before normalising', () => {
    const pre = parseLlavaNextPreprocessor({ crop_size: { height: TILE, width: TILE }, image_mean: CLIP_MEAN, image_std: CLIP_STD }, config);
    // 40 x 100 lands on the 32 x 96 pinpoint at 32 x 80: tile 0's first 8 columns are padding.
    const out = preprocessLlavaNext(image(40, 100), pre, 4);
    const tile0 = out.views[1] as Float32Array;
    for (let c = 0; c < 3; c++) {
      expect(tile0[c * TILE * TILE]).toBeCloseTo(-(CLIP_MEAN[c] as number) / (CLIP_STD[c] as number), 6);
    }
  });

  it('takes images smaller than a tile and extreme aspect ratios without growing past the largest pinpoint', () => {
    const pre = parseLlavaNextPreprocessor({}, config);
    for (const [h, w] of [[1, 1], [3, 5], [1, 2000], [2000, 1]] as Size[]) {
      const out = preprocessLlavaNext(image(h, w), pre, 4);
      expect(out.views.length).toBe(1 + out.rows * out.cols);
      expect(out.rows * out.cols).toBeLessThanOrEqual(4);
      for (const v of out.views) expect(v.length).toBe(3 * TILE * TILE);
      expect(out.tokens).toBe(imageTokenCount([h, w], PINPOINTS, TILE, 4));
    }
  });

  it('refuses pinpoints that are not multiples of the tile, a crop size other than the tower, and a prompt whose images do not match', () => {
    expect(() => parseLlavaNextPreprocessor({ image_grid_pinpoints: [[32, 50]] }, config)).toThrow(/multiples of 32/);
    expect(() => parseLlavaNextPreprocessor({ crop_size: { height: 336, width: 336 } }, config)).toThrow(/image_size 32/);
    expect(() => expandLlavaNextPrompt('<image> and <image>', [{ tokens: 3 }])).toThrow(/2 <image> tokens but 1 image/);
    expect(expandLlavaNextPrompt('a <image>\nb', [{ tokens: 3 }])).toBe('a <image><image><image>\nb');
  });
});
