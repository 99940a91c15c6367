/**
 * The detector's input, prepared as PP-OCR's DetResizeForTest and
 * NormalizeImage do: resize so the longer side is at most `maxSide` and both
 * sides are multiples of 32 (the network downsamples by 32), scale to 0..1,
 * subtract the ImageNet mean and divide by its std, channels in BGR order
 * (PaddleOCR reads images with OpenCV) and planar (NCHW).
 */
import type { RgbaImage } from './types';

const MEAN_BGR = [0.406, 0.456, 0.485] as const;
const STD_BGR = [0.225, 0.224, 0.229] as const;

export interface DetInput {
  data: Float32Array;
  /** Network input size (multiples of 32). */
  width: number;
  height: number;
}

/** Output size for a `width` x `height` image: scaled down to `maxSide`, rounded to 32. */
export function detInputSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const round32 = (v: number) => Math.max(32, Math.round((v * scale) / 32) * 32);
  return { width: round32(width), height: round32(height) };
}

/**
 * Bilinear resize with an area pre-filter: when shrinking by more than 2x,
 * each output pixel averages a grid of bilinear taps, so thin strokes do not
 * vanish between samples.
 */
export function toDetInput(img: RgbaImage, maxSide: number): DetInput {
  const { width, height } = detInputSize(img.width, img.height, maxSide);
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  const fx = img.width / width;
  const fy = img.height / height;
  const taps = Math.max(1, Math.ceil(Math.max(fx, fy) / 2));
  const px = new Float32Array(3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      px.fill(0);
      for (let ty = 0; ty < taps; ty++) {
        for (let tx = 0; tx < taps; tx++) {
          const sx = (x + (tx + 0.5) / taps) * fx - 0.5;
          const sy = (y + (ty + 0.5) / taps) * fy - 0.5;
          sampleRgb(img, sx, sy, px, 1 / (taps * taps));
        }
      }
      const o = y * width + x;
      for (let c = 0; c < 3; c++) {
        // px is RGB; plane c takes BGR channel c.
        data[c * plane + o] = ((px[2 - c] as number) / 255 - (MEAN_BGR[c] as number)) / (STD_BGR[c] as number);
      }
    }
  }
  return { data, width, height };
}

/** Adds weight * bilinear(img at sx, sy) to acc (RGB), edges clamped. */
export function sampleRgb(img: RgbaImage, sx: number, sy: number, acc: Float32Array, weight: number): void {
  const x = Math.min(img.width - 1, Math.max(0, sx));
  const y = Math.min(img.height - 1, Math.max(0, sy));
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(img.width - 1, x0 + 1);
  const y1 = Math.min(img.height - 1, y0 + 1);
  const ax = x - x0;
  const ay = y - y0;
  const d = img.data;
  const w = img.width;
  for (let c = 0; c < 3; c++) {
    const top = (d[(y0 * w + x0) * 4 + c] as number) * (1 - ax) + (d[(y0 * w + x1) * 4 + c] as number) * ax;
    const bottom = (d[(y1 * w + x0) * 4 + c] as number) * (1 - ax) + (d[(y1 * w + x1) * 4 + c] as number) * ax;
    acc[c] = (acc[c] as number) + weight * (top * (1 - ay) + bottom * ay);
  }
}
