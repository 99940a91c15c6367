/**
 * Text images for OCR: one short word or number on a plain or noisy
 * background, drawn large enough to read at the base resolution.
 */
import type { TextRun } from './font';
import { drawText, textHeight, textWidth } from './font';
import { COLOUR_RGB, inkFor } from './palette';
import type { Rng } from './random';
import type { Raster } from './raster';
import type { SceneBackground } from './scenes';
import { drawBackground, paintBackground } from './scenes';
import type { ColourName, HeldOutMode } from './vocabulary';
import { allowedColours } from './vocabulary';
import { SHORT_WORDS } from './words';

export interface TextMeta {
  readonly kind: 'text';
  readonly width: number;
  readonly height: number;
  readonly background: SceneBackground;
  readonly text: string;
  /** A palette colour, or 'ink' (near-black on light, near-white on dark backgrounds). */
  readonly colour: ColourName | 'ink';
  readonly run: TextRun;
}

export interface TextImage {
  readonly raster: Raster;
  readonly meta: TextMeta;
}

export interface TextImageOptions {
  readonly width: number;
  readonly height: number;
  readonly heldOut: HeldOutMode;
  readonly noisyChance: number;
}

export const DEFAULT_TEXT_OPTIONS: TextImageOptions = { width: 64, height: 64, heldOut: 'exclude', noisyChance: 0.3 };

const EDGE = 2;
const SCALES = [2, 3] as const;

function drawWord(rng: Rng): string {
  const w = rng.pick(SHORT_WORDS);
  const style = rng.int(0, 2);
  if (style === 0) return w;
  if (style === 1) return w.toUpperCase();
  return w.charAt(0).toUpperCase() + w.slice(1);
}

function drawNumber(rng: Rng): string {
  const digits = rng.int(1, 5);
  const lo = digits === 1 ? 0 : 10 ** (digits - 1);
  return String(rng.int(lo, 10 ** digits - 1));
}

/** A word or number, with a scale at which it fits; null when it fits at no scale. */
function chooseText(rng: Rng, width: number, height: number): { text: string; scale: number } | null {
  const text = rng.chance(0.6) ? drawWord(rng) : drawNumber(rng);
  const fits = SCALES.filter((s) => textWidth(text, s) <= width - 2 * EDGE && textHeight(s) <= height - 2 * EDGE);
  return fits.length === 0 ? null : { text, scale: rng.pick(fits) };
}

export function generateTextImage(rng: Rng, options: Partial<TextImageOptions> = {}): TextImage {
  const o = { ...DEFAULT_TEXT_OPTIONS, ...options };
  let drawn = chooseText(rng, o.width, o.height);
  while (!drawn) drawn = chooseText(rng, o.width, o.height);
  const background = drawBackground(rng, o.noisyChance);
  const colour: ColourName | 'ink' = rng.chance(0.5) ? 'ink' : rng.pick(allowedColours(o.heldOut));
  const rgb = colour === 'ink' ? inkFor(background.colour) : COLOUR_RGB[colour];
  const x = rng.int(EDGE, o.width - EDGE - textWidth(drawn.text, drawn.scale));
  const y = rng.int(EDGE, o.height - EDGE - textHeight(drawn.scale));
  const run: TextRun = { text: drawn.text, x, y, scale: drawn.scale, colour: rgb };

  const raster = paintBackground(o.width, o.height, background);
  drawText(raster, run);
  return {
    raster,
    meta: { kind: 'text', width: o.width, height: o.height, background, text: drawn.text, colour, run },
  };
}
