import { describe, expect, it } from 'vitest';
import type { YesNo } from '../../src/eval/pope';
import { countPope, popeAnswer, popeMetrics, scorePopeSplits } from '../../src/eval/pope';

describe('POPE answer rule (evaluate.py)', () => {
  const table: [string, YesNo][] = [
    ['Yes, there is.', 'yes'],
    ['No.', 'no'],
    ['no', 'no'],
    ['There is not a dog.', 'no'],
    ['No, there is no dog in the image.', 'no'],
    ['I cannot tell', 'yes'],
    ['', 'yes'],
    ['Nope, nothing', 'yes'],
    // Only the first sentence counts.
    ['Yes. But it is not clear.', 'yes'],
    ['There is a dog, not a cat', 'no'],
    // Case matters: only "No" and "no".
    ['NO', 'yes'],
    // Commas are deleted, not turned into spaces, so "No,there" is one word.
    ['No,there is', 'yes'],
    // Words are split on single spaces only.
    ['Yes\nno', 'yes'],
    // The first "sentence" ends at any period, decimals included.
    ['3.5 no', 'yes'],
  ];
  it.each(table)('%j -> %s', (answer, expected) => {
    expect(popeAnswer(answer)).toBe(expected);
  });
});

describe('POPE metrics', () => {
  it('match a hand-counted confusion matrix', () => {
    // answer, label
    const rows: [string, YesNo][] = [
      ['Yes.', 'yes'], // TP
      ['Yes, there is a cat.', 'yes'], // TP
      ['There is a cat.', 'yes'], // TP
      ['No.', 'yes'], // FN
      ['Yes.', 'no'], // FP
      ['No, there is not.', 'no'], // TN
      ['No', 'no'], // TN
      ['not sure', 'no'], // TN
      ['I see a dog', 'no'], // FP
      ['no', 'yes'], // FN
    ];
    const c = countPope(rows.map(([a, label]) => ({ pred: popeAnswer(a), label })));
    expect(c).toEqual({ tp: 3, fp: 2, tn: 3, fn: 2 });
    const m = popeMetrics(c);
    expect(m.n).toBe(10);
    expect(m.accuracy).toBeCloseTo(6 / 10, 12);
    expect(m.precision).toBeCloseTo(3 / 5, 12);
    expect(m.recall).toBeCloseTo(3 / 5, 12);
    expect(m.f1).toBeCloseTo(0.6, 12);
    expect(m.yesRatio).toBeCloseTo(5 / 10, 12);
  });

  it('F1 equals 2PR / (P + R)', () => {
    const m = popeMetrics({ tp: 7, fp: 3, tn: 11, fn: 5 });
    expect(m.f1).toBeCloseTo((2 * m.precision * m.recall) / (m.precision + m.recall), 12);
  });

  it('reports 0 where evaluate.py would divide by zero', () => {
    expect(popeMetrics({ tp: 0, fp: 0, tn: 0, fn: 0 })).toEqual({ tp: 0, fp: 0, tn: 0, fn: 0, n: 0, accuracy: 0, precision: 0, recall: 0, f1: 0, yesRatio: 0 });
    const allNo = popeMetrics({ tp: 0, fp: 0, tn: 4, fn: 4 });
    expect([allNo.precision, allNo.recall, allNo.f1, allNo.yesRatio, allNo.accuracy]).toEqual([0, 0, 0, 0, 0.5]);
  });

  it('scores each split apart, in first-seen order', () => {
    const m = scorePopeSplits([
      { split: 'random', answer: 'Yes', label: 'yes' },
      { split: 'adversarial', answer: 'Yes', label: 'no' },
      { split: 'random', answer: 'No', label: 'no' },
      { split: 'adversarial', answer: 'No', label: 'no' },
    ]);
    expect([...m.keys()]).toEqual(['random', 'adversarial']);
    expect(m.get('random')).toMatchObject({ tp: 1, tn: 1, accuracy: 1, f1: 1 });
    expect(m.get('adversarial')).toMatchObject({ fp: 1, tn: 1, accuracy: 0.5, f1: 0, yesRatio: 0.5 });
  });
});
