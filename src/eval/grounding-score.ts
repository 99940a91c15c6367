/**
 * Grounding scored as tools/train/eval.py's box_hits does: each gold box is
 * found when a predicted box of the same name overlaps it with IoU > 0.5, the
 * first such prediction in order being used up by it. Boxes are read with the
 * app's own parser (src/models/grounding.ts) in Qwen's 0..1000 frame, so a
 * Qwen2-VL or Florence-2 answer scores against the synthetic gold as well.
 */
import type { GroundedObject, GroundingFormat, PixelBox } from '../models/grounding';
import { detectGroundingFormat, iou, parseGrounding } from '../models/grounding';

/** Qwen-VL and Qwen2-VL write 0..1000 per axis: as an image of this size the parsed boxes keep those numbers. */
const FRAME = { width: 1000, height: 1000 };

export const IOU_THRESHOLD = 0.5;

interface NamedBox {
  name: string;
  box: PixelBox;
}

/**
 * The complete boxes of an answer; boxes built from cut-off or malformed text
 * are dropped, as eval.py's strict pattern never matches them. The parser
 * still reads a little more than that pattern (spaces, corners in either order).
 */
export function scoredBoxes(text: string, format: GroundingFormat | null = detectGroundingFormat(text)): NamedBox[] {
  return parseGrounding(text, FRAME, format)
    .filter((o: GroundedObject) => !o.partial && o.polygon === undefined)
    .map((o) => ({ name: o.label, box: o.box }));
}

export interface BoxHits {
  /** Gold boxes found. */
  hits: number;
  /** Gold boxes in all. */
  boxes: number;
}

export function boxHits(pred: string, gold: string): BoxHits {
  const predicted = scoredBoxes(pred);
  const wanted = scoredBoxes(gold);
  let hits = 0;
  for (const g of wanted) {
    const j = predicted.findIndex((p) => p.name === g.name && iou(p.box, g.box) > IOU_THRESHOLD);
    if (j < 0) continue;
    hits++;
    predicted.splice(j, 1);
  }
  return { hits, boxes: wanted.length };
}
