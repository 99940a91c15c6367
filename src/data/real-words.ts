/**
 * Where documents and charts take their words from. 'synthetic' is the closed
 * list of words.ts (the default, so existing splits keep their bytes). The two
 * real sources draw from an English word list split once into a training part
 * and a held-out part (real-words.json, written by tools/train/bpe_build.py
 * from Debian's wamerican dictionary, ordered by a hash of each word): training
 * data uses 'real', and an eval in 'real-held-out' asks the model to copy words
 * it has never seen. Neither part contains a word of the synthetic vocabulary's
 * lists or spells the held-out concept names.
 */
import words from './real-words.json' with { type: 'json' };
import { BODY_WORDS, CHART_LABEL_SETS, TABLE_COLUMNS, TABLE_ITEMS, TITLE_FIRST, TITLE_SECOND } from './words';

export const WORD_SOURCES = ['synthetic', 'real', 'real-held-out'] as const;
export type WordSource = (typeof WORD_SOURCES)[number];

export const REAL_TRAIN_WORDS: readonly string[] = words.train;
export const REAL_HELD_OUT_WORDS: readonly string[] = words.heldOut;

/** Every word a page or chart may print, by role. */
export interface WordLists {
  readonly titleFirst: readonly string[];
  readonly titleSecond: readonly string[];
  readonly body: readonly string[];
  readonly tableItems: readonly string[];
  readonly tableColumns: readonly string[];
  readonly chartLabelSets: readonly (readonly string[])[];
}

const SYNTHETIC: WordLists = {
  titleFirst: TITLE_FIRST,
  titleSecond: TITLE_SECOND,
  body: BODY_WORDS,
  tableItems: TABLE_ITEMS,
  tableColumns: TABLE_COLUMNS,
  chartLabelSets: CHART_LABEL_SETS,
};

/** Longest word that fits a numeric column's header (42 px at 6 px a glyph). */
const MAX_HEADER_LETTERS = 7;
/** Chart labels stay short so a vertical chart still fits three bars. */
const MAX_LABEL_LETTERS = 6;
const LABELS_PER_SET = 6;

function capitalise(w: string): string {
  return `${w.charAt(0).toUpperCase()}${w.slice(1)}`;
}

/** Label sets of six words taken at a stride, so one set's words do not share a prefix. */
function labelSets(list: readonly string[]): string[][] {
  const short = list.filter((w) => w.length <= MAX_LABEL_LETTERS);
  const n = Math.floor(short.length / LABELS_PER_SET);
  return Array.from({ length: n }, (_, i) => Array.from({ length: LABELS_PER_SET }, (_, k) => short[i + k * n] as string));
}

function realLists(list: readonly string[]): WordLists {
  const titles = list.map(capitalise);
  return {
    titleFirst: titles,
    titleSecond: titles,
    body: list,
    tableItems: list,
    tableColumns: list.filter((w) => w.length <= MAX_HEADER_LETTERS).map(capitalise),
    chartLabelSets: labelSets(list),
  };
}

const REAL = realLists(REAL_TRAIN_WORDS);
const HELD_OUT = realLists(REAL_HELD_OUT_WORDS);

export function wordLists(source: WordSource): WordLists {
  return source === 'synthetic' ? SYNTHETIC : source === 'real' ? REAL : HELD_OUT;
}
