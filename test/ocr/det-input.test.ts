import { describe, expect, it } from 'vitest';
import { DEFAULT_DET_RESIZE, detInputSize, toDetInput } from '../../src/ocr/det-input';

const policy = DEFAULT_DET_RESIZE;
const mult32 = (s: { width: number; height: number }) => s.width % 32 === 0 && s.height % 32 === 0;

describe('detector resize policy (PP-OCR DetResizeForTest: short side up to its limit, long side capped, multiples of 32)', () => {
  it('upscales a small photo so its short side reaches the limit, keeping the aspect', () => {
    // The 384x191 book photo: x-height 8 px becomes about 30 px for the detector.
    const s = detInputSize(384, 191, policy);
    expect(s.height).toBe(736);
    expect(s.width).toBe(1472);
    expect(mult32(s)).toBe(true);
  });

  it('leaves a page whose short side is already past the limit at its own scale (rounded to 32)', () => {
    expect(detInputSize(1000, 800, policy)).toEqual({ width: 992, height: 800 });
  });

  it('caps the long side of a tall page even when its short side is under the limit', () => {
    const s = detInputSize(300, 3000, policy);
    expect(s.height).toBe(policy.maxSide);
    expect(s.width).toBe(160); // 300 * 1536 / 3000 = 153.6 -> 160
    expect(mult32(s)).toBe(true);
  });

  it('caps the long side of a wide strip and keeps at least 32 px across', () => {
    const s = detInputSize(5000, 40, policy);
    expect(s.width).toBe(policy.maxSide);
    expect(s.height).toBe(32);
  });

  it('scales a huge page down to the cap (an A4 scan at 300 dpi)', () => {
    const s = detInputSize(2480, 3508, policy);
    expect(s.height).toBe(policy.maxSide);
    expect(s.width).toBe(1088); // 2480 * 1536 / 3508 = 1085.9 -> 1088
  });

  it('keeps a 150 dpi A4 page at the cap it had before (no upscaling)', () => {
    expect(detInputSize(1240, 1754, policy)).toEqual({ width: 1088, height: 1536 });
  });

  it('fills the input with the normalised pixels of the resized page', () => {
    const img = { width: 40, height: 20, data: new Uint8ClampedArray(40 * 20 * 4).fill(255) };
    const input = toDetInput(img, { minSide: 64, maxSide: 256 });
    expect(input.width * input.height * 3).toBe(input.data.length);
    expect([input.width, input.height]).toEqual([128, 64]);
    // White in BGR plane 0: (1 - 0.406) / 0.225.
    expect(input.data[0]).toBeCloseTo((1 - 0.406) / 0.225, 5);
  });
});
