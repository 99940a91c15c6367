/**
 * The detector's input, prepared as PP-OCR's DetResizeForTest and
 * NormalizeImage do: resize by PP-OCR's policy (below), round both sides to
 * multiples of 32 (the network downsamples by 32), scale to 0..1, subtract the
 * ImageNet mean and divide by its std, channels in BGR order (PaddleOCR reads
 * images with OpenCV) and planar (NCHW).
 */
import type { RgbaImage } from './types';

// NormalizeImage in PP-OCR's det configs: ImageNet mean and std, in BGR order here.
const MEAN_BGR = [0.406, 0.456, 0.485] as const;
const STD_BGR = [0.225, 0.224, 0.229] as const;

/**
 * How the page is scaled for the detector. PaddleOCR's DetResizeForTest
 * (ppocr/data/imaug/operators.py, resize_image_type0) has two limit types:
 * 'min' scales the image up until its short side reaches limit_side_len (its
 * default when no size is configured: 736, 'min'), 'max' scales it down until
 * its long side fits (tools/infer/utility.py: det_limit_side_len 960,
 * det_limit_type 'max'). A photo of a page is often small, with an x-height
 * of 6-12 px, where the detector finds nothing; a 150 dpi A4 page is large.
 * So both apply here, in the order PaddleX's text detection uses them
 * (limit_type 'min', then its max_side_limit cap): up to the short-side
 * limit, then down to the long-side cap.
 */
export interface DetResizePolicy {
  /** Scale up until the short side is at least this (DetResizeForTest's default limit_side_len, type 'min'). */
  minSide: number;
  /**
   * Never let the long side pass this. PaddleOCR's 960 is for photos of
   * scenes; a document page at 960 has 9 px capitals, so documents get 1536.
   */
  maxSide: number;
}

export const DEFAULT_DET_RESIZE: DetResizePolicy = { minSide: 736, maxSide: 1536 };

export interface DetInput {
  data: Float32Array;
  /** Network input size (multiples of 32). */
  width: number;
  height: number;
}

/** Output size for a `width` x `height` image under `policy`, each side rounded to a multiple of 32 (at least 32). */
export function detInputSize(width: number, height: number, policy: DetResizePolicy): { width: number; height: number } {
  let scale = Math.max(1, policy.minSide / Math.min(width, height));
  scale = Math.min(scale, policy.maxSide / Math.max(width, height));
  // resize_image_type0 truncates, then rounds to 32 with a floor of 32.
  const round32 = (v: number) => Math.max(32, Math.round(Math.trunc(v * scale) / 32) * 32);
  return { width: round32(width), height: round32(height) };
}

/**
 * Bilinear resize with an area pre-filter: when shrinking by more than 2x,
 * each output pixel averages a grid of bilinear taps, so thin strokes do not
 * vanish between samples.
 */
export function toDetInput(img: RgbaImage, policy: DetResizePolicy): DetInput {
  const { width, height } = detInputSize(img.width, img.height, policy);
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
