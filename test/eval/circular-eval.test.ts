import { describe, expect, it } from 'vitest';
import type { ChoiceQuestion } from '../../src/eval/circular-eval';
import { choicePrompt, circularAccuracy, circularEval, readChoice, rotations } from '../../src/eval/circular-eval';

const Q: ChoiceQuestion = { id: 'q1', question: 'What shape is red?', options: ['circle', 'square', 'red star', 'star'], answer: 0 };

describe('rotations', () => {
  it('shifts the options one place per rotation and re-letters them', () => {
    const r = rotations(Q);
    expect(r.map((x) => x.options)).toEqual([
      ['circle', 'square', 'red star', 'star'],
      ['square', 'red star', 'star', 'circle'],
      ['red star', 'star', 'circle', 'square'],
      ['star', 'circle', 'square', 'red star'],
    ]);
    expect(r.map((x) => x.answerLetter)).toEqual(['A', 'D', 'C', 'B']);
    expect(r[1]?.prompt).toBe("What shape is red?\nA. square\nB. red star\nC. star\nD. circle\nAnswer with the option's letter from the given choices directly.");
    expect(choicePrompt('Q?', ['x', 'y'])).toBe("Q?\nA. x\nB. y\nAnswer with the option's letter from the given choices directly.");
  });

  it('refuses a question it cannot rotate', () => {
    expect(() => rotations({ ...Q, options: ['only'] })).toThrow(RangeError);
    expect(() => rotations({ ...Q, answer: 4 })).toThrow(RangeError);
  });
});

describe('readChoice', () => {
  const opts = ['circle', 'square', 'red star', 'star'];
  const table: [string, number | null][] = [
    ['B', 1],
    ['B.', 1],
    ['(B)', 1],
    ['B) square', 1],
    ['C: red star', 2],
    ['The answer is D', 3],
    ['Answer: (A)', 0],
    ['square', 1],
    ['Square.', 1],
    // Exact text wins over containment: "red star" contains "star" too.
    ['red star', 2],
    ['It is a circle', 0],
    // Two options' texts appear: ambiguous.
    ['circle or square', null],
    // A letter past the options is no choice.
    ['E', null],
    // "A" as an article is not a letter.
    ['A hexagon', null],
    ['', null],
  ];
  it.each(table)('%j -> %s', (answer, expected) => {
    expect(readChoice(answer, opts)).toBe(expected);
  });
});

describe('CircularEval', () => {
  it('is right only when every rotation picks the right option', () => {
    const allRight = circularEval(Q, ['A', 'D', 'circle', 'The answer is B']);
    expect(allRight).toEqual({ questionId: 'q1', picks: [0, 0, 0, 0], right: true });
    // Always "A": right in the first rotation only.
    const alwaysA = circularEval(Q, ['A', 'A', 'A', 'A']);
    expect(alwaysA.picks).toEqual([0, 1, 2, 3]);
    expect(alwaysA.right).toBe(false);
    const unreadable = circularEval(Q, ['A', 'D', 'C', 'no idea']);
    expect(unreadable.picks).toEqual([0, 0, 0, null]);
    expect(unreadable.right).toBe(false);
    expect(circularAccuracy([allRight, alwaysA, unreadable])).toBeCloseTo(1 / 3, 12);
    expect(circularAccuracy([])).toBe(0);
  });

  it('needs one answer per rotation', () => {
    expect(() => circularEval(Q, ['A'])).toThrow(RangeError);
  });
});
