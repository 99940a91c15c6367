/**
 * Shared shapes of the OCR pipeline. Coordinates are in page pixels: x to the
 * right, y down, origin at the top-left corner of the image OCR was run on.
 */

export type Point = readonly [number, number];

/** Four corners in order top-left, top-right, bottom-right, bottom-left. */
export type Quad = readonly [Point, Point, Point, Point];

/** Axis-aligned box in page pixels. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface OcrLine {
  text: string;
  /** The axis-aligned bounds of `quad`, in page pixels. */
  box: Box;
  /** The (possibly rotated) detected text region. */
  quad: Quad;
  /** Mean probability of the decoded characters, 0..1. */
  confidence: number;
}

/** An RGBA image, the layout of ImageData (so one can be passed for the other). */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** A probability map (or any single-channel float image), row-major. */
export interface FloatMap {
  width: number;
  height: number;
  data: Float32Array;
}

export function quadBounds(q: Quad): Box {
  const xs = q.map((p) => p[0]);
  const ys = q.map((p) => p[1]);
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}
