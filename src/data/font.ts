/**
 * Text drawing with the embedded bitmap font, scaled by whole numbers so every
 * glyph pixel becomes an exact scale x scale block: the same string at the same
 * place always gives the same pixels.
 */
import { GLYPH_HEIGHT, GLYPH_ROWS, GLYPH_WIDTH } from './font-glyphs';
import type { Box, Raster, Rgb } from './raster';
import { fillRect } from './raster';

/** One blank column between glyphs. */
const ADVANCE = GLYPH_WIDTH + 1;

/** A glyph as GLYPH_HEIGHT x GLYPH_WIDTH bits, row-major. */
export type Glyph = Uint8Array;

function parseGlyph(ch: string, rows: string): Glyph {
  const lines = rows.split(' ');
  if (lines.length < 7 || lines.length > GLYPH_HEIGHT || lines.some((l) => l.length !== GLYPH_WIDTH)) {
    throw new Error(`font: malformed glyph ${JSON.stringify(ch)}`);
  }
  const bits = new Uint8Array(GLYPH_WIDTH * GLYPH_HEIGHT);
  lines.forEach((line, y) => {
    for (let x = 0; x < GLYPH_WIDTH; x++) bits[y * GLYPH_WIDTH + x] = line[x] === '#' ? 1 : 0;
  });
  return bits;
}

const GLYPHS: ReadonlyMap<string, Glyph> = new Map(
  Object.entries(GLYPH_ROWS).map(([ch, rows]) => [ch, parseGlyph(ch, rows)]),
);

/** Every character the font can draw, in table order. */
export const FONT_CHARS: readonly string[] = [...GLYPHS.keys()];

export function hasGlyph(ch: string): boolean {
  return GLYPHS.has(ch);
}

export function glyph(ch: string): Glyph {
  const g = GLYPHS.get(ch);
  if (!g) throw new Error(`font: no glyph for ${JSON.stringify(ch)}`);
  return g;
}

/** Whether every character of the text can be drawn. */
export function canDraw(text: string): boolean {
  return [...text].every(hasGlyph);
}

export function textWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : (text.length * ADVANCE - 1) * scale;
}

export function textHeight(scale: number): number {
  return GLYPH_HEIGHT * scale;
}

/** Horizontal distance between the left edges of neighbouring glyphs. */
export function glyphAdvance(scale: number): number {
  return ADVANCE * scale;
}

/**
 * A line of text as drawn: its top-left corner, integer scale and colour. The
 * metadata keeps runs so a checker (or a trainer) knows exactly where each
 * string is.
 */
export interface TextRun {
  readonly text: string;
  readonly x: number;
  readonly y: number;
  readonly scale: number;
  readonly colour: Rgb;
}

/** The run's cell box: full advance width and the descender row included. */
export function runBox(run: TextRun): Box {
  return {
    x1: run.x,
    y1: run.y,
    x2: run.x + textWidth(run.text, run.scale),
    y2: run.y + textHeight(run.scale),
  };
}

export function drawText(r: Raster, run: TextRun): void {
  if (!Number.isInteger(run.scale) || run.scale < 1) throw new Error(`font: bad scale ${run.scale}`);
  let x = run.x;
  for (const ch of run.text) {
    const g = glyph(ch);
    for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        if (g[gy * GLYPH_WIDTH + gx] !== 1) continue;
        fillRect(r, x + gx * run.scale, run.y + gy * run.scale, run.scale, run.scale, run.colour);
      }
    }
    x += glyphAdvance(run.scale);
  }
}
