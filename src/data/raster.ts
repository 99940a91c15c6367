/**
 * An 8-bit RGB image and the few drawing operations the generators need.
 * Everything works on whole pixels with integer colours, so the same calls
 * give the same bytes in Node and in every browser (no canvas, no
 * anti-aliasing, no floating-point blending).
 */

export type Rgb = readonly [number, number, number];

export interface Raster {
  readonly width: number;
  readonly height: number;
  /** Row-major RGB, 3 bytes per pixel, no padding. */
  readonly data: Uint8Array;
}

/** A pixel rectangle: x1 <= x < x2, y1 <= y < y2 (end-exclusive, like slices). */
export interface Box {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export function createRaster(width: number, height: number, fill: Rgb = [0, 0, 0]): Raster {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`createRaster: bad size ${width}x${height}`);
  }
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) {
    data[i] = fill[0];
    data[i + 1] = fill[1];
    data[i + 2] = fill[2];
  }
  return { width, height, data };
}

export function cloneRaster(r: Raster): Raster {
  return { width: r.width, height: r.height, data: r.data.slice() };
}

export function inBounds(r: Raster, x: number, y: number): boolean {
  return x >= 0 && y >= 0 && x < r.width && y < r.height;
}

export function getPixel(r: Raster, x: number, y: number): Rgb {
  const i = (y * r.width + x) * 3;
  return [r.data[i] ?? 0, r.data[i + 1] ?? 0, r.data[i + 2] ?? 0];
}

/** Pixels outside the raster are ignored, so shapes may be clipped by the edge. */
export function setPixel(r: Raster, x: number, y: number, c: Rgb): void {
  if (!inBounds(r, x, y)) return;
  const i = (y * r.width + x) * 3;
  r.data[i] = c[0];
  r.data[i + 1] = c[1];
  r.data[i + 2] = c[2];
}

export function sameRgb(a: Rgb, b: Rgb): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}

export function fillRect(r: Raster, x: number, y: number, w: number, h: number, c: Rgb): void {
  for (let yy = y; yy < y + h; yy++) {
    for (let xx = x; xx < x + w; xx++) setPixel(r, xx, yy, c);
  }
}

/** A 1-pixel outline lying inside the w x h rectangle. */
export function strokeRect(r: Raster, x: number, y: number, w: number, h: number, c: Rgb): void {
  fillRect(r, x, y, w, 1, c);
  fillRect(r, x, y + h - 1, w, 1, c);
  fillRect(r, x, y, 1, h, c);
  fillRect(r, x + w - 1, y, 1, h, c);
}

/** Bresenham's line: integer steps only, both end points included. */
export function drawLine(r: Raster, x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
  const dx = Math.abs(x1 - x0);
  const dy = -Math.abs(y1 - y0);
  const sx = x0 < x1 ? 1 : -1;
  const sy = y0 < y1 ? 1 : -1;
  let err = dx + dy;
  let x = x0;
  let y = y0;
  for (;;) {
    setPixel(r, x, y, c);
    if (x === x1 && y === y1) return;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y += sy;
    }
  }
}

/**
 * Adds independent uniform integer noise in [-amplitude, amplitude] to every
 * channel of every pixel, clamped to 0..255. The noise has its own generator
 * so two images can share a background exactly (the comparison task).
 */
export function addNoise(r: Raster, amplitude: number, next: () => number): void {
  if (amplitude <= 0) return;
  const span = 2 * amplitude + 1;
  for (let i = 0; i < r.data.length; i++) {
    const v = (r.data[i] ?? 0) + Math.floor(next() * span) - amplitude;
    r.data[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
}

export function boxWidth(b: Box): number {
  return b.x2 - b.x1;
}

export function boxHeight(b: Box): number {
  return b.y2 - b.y1;
}

/** True when the boxes, each grown by `gap` pixels on every side, share a pixel. */
export function boxesTouch(a: Box, b: Box, gap = 0): boolean {
  return a.x1 - gap < b.x2 && b.x1 - gap < a.x2 && a.y1 - gap < b.y2 && b.y1 - gap < a.y2;
}
