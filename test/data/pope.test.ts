import { describe, expect, it } from 'vitest';
import type { PopeQuestion, PopeStrategy } from '../../src/data/pope';
import { buildPopeQuestions, POPE_STRATEGIES } from '../../src/data/pope';
import { Rng } from '../../src/data/random';
import type { SceneMeta } from '../../src/data/scenes';
import { generateScene } from '../../src/data/scenes';
import { taskSamples } from '../../src/data/split';
import type { Category } from '../../src/data/vocabulary';
import { categories, categoryName } from '../../src/data/vocabulary';

const rng = new Rng(77);
const SCENES: SceneMeta[] = Array.from({ length: 300 }, () => generateScene(rng, { minObjects: 3, maxObjects: 5 }).meta);
const UNIVERSE = categories('exclude');
const SEED = 5;

const names = (s: SceneMeta): Set<string> => new Set(s.objects.map((o) => categoryName(o)));
const NAMES = SCENES.map(names);

/** Counted here from the scenes, independently of the module's own statistics. */
function frequency(name: string): number {
  return NAMES.filter((n) => n.has(name)).length;
}

const pairCounts = new Map<string, number>();
function cooccurrenceWith(name: string, present: Set<string>): number {
  let total = 0;
  for (const p of present) {
    const key = `${name}|${p}`;
    let n = pairCounts.get(key);
    if (n === undefined) {
      n = NAMES.filter((s) => s.has(name) && s.has(p)).length;
      pairCounts.set(key, n);
    }
    total += n;
  }
  return total;
}

function questions(strategy: PopeStrategy): PopeQuestion[] {
  return buildPopeQuestions(SCENES, strategy, UNIVERSE, SEED);
}

/** Each image's negatives must score at least as high as every absent category that was not picked. */
function expectTopScored(strategy: PopeStrategy, score: (c: string, present: Set<string>) => number): void {
  const qs = questions(strategy);
  SCENES.forEach((scene, i) => {
    const present = names(scene);
    const picked = qs.filter((q) => q.imageIndex === i && q.label === 'no').map((q) => categoryName(q.category));
    const rest = UNIVERSE.map(categoryName).filter((c) => !present.has(c) && !picked.includes(c));
    const lowestPicked = Math.min(...picked.map((c) => score(c, present)));
    const highestRest = Math.max(...rest.map((c) => score(c, present)));
    expect(lowestPicked, `image ${i}`).toBeGreaterThanOrEqual(highestRest);
  });
}

describe('POPE', () => {
  it.each(POPE_STRATEGIES)('%s: 3 yes and 3 no per image, yes present and no absent', (strategy) => {
    const qs = questions(strategy);
    expect(qs.length).toBe(SCENES.length * 6);
    SCENES.forEach((scene, i) => {
      const mine = qs.filter((q) => q.imageIndex === i);
      const yes = mine.filter((q) => q.label === 'yes').map((q) => categoryName(q.category));
      const no = mine.filter((q) => q.label === 'no').map((q) => categoryName(q.category));
      expect([yes.length, no.length]).toEqual([3, 3]);
      expect(new Set(yes).size + new Set(no).size).toBe(6);
      for (const y of yes) expect(names(scene).has(y)).toBe(true);
      for (const n of no) expect(names(scene).has(n)).toBe(false);
    });
  });

  it('asks the same yes questions under every strategy, as POPE does', () => {
    const yes = (s: PopeStrategy): string[] => questions(s).filter((q) => q.label === 'yes').map((q) => `${q.imageIndex} ${categoryName(q.category)}`);
    expect(yes('popular')).toEqual(yes('random'));
    expect(yes('adversarial')).toEqual(yes('random'));
  });

  it('popular: negatives are the most frequent absent categories of the set', () => {
    expectTopScored('popular', (c) => frequency(c));
  });

  it('adversarial: negatives co-occur most with the objects present', () => {
    expectTopScored('adversarial', (c, present) => cooccurrenceWith(c, present));
  });

  it('random: negatives spread over the whole vocabulary, and are less frequent on average than popular ones', () => {
    const negatives = (s: PopeStrategy): Category[] => questions(s).filter((q) => q.label === 'no').map((q) => q.category);
    const used = new Set(negatives('random').map(categoryName));
    expect(used.size).toBe(UNIVERSE.length);
    const meanFreq = (cs: Category[]): number => cs.reduce((a, c) => a + frequency(categoryName(c)), 0) / cs.length;
    expect(meanFreq(negatives('popular'))).toBeGreaterThan(meanFreq(negatives('random')) + 5);
    // The adversarial ones are harder than random ones by their own measure too.
    const meanCooc = (s: PopeStrategy): number => {
      const qs = questions(s).filter((q) => q.label === 'no');
      return qs.reduce((a, q) => a + cooccurrenceWith(categoryName(q.category), names(SCENES[q.imageIndex] as SceneMeta)), 0) / qs.length;
    };
    expect(meanCooc('adversarial')).toBeGreaterThan(meanCooc('random'));
  });

  it('as split tasks: exactly half yes in any even prefix, POPE template, images shared across strategies', () => {
    const imageLists: string[][] = [];
    for (const task of ['pope-random', 'pope-popular', 'pope-adversarial'] as const) {
      const samples = [...taskSamples(task, 120, 9)];
      expect(samples.length).toBe(120);
      const answers = samples.map((s) => s.conversations[1]?.value);
      for (let k = 2; k <= 120; k += 2) expect(answers.slice(0, k).filter((a) => a === 'yes').length).toBe(k / 2);
      for (const s of samples) expect(s.conversations[0]?.value).toMatch(/^<image>\nIs there a \w+ \w+ in the image\?$/);
      imageLists.push(samples.map((s) => s.imageNames[0] ?? ''));
    }
    expect(new Set(imageLists[0]).size).toBe(20);
    expect(imageLists[1]).toEqual(imageLists[0]);
    expect(imageLists[2]).toEqual(imageLists[0]);
  });
});
