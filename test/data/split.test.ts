import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { COLOUR_RGB } from '../../src/data/palette';
import { encodePng } from '../../src/data/png';
import type { SplitOptions } from '../../src/data/split';
import { generateSplit, taskCounts } from '../../src/data/split';
import { TASK_NAMES } from '../../src/data/tasks/registry';
import type { Sample } from '../../src/data/tasks/types';
import { DEFAULT_TASK_OPTIONS } from '../../src/data/tasks/types';
import { HELD_OUT_COLOURS, HELD_OUT_SHAPES } from '../../src/data/vocabulary';

const options = (seed: number, count = TASK_NAMES.length * 4, extra: Partial<SplitOptions> = {}): SplitOptions => ({
  ...DEFAULT_TASK_OPTIONS,
  seed,
  count,
  tasks: TASK_NAMES,
  ...extra,
});

/** A digest of everything a split writes: record text and the PNG bytes of every image. */
function digest(samples: readonly Sample[]): string {
  const h = createHash('sha256');
  for (const s of samples) {
    h.update(JSON.stringify([s.id, s.task, s.imageNames, s.conversations]));
    for (const img of s.images) h.update(encodePng(img.raster));
  }
  return h.digest('hex');
}

describe('splits', () => {
  it('are deterministic: same seed, same bytes; another seed, other bytes', () => {
    const a = digest([...generateSplit(options(1))]);
    expect(digest([...generateSplit(options(1))])).toBe(a);
    expect(digest([...generateSplit(options(2))])).not.toBe(a);
  });

  it('do not depend on which other tasks are in the split', () => {
    const alone = [...generateSplit({ ...options(3, 10), tasks: ['vqa-colour'] })];
    const mixed = [...generateSplit({ ...options(3, 30), tasks: ['ocr', 'vqa-colour', 'grounding'] })].filter((s) => s.task === 'vqa-colour');
    expect(digest(mixed)).toBe(digest(alone));
  });

  it('share the count evenly over the tasks, interleaved, with unique ids', () => {
    expect(taskCounts(10, ['ocr', 'describe', 'compare'])).toEqual([['ocr', 4], ['describe', 3], ['compare', 3]]);
    const samples = [...generateSplit(options(4, 50, { tasks: ['ocr', 'describe', 'pope-random'] }))];
    expect(samples.length).toBe(50);
    expect(samples.slice(0, 6).map((s) => s.task)).toEqual(['ocr', 'describe', 'pope-random', 'ocr', 'describe', 'pope-random']);
    expect(new Set(samples.map((s) => s.id)).size).toBe(50);
  });

  it('give one image content per image name', () => {
    const byName = new Map<string, string>();
    for (const s of generateSplit(options(5))) {
      s.images.forEach((img, k) => {
        const hash = createHash('sha256').update(img.raster.data).digest('hex');
        const name = s.imageNames[k] ?? '';
        expect(byName.get(name) ?? hash, name).toBe(hash);
        byName.set(name, hash);
      });
    }
  });

  it('grow scenes with the curriculum options', () => {
    for (const s of generateSplit(options(6, 40, { minObjects: 1, maxObjects: 1, tasks: ['vqa-colour', 'compare', 'multi-turn', 'pope-adversarial'] }))) {
      for (const img of s.images) if (img.meta.kind === 'scene') expect(img.meta.objects.length).toBe(1);
    }
  });
});

function heldOutTraces(samples: Iterable<Sample>): { words: number; pixels: number } {
  const word = new RegExp(`\\b(${[...HELD_OUT_SHAPES, ...HELD_OUT_COLOURS].join('|')})s?\\b`, 'i');
  const rgb = HELD_OUT_COLOURS.map((c) => COLOUR_RGB[c]);
  let words = 0;
  let pixels = 0;
  for (const s of samples) {
    for (const t of s.conversations) words += word.test(t.value) ? 1 : 0;
    for (const img of s.images) {
      const d = img.raster.data;
      for (let i = 0; i < d.length; i += 3) for (const c of rgb) if (d[i] === c[0] && d[i + 1] === c[1] && d[i + 2] === c[2]) pixels++;
    }
  }
  return { words, pixels };
}

describe('held-out shapes and colours across every task', () => {
  it('never appear in base data: not named in any turn, not one pixel of their colour', () => {
    expect(heldOutTraces(generateSplit(options(7, TASK_NAMES.length * 15)))).toEqual({ words: 0, pixels: 0 });
  });

  it('appear in words and pixels when included', () => {
    const t = heldOutTraces(generateSplit(options(8, TASK_NAMES.length * 15, { heldOut: 'include' })));
    expect(t.words).toBeGreaterThan(0);
    expect(t.pixels).toBeGreaterThan(0);
  });
});
