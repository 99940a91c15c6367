/**
 * What cameras and scanners do to a page, as pixel operations on an RGBA
 * image: a perspective or rotated view of the flat page (a homography, sampled
 * back from a supersampled render), uneven light and a cast shadow, lens or
 * motion blur, and sensor noise. Every random choice comes from the caller's
 * seeded Rng, so a page is the same in every run.
 */
import type { Rng } from '../data/random';
import type { Point, RgbaImage } from '../ocr/types';

/** 3x3 projective map, row-major, h[8] = 1. */
export type Homography = readonly number[];

/** The map sending src[i] to dst[i] (four point pairs), by solving the 8x8 system. */
export function homography(src: readonly Point[], dst: readonly Point[]): Homography {
  const a: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = src[i] as Point;
    const [u, v] = dst[i] as Point;
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u]);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  }
  // Gaussian elimination with partial pivoting on the augmented matrix.
  for (let c = 0; c < 8; c++) {
    let p = c;
    for (let r = c + 1; r < 8; r++) if (Math.abs((a[r] as number[])[c] as number) > Math.abs((a[p] as number[])[c] as number)) p = r;
    [a[c], a[p]] = [a[p] as number[], a[c] as number[]];
    const row = a[c] as number[];
    for (let r = 0; r < 8; r++) {
      if (r === c) continue;
      const other = a[r] as number[];
      const f = (other[c] as number) / (row[c] as number);
      for (let k = c; k < 9; k++) other[k] = (other[k] as number) - f * (row[k] as number);
    }
  }
  return [...a.map((r, i) => (r[8] as number) / (r[i] as number)), 1];
}

export function applyHomography(h: Homography, x: number, y: number): Point {
  const w = (h[6] as number) * x + (h[7] as number) * y + 1;
  return [((h[0] as number) * x + (h[1] as number) * y + (h[2] as number)) / w, ((h[3] as number) * x + (h[4] as number) * y + (h[5] as number)) / w];
}

/**
 * The page as a camera sees it: `src` is the flat page rendered `scale` times
 * larger than the output; `corners` are where the page's corners land in an
 * output of `width` x `height` (outside the page is `background`). Each output
 * pixel averages scale x scale bilinear taps of the source.
 */
export function warpPage(src: RgbaImage, scale: number, corners: readonly Point[], width: number, height: number, background: number): RgbaImage {
  const pw = src.width / scale;
  const ph = src.height / scale;
  const inv = homography(corners, [[0, 0], [pw, 0], [pw, ph], [0, ph]]);
  const data = new Uint8ClampedArray(width * height * 4);
  const taps = Math.max(1, Math.round(scale));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const acc = [0, 0, 0];
      for (let ty = 0; ty < taps; ty++) {
        for (let tx = 0; tx < taps; tx++) {
          const [u, v] = applyHomography(inv, x + (tx + 0.5) / taps, y + (ty + 0.5) / taps);
          const sx = u * scale - 0.5;
          const sy = v * scale - 0.5;
          for (let c = 0; c < 3; c++) acc[c] = (acc[c] as number) + (u < 0 || v < 0 || u > pw || v > ph ? background : bilinear(src, sx, sy, c));
        }
      }
      const o = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) data[o + c] = (acc[c] as number) / (taps * taps);
      data[o + 3] = 255;
    }
  }
  return { width, height, data };
}

function bilinear(img: RgbaImage, sx: number, sy: number, c: number): number {
  const x = Math.min(img.width - 1, Math.max(0, sx));
  const y = Math.min(img.height - 1, Math.max(0, sy));
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const x1 = Math.min(img.width - 1, x0 + 1);
  const y1 = Math.min(img.height - 1, y0 + 1);
  const ax = x - x0;
  const ay = y - y0;
  const at = (px: number, py: number) => img.data[(py * img.width + px) * 4 + c] as number;
  return (at(x0, y0) * (1 - ax) + at(x1, y0) * ax) * (1 - ay) + (at(x0, y1) * (1 - ax) + at(x1, y1) * ax) * ay;
}

/**
 * Uneven light: brightness falls linearly by `gradient` across the page in a
 * random direction, and a soft-edged shadow (light kept: `shadow`, 0..1) covers
 * the part beyond a random line, as a hand or a phone does over a book.
 */
export function lightAndShadow(img: RgbaImage, rng: Rng, gradient: number, shadow: number): void {
  const { width, height, data } = img;
  const ga = rng.uniform(0, 2 * Math.PI);
  const [gx, gy] = [Math.cos(ga), Math.sin(ga)];
  // The shadow covers the right and lower part, its edge at a slant through a point inside the page.
  const sa = rng.uniform(Math.PI / 8, (3 * Math.PI) / 8);
  const [nx, ny] = [Math.cos(sa), Math.sin(sa)];
  const edge = rng.uniform(0.45, 0.7) * (nx * width + ny * height);
  const soft = Math.max(4, 0.06 * Math.min(width, height));
  const diag = Math.hypot(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = ((x - width / 2) * gx + (y - height / 2) * gy) / diag + 0.5;
      const s = 1 / (1 + Math.exp(-(x * nx + y * ny - edge) / (soft / 4)));
      const f = (1 - gradient * t) * (1 - (1 - shadow) * s);
      const o = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) data[o + c] = (data[o + c] as number) * f;
    }
  }
}

/** Separable Gaussian blur of the RGB channels, edges clamped. */
export function gaussianBlur(img: RgbaImage, sigma: number): void {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  const kernel = k.map((v) => v / sum);
  const { width, height, data } = img;
  const tmp = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let i = -r; i <= r; i++) acc += (kernel[i + r] as number) * (data[(y * width + Math.min(width - 1, Math.max(0, x + i))) * 4 + c] as number);
        tmp[(y * width + x) * 3 + c] = acc;
      }
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let i = -r; i <= r; i++) acc += (kernel[i + r] as number) * (tmp[(Math.min(height - 1, Math.max(0, y + i)) * width + x) * 3 + c] as number);
        data[(y * width + x) * 4 + c] = acc;
      }
    }
  }
}

/** Gaussian sensor noise of standard deviation `sigma` (grey levels), the same in the three channels. */
export function addNoise(img: RgbaImage, rng: Rng, sigma: number): void {
  const { data } = img;
  for (let o = 0; o < data.length; o += 4) {
    // Box-Muller.
    const n = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next()) * sigma;
    for (let c = 0; c < 3; c++) data[o + c] = (data[o + c] as number) + n;
  }
}
