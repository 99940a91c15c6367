import { describe, expect, it } from 'vitest';
import { DEFAULT_DET_POST, detectBoxes, dilate2x2, regionOutlines, type DetectedBox } from '../../src/ocr/det-postprocess';
import { expandRect, minAreaRect, rectCorners } from '../../src/ocr/geometry';
import { quadBounds, type FloatMap, type Point } from '../../src/ocr/types';

function emptyMap(width: number, height: number): FloatMap {
  return { width, height, data: new Float32Array(width * height).fill(0.02) };
}

/** Paints probability p on pixels whose centres are inside the rotated rectangle. */
function paintRect(map: FloatMap, cx: number, cy: number, w: number, h: number, angle: number, p: number): void {
  const [ux, uy] = [Math.cos(angle), Math.sin(angle)];
  for (let y = 0; y < map.height; y++)
    for (let x = 0; x < map.width; x++) {
      const dx = x + 0.5 - cx;
      const dy = y + 0.5 - cy;
      if (Math.abs(dx * ux + dy * uy) <= w / 2 && Math.abs(-dx * uy + dy * ux) <= h / 2) map.data[y * map.width + x] = p;
    }
}

describe('detector post-processing', () => {
  it('finds one axis-aligned kernel and expands it by area * ratio / perimeter', () => {
    const map = emptyMap(64, 32);
    paintRect(map, 30, 16, 40, 6, 0, 0.9);
    const boxes = detectBoxes(map, 64, 32);
    expect(boxes).toHaveLength(1);
    const d = (40 * 6 * DEFAULT_DET_POST.unclipRatio) / (2 * (40 + 6));
    const b = quadBounds((boxes[0] as DetectedBox).quad);
    expect(b.x).toBeCloseTo(10 - d, 5);
    expect(b.width).toBeCloseTo(40 + 2 * d, 5);
    expect(b.y).toBeCloseTo(13 - d, 5);
    expect(b.height).toBeCloseTo(6 + 2 * d, 5);
    expect((boxes[0] as DetectedBox).score).toBeCloseTo(0.9, 5);
  });

  it('scales boxes from map pixels to page pixels per axis', () => {
    const map = emptyMap(64, 32);
    paintRect(map, 30, 16, 40, 6, 0, 0.9);
    const [a] = detectBoxes(map, 64, 32) as [DetectedBox];
    const [b] = detectBoxes(map, 128, 96) as [DetectedBox];
    const ba = quadBounds(a.quad);
    const bb = quadBounds(b.quad);
    expect(bb.x).toBeCloseTo(ba.x * 2, 5);
    expect(bb.width).toBeCloseTo(ba.width * 2, 5);
    expect(bb.y).toBeCloseTo(ba.y * 3, 5);
    expect(bb.height).toBeCloseTo(ba.height * 3, 5);
  });

  it('keeps separate lines apart and drops weak or tiny regions', () => {
    const map = emptyMap(100, 60);
    paintRect(map, 40, 10, 60, 8, 0, 0.95);
    paintRect(map, 40, 30, 60, 8, 0, 0.95);
    paintRect(map, 40, 50, 60, 8, 0, 0.45); // above the pixel threshold, below the box threshold
    paintRect(map, 90, 50, 2, 2, 0, 0.99); // smaller than minSize
    const boxes = detectBoxes(map, 100, 60);
    expect(boxes).toHaveLength(2);
    const ys = boxes.map((b) => quadBounds(b.quad).y + quadBounds(b.quad).height / 2).sort((p, q) => p - q);
    expect(ys[0]).toBeCloseTo(10, 0);
    expect(ys[1]).toBeCloseTo(30, 0);
  });

  it('follows a rotated line with a rotated box', () => {
    const map = emptyMap(120, 120);
    const angle = (15 * Math.PI) / 180;
    paintRect(map, 60, 60, 80, 10, angle, 0.9);
    const [box] = detectBoxes(map, 120, 120) as [DetectedBox];
    const [tl, tr] = box.quad;
    const got = Math.atan2(tr[1] - tl[1], tr[0] - tl[0]);
    expect(Math.abs(got - angle)).toBeLessThan(0.05);
    // Reading direction: top-left is left of top-right and above bottom-left.
    expect(tl[0]).toBeLessThan(tr[0]);
    expect(tl[1]).toBeLessThan(box.quad[3][1]);
  });

  it('joins diagonal neighbours into one region (8-connectivity)', () => {
    const mask = new Uint8Array([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
    expect(regionOutlines(mask, 4, 4)).toHaveLength(2);
  });
});

describe('box geometry', () => {
  it('minimum-area rectangle of a rotated rectangle recovers its size and angle', () => {
    const r = { cx: 50, cy: 40, width: 60, height: 12, angle: 0.3 };
    const pts = rectCorners(r) as readonly Point[];
    const got = minAreaRect(pts);
    expect(got.width).toBeCloseTo(60, 6);
    expect(got.height).toBeCloseTo(12, 6);
    expect(got.angle).toBeCloseTo(0.3, 6);
    expect(got.cx).toBeCloseTo(50, 6);
  });

  it('a tall rectangle is reported with its long side as height (text is read along the width axis near horizontal)', () => {
    const got = minAreaRect([[0, 0], [10, 0], [10, 50], [0, 50]]);
    expect(Math.abs(got.angle)).toBeLessThan(1e-9);
    expect(got.width).toBeCloseTo(10, 9);
    expect(got.height).toBeCloseTo(50, 9);
  });

  it('expansion moves every side out by the same distance', () => {
    const grown = expandRect({ cx: 0, cy: 0, width: 100, height: 10, angle: 0 }, 2);
    const d = (100 * 10 * 2) / 220;
    expect(grown.width).toBeCloseTo(100 + 2 * d, 9);
    expect(grown.height).toBeCloseTo(10 + 2 * d, 9);
  });

  it('dilation (use_dilation) joins kernels a one-pixel gap apart, and grows a pixel right and down', () => {
    const map = emptyMap(64, 32);
    paintRect(map, 15, 16, 20, 6, 0, 0.9);
    paintRect(map, 36, 16, 20, 6, 0, 0.9); // ink x 5..24 and 26..45: column 25 is the gap
    expect(detectBoxes(map, 64, 32)).toHaveLength(2);
    expect(detectBoxes(map, 64, 32, { ...DEFAULT_DET_POST, dilate: true })).toHaveLength(1);
    const dot = new Uint8Array(9);
    dot[4] = 1;
    expect([...dilate2x2(dot, 3, 3)]).toEqual([0, 0, 0, 0, 1, 1, 0, 1, 1]);
  });
});
