/**
 * Recognizer input: each detected quad is cut out straightened (sampled along
 * its own axes, so a rotated line comes out level), scaled to the model's
 * height of 48 with its aspect kept, and normalised as PP-OCR's
 * RecResizeImg does ((v / 255 - 0.5) / 0.5, BGR, planar). A batch is padded
 * on the right with zeros up to its widest crop.
 */
import { sampleRgb } from './det-input';
import type { Point, Quad, RgbaImage } from './types';

export const REC_HEIGHT = 48;
/** Widest crop fed to the recognizer; longer lines are squeezed to fit. */
export const REC_MAX_WIDTH = 2400;

export interface RecCrop {
  /** Planar BGR, REC_HEIGHT x width, normalised to -1..1. */
  data: Float32Array;
  width: number;
}

const dist = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);

/** Width of the straightened crop at the recognizer's height. */
export function recWidth(quad: Quad): number {
  const w = Math.max(dist(quad[0], quad[1]), dist(quad[3], quad[2]));
  const h = Math.max(dist(quad[0], quad[3]), dist(quad[1], quad[2]));
  if (h <= 0) return REC_HEIGHT;
  return Math.min(REC_MAX_WIDTH, Math.max(REC_HEIGHT / 4, Math.ceil((REC_HEIGHT * w) / h)));
}

/**
 * Samples the quad with a bilinear map of the unit square onto its corners
 * (exact for the rectangles the detector gives). When the source is larger
 * than the crop, several taps per output pixel average it down.
 */
export function cropQuad(img: RgbaImage, quad: Quad): RecCrop {
  const width = recWidth(quad);
  const srcH = Math.max(dist(quad[0], quad[3]), dist(quad[1], quad[2]));
  const taps = Math.max(1, Math.ceil(srcH / REC_HEIGHT / 1.5));
  const plane = REC_HEIGHT * width;
  const data = new Float32Array(3 * plane);
  const [tl, tr, br, bl] = quad;
  const px = new Float32Array(3);
  for (let y = 0; y < REC_HEIGHT; y++) {
    for (let x = 0; x < width; x++) {
      px.fill(0);
      for (let ty = 0; ty < taps; ty++) {
        const v = (y + (ty + 0.5) / taps) / REC_HEIGHT;
        for (let tx = 0; tx < taps; tx++) {
          const u = (x + (tx + 0.5) / taps) / width;
          const sx = (1 - v) * ((1 - u) * tl[0] + u * tr[0]) + v * ((1 - u) * bl[0] + u * br[0]);
          const sy = (1 - v) * ((1 - u) * tl[1] + u * tr[1]) + v * ((1 - u) * bl[1] + u * br[1]);
          sampleRgb(img, sx - 0.5, sy - 0.5, px, 1 / (taps * taps));
        }
      }
      const o = y * width + x;
      for (let c = 0; c < 3; c++) data[c * plane + o] = (px[2 - c] as number) / 127.5 - 1;
    }
  }
  return { data, width };
}

/** Stacks crops into one [n, 3, 48, maxWidth] tensor, zero-padded on the right. */
export function batchCrops(crops: readonly RecCrop[]): { data: Float32Array; width: number } {
  const width = Math.max(...crops.map((c) => c.width));
  const plane = REC_HEIGHT * width;
  const data = new Float32Array(crops.length * 3 * plane);
  crops.forEach((crop, n) => {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < REC_HEIGHT; y++) {
        const src = crop.data.subarray(c * REC_HEIGHT * crop.width + y * crop.width, c * REC_HEIGHT * crop.width + (y + 1) * crop.width);
        data.set(src, (n * 3 + c) * plane + y * width);
      }
    }
  });
  return { data, width };
}
