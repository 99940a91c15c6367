/** Independent readers of generated images: they look only at pixels, never at the generator's own label maps. */
import { GLYPH_HEIGHT, GLYPH_WIDTH } from '../../src/data/font-glyphs';
import { FONT_CHARS, glyph, glyphAdvance } from '../../src/data/font';
import type { Box, Raster, Rgb } from '../../src/data/raster';
import { getPixel, sameRgb } from '../../src/data/raster';

export interface Component {
  readonly colour: Rgb;
  readonly box: Box;
  readonly pixels: number;
}

/**
 * 4-connected regions of pixels that `isForeground` accepts and that share one
 * exact colour. Objects keep a gap of background between them, so each object
 * should come out as exactly one region.
 */
export function components(r: Raster, isForeground: (c: Rgb) => boolean): Component[] {
  const seen = new Uint8Array(r.width * r.height);
  const out: Component[] = [];
  for (let start = 0; start < seen.length; start++) {
    if (seen[start]) continue;
    const colour = getPixel(r, start % r.width, Math.floor(start / r.width));
    if (!isForeground(colour)) continue;
    let box = { x1: r.width, y1: r.height, x2: 0, y2: 0 };
    let pixels = 0;
    const stack = [start];
    seen[start] = 1;
    while (stack.length > 0) {
      const p = stack.pop() as number;
      const x = p % r.width;
      const y = Math.floor(p / r.width);
      pixels++;
      box = { x1: Math.min(box.x1, x), y1: Math.min(box.y1, y), x2: Math.max(box.x2, x + 1), y2: Math.max(box.y2, y + 1) };
      for (const [nx, ny] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]] as const) {
        if (nx < 0 || ny < 0 || nx >= r.width || ny >= r.height) continue;
        const q = ny * r.width + nx;
        if (!seen[q] && sameRgb(getPixel(r, nx, ny), colour)) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
    out.push({ colour, box, pixels });
  }
  return out;
}

/** The glyph whose bitmap exactly matches the ink at cell (x, y), or '?' when none does. */
export function readCell(r: Raster, x: number, y: number, scale: number, ink: Rgb): string {
  const bits = new Uint8Array(GLYPH_WIDTH * GLYPH_HEIGHT);
  for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
    for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
      // Every pixel of the scale x scale block must agree, or the block is not one glyph pixel.
      let inked = 0;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) inked += sameRgb(getPixel(r, x + gx * scale + dx, y + gy * scale + dy), ink) ? 1 : 0;
      }
      if (inked !== 0 && inked !== scale * scale) return '?';
      bits[gy * GLYPH_WIDTH + gx] = inked > 0 ? 1 : 0;
    }
  }
  return FONT_CHARS.find((ch) => glyph(ch).every((b, i) => b === bits[i])) ?? '?';
}

/** Reads n glyph cells left to right from (x, y). */
export function readText(r: Raster, x: number, y: number, scale: number, ink: Rgb, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += readCell(r, x + i * glyphAdvance(scale), y, scale, ink);
  return s;
}

/** Largest per-channel difference. */
export function rgbDistance(a: Rgb, b: Rgb): number {
  return Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]), Math.abs(a[2] - b[2]));
}

/** An object recognised from pixels alone: colour by exact palette value, shape by exact mask match. */
export interface SeenObject {
  readonly colour: string;
  readonly shape: string;
  readonly side: number;
  readonly box: Box;
}

export interface SceneLook {
  readonly background: Rgb;
  readonly noise: number;
  readonly palette: Readonly<Record<string, Rgb>>;
  readonly masks: readonly { shape: string; side: number; bits: Uint8Array; bounds: Box }[];
}

/** The component's pixels, row-major over its box, as 0/1. */
function footprint(r: Raster, box: Box, colour: Rgb): Uint8Array {
  const w = box.x2 - box.x1;
  const out = new Uint8Array(w * (box.y2 - box.y1));
  for (let y = box.y1; y < box.y2; y++) {
    for (let x = box.x1; x < box.x2; x++) out[(y - box.y1) * w + (x - box.x1)] = sameRgb(getPixel(r, x, y), colour) ? 1 : 0;
  }
  return out;
}

function maskMatches(m: SceneLook['masks'][number], box: Box, seen: Uint8Array): boolean {
  const w = box.x2 - box.x1;
  const h = box.y2 - box.y1;
  if (m.bounds.x2 - m.bounds.x1 !== w || m.bounds.y2 - m.bounds.y1 !== h) return false;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if ((m.bits[(y + m.bounds.y1) * m.side + x + m.bounds.x1] ?? 0) !== seen[y * w + x]) return false;
    }
  }
  return true;
}

/** Every object in a scene image, found by flood fill and named by palette and mask lookups; throws on anything unrecognised. */
export function lookAtScene(r: Raster, look: SceneLook): SeenObject[] {
  const found = components(r, (c) => rgbDistance(c, look.background) > look.noise);
  return found.map((f) => {
    const colour = Object.keys(look.palette).find((k) => sameRgb(look.palette[k] as Rgb, f.colour));
    if (!colour) throw new Error(`unknown colour ${f.colour.join(',')} at ${JSON.stringify(f.box)}`);
    const seen = footprint(r, f.box, f.colour);
    const shapes = look.masks.filter((m) => maskMatches(m, f.box, seen));
    if (shapes.length !== 1) throw new Error(`${shapes.length} shapes match the ${colour} object at ${JSON.stringify(f.box)}`);
    const m = shapes[0] as SceneLook['masks'][number];
    return { colour, shape: m.shape, side: m.side, box: f.box };
  });
}
