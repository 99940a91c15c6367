import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateBarChart } from '../../src/data/charts';
import { generateDocument } from '../../src/data/documents';
import { canDraw, textWidth } from '../../src/data/font';
import { Rng } from '../../src/data/random';
import type { WordSource } from '../../src/data/real-words';
import { REAL_HELD_OUT_WORDS, REAL_TRAIN_WORDS, wordLists } from '../../src/data/real-words';
import { generateSplit } from '../../src/data/split';
import { TASK_NAMES } from '../../src/data/tasks/registry';
import type { ImageMeta, Sample } from '../../src/data/tasks/types';
import { DEFAULT_TASK_OPTIONS } from '../../src/data/tasks/types';
import { parseArgs } from '../../scripts/make-data-args';
import { HELD_OUT_COLOURS, HELD_OUT_SHAPES } from '../../src/data/vocabulary';

const HELD = new Set(REAL_HELD_OUT_WORDS);
const split = (words: WordSource | undefined, seed: number, count: number, tasks = TASK_NAMES): Sample[] => [
  ...generateSplit({ ...DEFAULT_TASK_OPTIONS, ...(words ? { words } : {}), seed, count, tasks }),
];

/** Every lowercase letter run of a text. */
const wordsOf = (text: string): string[] => text.toLowerCase().match(/[a-z]+/g) ?? [];

/** Every string a page or chart prints. */
function printed(meta: ImageMeta): string[] {
  if (meta.kind === 'document') {
    return [meta.title.text, meta.dateRun.text, ...meta.lines.map((l) => l.text), ...meta.table.runs.flat().map((r) => r.text)];
  }
  if (meta.kind === 'chart') return meta.bars.flatMap((b) => [b.labelRun.text, b.valueRun.text]);
  if (meta.kind === 'text') return [meta.text];
  return [];
}

describe('real word lists', () => {
  it('split the dictionary words into disjoint training and held-out parts', () => {
    expect(REAL_TRAIN_WORDS.length).toBeGreaterThanOrEqual(2000);
    expect(REAL_HELD_OUT_WORDS.length).toBeGreaterThanOrEqual(500);
    expect(REAL_TRAIN_WORDS.filter((w) => HELD.has(w))).toEqual([]);
    for (const w of [...REAL_TRAIN_WORDS, ...REAL_HELD_OUT_WORDS]) {
      expect(w).toMatch(/^[a-z]{4,9}$/);
      for (const banned of [...HELD_OUT_SHAPES, ...HELD_OUT_COLOURS]) expect(w).not.toContain(banned);
    }
  });

  it('fit the page: every header fits its column, every word can be drawn', () => {
    for (const source of ['real', 'real-held-out'] as const) {
      const lists = wordLists(source);
      for (const h of lists.tableColumns) expect(textWidth(h, 1)).toBeLessThanOrEqual(42);
      for (const w of [...lists.titleFirst, ...lists.body]) expect(canDraw(w), w).toBe(true);
      expect(lists.chartLabelSets.every((s) => s.length === 6 && new Set(s).size === 6)).toBe(true);
    }
  });

  it('leave the default output as it was: no option equals the synthetic source', () => {
    const a = split(undefined, 9, 40, ['doc-title', 'doc-table', 'chart-highest', 'doc-table-context']);
    const b = split('synthetic', 9, 40, ['doc-title', 'doc-table', 'chart-highest', 'doc-table-context']);
    expect(JSON.stringify(b.map((s) => [s.conversations, s.images.map((i) => i.meta)]))).toBe(
      JSON.stringify(a.map((s) => [s.conversations, s.images.map((i) => i.meta)])),
    );
    const pixels = (ss: Sample[]) => ss.map((s) => createHash('sha256').update(s.images[0]?.raster.data ?? '').digest('hex'));
    expect(pixels(b)).toEqual(pixels(a));
  });
});

describe('documents and charts in real words', () => {
  it('a training split never prints or says a held-out word, on any task', () => {
    const samples = split('real', 4, TASK_NAMES.length * 12);
    let realWords = 0;
    for (const s of samples) {
      const texts = [...s.conversations.map((t) => t.value), ...s.images.flatMap((i) => printed(i.meta))];
      const words = texts.flatMap(wordsOf);
      expect(words.filter((w) => HELD.has(w)), s.id).toEqual([]);
      realWords += words.filter((w) => REAL_TRAIN_WORDS.includes(w)).length;
    }
    expect(realWords).toBeGreaterThan(500);
  });

  it('an eval split in held-out words titles, fills and labels its pages only with held-out words', () => {
    const samples = split('real-held-out', 6, 60, ['doc-title', 'doc-title-context', 'doc-table', 'chart-highest']);
    for (const s of samples) {
      const meta = s.images[0]?.meta;
      if (meta?.kind === 'document') {
        const title = wordsOf(meta.title.text);
        expect(title).toHaveLength(2);
        for (const w of title) expect(HELD.has(w), w).toBe(true);
        for (const w of meta.lines.flatMap((l) => wordsOf(l.text))) expect(HELD.has(w), w).toBe(true);
        for (const row of meta.table.rows) expect(HELD.has(row[0] ?? ''), row[0]).toBe(true);
        for (const c of meta.table.columns.slice(1)) expect(HELD.has(c.toLowerCase()), c).toBe(true);
      } else if (meta?.kind === 'chart') {
        for (const b of meta.bars) expect(HELD.has(b.label), b.label).toBe(true);
      } else {
        throw new Error(`${s.id}: expected a document or a chart`);
      }
      if (s.task === 'doc-title' && meta?.kind === 'document') expect(s.conversations[1]?.value).toBe(meta.title.text);
    }
  });

  it('draws the page and chart the same way for the same seed, in every source', () => {
    for (const words of ['real', 'real-held-out'] as const) {
      const a = generateDocument(new Rng(3), { words });
      expect(generateDocument(new Rng(3), { words }).meta).toEqual(a.meta);
      expect(generateBarChart(new Rng(3), { words }).meta.bars.length).toBeGreaterThanOrEqual(3);
    }
  });

  it('is chosen on the command line with --words, and a wrong name is refused', () => {
    expect(parseArgs(['--out', 'x', '--words', 'real-held-out'])).toMatchObject({ words: 'real-held-out' });
    expect(parseArgs(['--out', 'x'])).not.toHaveProperty('words');
    expect(parseArgs(['--out', 'x', '--words', 'latin'])).toMatch(/--words must be one of synthetic, real, real-held-out/);
  });
});
