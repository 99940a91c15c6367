/**
 * Which objects a scene holds. Categories are not drawn uniformly: a fixed
 * popularity order and a fixed "companion" for each category give the data a
 * frequency skew and co-occurrence structure, as real photos have (forks
 * appear with knives). Without them POPE's popular and adversarial negatives
 * would be no harder than random ones, and the benchmark would measure nothing.
 * The skew is mild (weights 1 down to 1/3) so rare categories are still learnt.
 */
import { deriveSeed, Rng } from './random';
import type { Category, HeldOutMode } from './vocabulary';
import { categories, categoryName, isHeldOut } from './vocabulary';

export interface CategoryPrior {
  /** Categories in popularity order, most popular first. */
  readonly ranked: readonly Category[];
  readonly weights: readonly number[];
  /** name -> the category that tends to appear with it. */
  readonly companion: ReadonlyMap<string, Category>;
}

/** Chance that a further object is the companion of one already placed. */
export const COMPANION_CHANCE = 0.3;
const COMPANION_OFFSET = 7;

const cache = new Map<HeldOutMode, CategoryPrior>();

export function categoryPrior(mode: HeldOutMode): CategoryPrior {
  const hit = cache.get(mode);
  if (hit) return hit;
  // A constant seed: the prior is part of the data's definition, the same in every split.
  const ranked = new Rng(deriveSeed('scene-prior', mode)).shuffle(categories(mode));
  const n = ranked.length;
  const weights = ranked.map((_, i) => 1 / (1 + (2 * i) / Math.max(1, n - 1)));
  const companion = new Map<string, Category>();
  ranked.forEach((c, i) => companion.set(categoryName(c), ranked[(i + COMPANION_OFFSET) % n] as Category));
  const prior = { ranked, weights, companion };
  cache.set(mode, prior);
  return prior;
}

function weightedPick(rng: Rng, prior: CategoryPrior): Category {
  const total = prior.weights.reduce((a, b) => a + b, 0);
  let t = rng.uniform(0, total);
  for (let i = 0; i < prior.ranked.length; i++) {
    t -= prior.weights[i] as number;
    if (t < 0) return prior.ranked[i] as Category;
  }
  return prior.ranked[prior.ranked.length - 1] as Category;
}

/**
 * n distinct categories (distinct so "the red circle" names one object). In
 * focus mode the first one has a held-out shape or colour.
 */
export function drawCategories(rng: Rng, n: number, mode: HeldOutMode): Category[] {
  const prior = categoryPrior(mode);
  if (n > prior.ranked.length) throw new Error(`drawCategories: ${n} distinct objects asked, ${prior.ranked.length} exist`);
  const out: Category[] = [];
  const has = (c: Category): boolean => out.some((o) => o.colour === c.colour && o.shape === c.shape);
  if (mode === 'focus') out.push(rng.pick(prior.ranked.filter(isHeldOut)));
  while (out.length < n) {
    let c: Category;
    if (out.length > 0 && rng.chance(COMPANION_CHANCE)) {
      c = prior.companion.get(categoryName(rng.pick(out))) as Category;
    } else {
      c = weightedPick(rng, prior);
    }
    if (!has(c)) out.push(c);
  }
  return out;
}
