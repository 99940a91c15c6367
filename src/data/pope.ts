/**
 * POPE (Li et al., 2023, "Evaluating Object Hallucination in Large
 * Vision-Language Models") on shape scenes. For each image, k objects that are
 * present give "yes" questions and k absent ones give "no" questions, so the
 * set is exactly balanced. The absent objects come from one of three samplings:
 * - random: uniformly among the categories absent from the image;
 * - popular: the absent categories that appear in the most images of the set;
 * - adversarial: the absent categories that co-occur most often, over the set,
 *   with the categories present in this image (summed over them).
 * A category here is a colour + shape pair ("red circle"), the analogue of a
 * COCO class. Ties are broken in a seeded random order. The question is POPE's
 * template: "Is there a <object> in the image?".
 */
import { deriveSeed, Rng } from './random';
import type { SceneMeta } from './scenes';
import type { Category } from './vocabulary';
import { categoryName } from './vocabulary';

export const POPE_STRATEGIES = ['random', 'popular', 'adversarial'] as const;
export type PopeStrategy = (typeof POPE_STRATEGIES)[number];

/** POPE asks about 3 present and 3 absent objects per image. */
export const POPE_PER_IMAGE = 3;

export interface PopeStats {
  /** name -> number of images that contain the category. */
  readonly frequency: ReadonlyMap<string, number>;
  /** "a|b" -> number of images that contain both a and b. */
  readonly cooccurrence: ReadonlyMap<string, number>;
}

export interface PopeQuestion {
  readonly imageIndex: number;
  readonly category: Category;
  readonly label: 'yes' | 'no';
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

export function popeStats(scenes: readonly SceneMeta[]): PopeStats {
  const frequency = new Map<string, number>();
  const cooccurrence = new Map<string, number>();
  for (const s of scenes) {
    const names = [...new Set(s.objects.map((o) => categoryName(o)))];
    for (const a of names) {
      frequency.set(a, (frequency.get(a) ?? 0) + 1);
      for (const b of names) if (a < b) cooccurrence.set(pairKey(a, b), (cooccurrence.get(pairKey(a, b)) ?? 0) + 1);
    }
  }
  return { frequency, cooccurrence };
}

/** How strongly a strategy prefers an absent category as a negative; random prefers none. */
export function negativeScore(strategy: PopeStrategy, candidate: Category, present: readonly Category[], stats: PopeStats): number {
  const name = categoryName(candidate);
  if (strategy === 'popular') return stats.frequency.get(name) ?? 0;
  if (strategy === 'adversarial') {
    return present.reduce((sum, p) => sum + (stats.cooccurrence.get(pairKey(name, categoryName(p))) ?? 0), 0);
  }
  return 0;
}

/** The k absent categories with the highest score; a prior shuffle breaks ties (and is the whole draw for random). */
export function sampleNegatives(
  strategy: PopeStrategy,
  present: readonly Category[],
  universe: readonly Category[],
  stats: PopeStats,
  k: number,
  rng: Rng,
): Category[] {
  const presentNames = new Set(present.map(categoryName));
  const absent = rng.shuffle(universe.filter((c) => !presentNames.has(categoryName(c))));
  const scored = absent.map((c) => ({ c, s: negativeScore(strategy, c, present, stats) }));
  scored.sort((a, b) => b.s - a.s);
  return scored.slice(0, k).map((x) => x.c);
}

/**
 * Questions for every scene, interleaved yes, no, yes, no... so that any even
 * prefix of the list is balanced. Positives depend on the seed and image only,
 * so the three strategies ask the same "yes" questions about the same images,
 * as in POPE.
 */
export function buildPopeQuestions(
  scenes: readonly SceneMeta[],
  strategy: PopeStrategy,
  universe: readonly Category[],
  seed: number,
  perImage = POPE_PER_IMAGE,
): PopeQuestion[] {
  const stats = popeStats(scenes);
  const out: PopeQuestion[] = [];
  scenes.forEach((scene, imageIndex) => {
    const present: Category[] = scene.objects.map((o) => ({ colour: o.colour, shape: o.shape }));
    const k = Math.min(perImage, present.length, universe.length - present.length);
    const positives = new Rng(deriveSeed(seed, 'pope-positive', imageIndex)).shuffle(present).slice(0, k);
    const negRng = new Rng(deriveSeed(seed, 'pope-negative', strategy, imageIndex));
    const negatives = sampleNegatives(strategy, present, universe, stats, k, negRng);
    for (let i = 0; i < k; i++) {
      out.push({ imageIndex, category: positives[i] as Category, label: 'yes' });
      const neg = negatives[i];
      if (neg) out.push({ imageIndex, category: neg, label: 'no' });
    }
  });
  return out;
}

export function popeQuestionText(c: Category): string {
  return `Is there a ${categoryName(c)} in the image?`;
}

/** One line of POPE's own question-file format, for tools that read POPE files. */
export function popeLine(q: PopeQuestion, questionId: number, image: string): string {
  return JSON.stringify({ question_id: questionId, image, text: popeQuestionText(q.category), label: q.label });
}
