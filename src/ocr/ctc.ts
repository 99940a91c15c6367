/**
 * Greedy CTC decoding: take the best class at every time step, merge runs of
 * the same class, drop blanks. The line's confidence is the mean probability
 * of the characters kept, as PaddleOCR reports it (inferred spaces left out).
 *
 * Spaces get one extra rule. The PP-OCRv4 recognizer learned mostly from
 * Chinese, where spaces are rare, so at a word gap in Latin text the space
 * class often peaks well above its background (~0.001) without beating the
 * blank. A gap between two characters whose space probability reaches
 * `spaceThreshold` therefore becomes one space.
 */
import { CTC_BLANK } from './charset';

export interface Decoded {
  text: string;
  confidence: number;
}

export interface CtcOptions {
  /** Class index of the space (PaddleOCR appends it last). */
  spaceIndex: number;
  /** Space probability within a gap that makes it a word break. */
  spaceThreshold: number;
}

/**
 * 20x the background. Measured with `npm run bench:ocr` (memo seeds 100 and 300, form seeds 5 and 100):
 * 0.2 lost word gaps on some pages (CER up to 6.4% on one page), 0.05 kept most, 0.02 all of them (the
 * remaining errors are o/0 confusions, not spaces).
 */
export const SPACE_THRESHOLD = 0.02;

function argmax(probs: Float32Array, row: number, classes: number): number {
  let best = 0;
  let bestP = probs[row] as number;
  for (let c = 1; c < classes; c++) {
    const p = probs[row + c] as number;
    if (p > bestP) {
      bestP = p;
      best = c;
    }
  }
  return best;
}

/** `probs` holds `steps` x `classes` softmax outputs for one line. */
export function ctcGreedy(probs: Float32Array, steps: number, classes: number, charset: readonly string[], options?: Partial<CtcOptions>): Decoded {
  const spaceIndex = options?.spaceIndex ?? (charset[classes - 1] === ' ' ? classes - 1 : -1);
  const spaceThreshold = options?.spaceThreshold ?? SPACE_THRESHOLD;
  let text = '';
  let sum = 0;
  let kept = 0;
  let prev = -1;
  // The strongest space evidence since the last character.
  let gapSpace = 0;
  for (let t = 0; t < steps; t++) {
    const row = t * classes;
    const best = argmax(probs, row, classes);
    const p = probs[row + best] as number;
    if (best === CTC_BLANK || best === spaceIndex) {
      if (spaceIndex >= 0) gapSpace = Math.max(gapSpace, probs[row + spaceIndex] as number);
    } else if (best !== prev || gapSpace >= spaceThreshold) {
      // A space's probability is weak evidence by design (see above), so it stays out of the
      // confidence, which is the mean over the characters read.
      if (text !== '' && gapSpace >= spaceThreshold) text += ' ';
      text += charset[best] ?? '';
      sum += p;
      kept++;
      gapSpace = 0;
    }
    if (best !== CTC_BLANK && best !== spaceIndex) gapSpace = 0;
    prev = best;
  }
  return { text, confidence: kept === 0 ? 0 : sum / kept };
}
