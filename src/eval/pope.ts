/**
 * POPE's scoring, as its evaluate.py (github.com/AoiDragon/POPE) does it: an
 * answer is cut to its first sentence, commas dropped, split on spaces, and is
 * "no" when a word is exactly "No", "no" or "not", else "yes". Anything that is
 * not a refusal counts as yes: "I cannot tell" is yes, "Nope" is yes. Metrics
 * take yes as the positive class, per split, as the POPE paper reports them.
 */

export type YesNo = 'yes' | 'no';

const NO_WORDS = new Set(['No', 'no', 'not']);

/** POPE's reading of a free-form answer. */
export function popeAnswer(text: string): YesNo {
  // evaluate.py: text.split('.')[0], then replace(',', ''), then split(' ') — a single space, not any whitespace.
  const firstSentence = text.split('.')[0] ?? '';
  const words = firstSentence.replaceAll(',', '').split(' ');
  return words.some((w) => NO_WORDS.has(w)) ? 'no' : 'yes';
}

export interface ConfusionCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface PopeMetrics extends ConfusionCounts {
  n: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  /** Share of answers read as yes; 0.5 for a model without bias on POPE's balanced sets. */
  yesRatio: number;
}

export interface PopePair {
  pred: YesNo;
  label: YesNo;
}

export function emptyCounts(): ConfusionCounts {
  return { tp: 0, fp: 0, tn: 0, fn: 0 };
}

export function addToCounts(c: ConfusionCounts, { pred, label }: PopePair): void {
  if (pred === 'yes') {
    if (label === 'yes') c.tp++;
    else c.fp++;
  } else if (label === 'no') c.tn++;
  else c.fn++;
}

export function countPope(pairs: Iterable<PopePair>): ConfusionCounts {
  const c = emptyCounts();
  for (const p of pairs) addToCounts(c, p);
  return c;
}

/** evaluate.py divides by zero on degenerate sets (no yes answers, no yes labels, nothing at all); each such ratio is reported as 0 here. */
const ratio = (num: number, den: number): number => (den === 0 ? 0 : num / den);

export function popeMetrics(c: ConfusionCounts): PopeMetrics {
  const n = c.tp + c.fp + c.tn + c.fn;
  return {
    ...c,
    n,
    accuracy: ratio(c.tp + c.tn, n),
    precision: ratio(c.tp, c.tp + c.fp),
    recall: ratio(c.tp, c.tp + c.fn),
    // 2PR / (P + R) written in counts: the same number, with no 0/0 when tp = 0, and bit for bit eval.py's Tally.
    f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
    yesRatio: ratio(c.tp + c.fp, n),
  };
}

export interface PopeAnswerRecord {
  /** random, popular, adversarial, or any name that groups the records. */
  split: string;
  answer: string;
  label: YesNo;
}

/** Metrics per split, in the order the splits first appear. */
export function scorePopeSplits(records: Iterable<PopeAnswerRecord>): Map<string, PopeMetrics> {
  const counts = new Map<string, ConfusionCounts>();
  for (const r of records) {
    let c = counts.get(r.split);
    if (!c) counts.set(r.split, (c = emptyCounts()));
    addToCounts(c, { pred: popeAnswer(r.answer), label: r.label });
  }
  return new Map([...counts].map(([split, c]) => [split, popeMetrics(c)]));
}
