/**
 * Boxes in Qwen-VL's text form: `<ref>red circle</ref><box>(x1,y1),(x2,y2)</box>`
 * with coordinates scaled to integers in 0..1000 of the image's width and
 * height. The left/top edge rounds down and the right/bottom edge up, so the
 * written box always covers every pixel of the object.
 */
import type { Box } from '../raster';

export type NormalisedBox = readonly [number, number, number, number];

export const BOX_SCALE = 1000;

export function normaliseBox(b: Box, width: number, height: number): NormalisedBox {
  const clamp = (v: number): number => Math.min(BOX_SCALE, Math.max(0, v));
  return [
    clamp(Math.floor((b.x1 * BOX_SCALE) / width)),
    clamp(Math.floor((b.y1 * BOX_SCALE) / height)),
    clamp(Math.ceil((b.x2 * BOX_SCALE) / width)),
    clamp(Math.ceil((b.y2 * BOX_SCALE) / height)),
  ];
}

/** Back to pixels (end-exclusive), widened to whole pixels: the smallest pixel box inside which the normalised one lies. */
export function denormaliseBox(n: NormalisedBox, width: number, height: number): Box {
  return {
    x1: Math.floor((n[0] * width) / BOX_SCALE),
    y1: Math.floor((n[1] * height) / BOX_SCALE),
    x2: Math.ceil((n[2] * width) / BOX_SCALE),
    y2: Math.ceil((n[3] * height) / BOX_SCALE),
  };
}

export function formatBox(n: NormalisedBox): string {
  return `<box>(${n[0]},${n[1]}),(${n[2]},${n[3]})</box>`;
}

export function formatGrounding(ref: string, n: NormalisedBox): string {
  return `<ref>${ref}</ref>${formatBox(n)}`;
}

export interface Grounding {
  readonly ref: string;
  readonly box: NormalisedBox;
}

const GROUNDING_RE = /<ref>([^<]*)<\/ref><box>\((\d+),(\d+)\),\((\d+),(\d+)\)<\/box>/g;

/** Every well-formed `<ref>..</ref><box>..</box>` pair in a model's answer, in order; anything else is skipped. */
export function parseGroundings(text: string): Grounding[] {
  const out: Grounding[] = [];
  for (const m of text.matchAll(GROUNDING_RE)) {
    const [, ref = '', a = '0', b = '0', c = '0', d = '0'] = m;
    out.push({ ref, box: [Number(a), Number(b), Number(c), Number(d)] });
  }
  return out;
}

/** Intersection over union of two boxes in the same coordinates (end-exclusive). */
export function boxIou(a: NormalisedBox, b: NormalisedBox): number {
  const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = iw * ih;
  const area = (n: NormalisedBox): number => Math.max(0, n[2] - n[0]) * Math.max(0, n[3] - n[1]);
  const union = area(a) + area(b) - inter;
  return union === 0 ? 0 : inter / union;
}
