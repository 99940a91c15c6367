/**
 * The detector's probability map -> text boxes, as PP-OCR's DB post-process
 * does it: binarize, take connected regions, fit a minimum-area rectangle to
 * each, drop weak or tiny ones, expand ("unclip") the shrunken kernel back to
 * the text outline, and scale the corners to page pixels.
 */
import { expandRect, minAreaRect, normalizeRect, rectCorners, type RotatedRect } from './geometry';
import type { FloatMap, Point, Quad } from './types';

/** PaddleOCR's DB defaults are in tools/infer/utility.py (det_db_*, use_dilation); the values chosen here say where they differ and why. */
export interface DetPostOptions {
  /** Pixel threshold on the probability map (PaddleOCR det_db_thresh: 0.3). */
  threshold: number;
  /** Minimum mean probability inside a box (PaddleOCR det_db_box_thresh: 0.6). */
  boxThreshold: number;
  /**
   * Outline offset as a multiple of area / perimeter (PaddleOCR
   * det_db_unclip_ratio: 1.5; its serving configs use 1.6). Here 1.8: small
   * pages are now scaled up for the detector, whose kernels then come out a
   * little tighter around the ink, and at 1.5 the crop lost the space in
   * "No. 4711" (test/fixtures/ocr-line.png); 1.6 just brings it back, 1.8
   * gives the line the margin it had before.
   */
  unclipRatio: number;
  /** Grow the binary mask by one pixel (a 2x2 dilation) before taking regions (PaddleOCR use_dilation: False). */
  dilate: boolean;
  /** Boxes whose short side is smaller (in map pixels) are noise. */
  minSize: number;
  /** Stop after this many regions, largest documents included. */
  maxCandidates: number;
}

export const DEFAULT_DET_POST: DetPostOptions = { threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.8, dilate: false, minSize: 3, maxCandidates: 1000 };

export interface DetectedBox {
  quad: Quad;
  /** Mean probability inside the unexpanded rectangle. */
  score: number;
}

export function binarize(map: FloatMap, threshold: number): Uint8Array {
  const out = new Uint8Array(map.width * map.height);
  for (let i = 0; i < out.length; i++) out[i] = (map.data[i] as number) > threshold ? 1 : 0;
  return out;
}

/** The mask dilated by a 2x2 square of ones (OpenCV's anchor: each pixel takes the max of itself, its left, upper and upper-left neighbours). */
export function dilate2x2(mask: Uint8Array, width: number, height: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      out[i] = mask[i] || (x > 0 && mask[i - 1]) || (y > 0 && mask[i - width]) || (x > 0 && y > 0 && mask[i - width - 1]) ? 1 : 0;
    }
  }
  return out;
}

/**
 * 8-connected regions of a binary mask (the connectivity of OpenCV's contour
 * tracing, which PP-OCR uses). Each region is returned as the outline points
 * of its pixels' row extents: the convex hull of a region only depends on
 * those, so a long line costs two points per row instead of its whole area.
 */
export function regionOutlines(mask: Uint8Array, width: number, height: number, maxRegions = Infinity): Point[][] {
  const seen = new Uint8Array(mask.length);
  const stack = new Int32Array(mask.length);
  const regions: Point[][] = [];
  for (let start = 0; start < mask.length && regions.length < maxRegions; start++) {
    if (!mask[start] || seen[start]) continue;
    seen[start] = 1;
    let top = 0;
    stack[top++] = start;
    const rowMin = new Map<number, number>();
    const rowMax = new Map<number, number>();
    while (top > 0) {
      const p = stack[--top] as number;
      const x = p % width;
      const y = (p - x) / width;
      const lo = rowMin.get(y);
      const hi = rowMax.get(y);
      if (lo === undefined || x < lo) rowMin.set(y, x);
      if (hi === undefined || x > hi) rowMax.set(y, x);
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (mask[q] && !seen[q]) {
            seen[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
    const outline: Point[] = [];
    for (const [y, x0] of rowMin) {
      const x1 = (rowMax.get(y) as number) + 1;
      outline.push([x0, y], [x0, y + 1], [x1, y], [x1, y + 1]);
    }
    regions.push(outline);
  }
  return regions;
}

/** Mean of the map over the pixels whose centres fall inside the rectangle. */
export function meanInRect(map: FloatMap, r: RotatedRect): number {
  const ux = Math.cos(r.angle);
  const uy = Math.sin(r.angle);
  const hw = r.width / 2;
  const hh = r.height / 2;
  const reach = Math.abs(hw * ux) + Math.abs(hh * uy) + 1;
  const reachY = Math.abs(hw * uy) + Math.abs(hh * ux) + 1;
  const x0 = Math.max(0, Math.floor(r.cx - reach));
  const x1 = Math.min(map.width - 1, Math.ceil(r.cx + reach));
  const y0 = Math.max(0, Math.floor(r.cy - reachY));
  const y1 = Math.min(map.height - 1, Math.ceil(r.cy + reachY));
  let sum = 0;
  let count = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - r.cx;
      const dy = y + 0.5 - r.cy;
      if (Math.abs(dx * ux + dy * uy) <= hw && Math.abs(-dx * uy + dy * ux) <= hh) {
        sum += map.data[y * map.width + x] as number;
        count++;
      }
    }
  }
  return count === 0 ? 0 : sum / count;
}

/**
 * Boxes in page pixels. `pageWidth` x `pageHeight` is the image the map was
 * computed for (the map is that image resized), so corners scale per axis.
 */
export function detectBoxes(map: FloatMap, pageWidth: number, pageHeight: number, opts: DetPostOptions = DEFAULT_DET_POST): DetectedBox[] {
  const bin = binarize(map, opts.threshold);
  const mask = opts.dilate ? dilate2x2(bin, map.width, map.height) : bin;
  const sx = pageWidth / map.width;
  const sy = pageHeight / map.height;
  const boxes: DetectedBox[] = [];
  for (const outline of regionOutlines(mask, map.width, map.height, opts.maxCandidates)) {
    const rect = minAreaRect(outline);
    if (Math.min(rect.width, rect.height) < opts.minSize) continue;
    const score = meanInRect(map, rect);
    if (score < opts.boxThreshold) continue;
    const grown = normalizeRect(expandRect(rect, opts.unclipRatio));
    if (Math.min(grown.width, grown.height) < opts.minSize + 2) continue;
    const clamp = (p: Point): Point => [
      Math.min(pageWidth, Math.max(0, p[0] * sx)),
      Math.min(pageHeight, Math.max(0, p[1] * sy)),
    ];
    const [a, b, c, d] = rectCorners(grown);
    boxes.push({ quad: [clamp(a), clamp(b), clamp(c), clamp(d)], score });
  }
  return boxes;
}
