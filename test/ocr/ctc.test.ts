import { describe, expect, it } from 'vitest';
import { parseCharset, checkCharset } from '../../src/ocr/charset';
import { ctcGreedy } from '../../src/ocr/ctc';

// blank, a, b, c, space
const CHARSET = parseCharset('a\nb\nc\n');

/** One softmax row per step: `best` gets p, the space `space`, the blank the rest. */
function steps(spec: readonly [best: number, p: number, space?: number][]): Float32Array {
  const classes = CHARSET.length;
  const out = new Float32Array(spec.length * classes);
  spec.forEach(([best, p, space = 0], t) => {
    const row = t * classes;
    const add = (i: number, v: number) => {
      out[i] = (out[i] ?? 0) + v;
    };
    add(row + best, p);
    add(row + classes - 1, space);
    add(row + (best === 0 ? 1 : 0), Math.max(0, 1 - p - (best === classes - 1 ? 0 : space)));
  });
  return out;
}

describe('character list', () => {
  it('puts the blank first and the space last, one class per dictionary line', () => {
    expect(CHARSET).toEqual(['', 'a', 'b', 'c', ' ']);
    expect(parseCharset('a\r\nb')).toEqual(['', 'a', 'b', ' ']);
    expect(() => checkCharset(CHARSET, 6)).toThrow(/5 classes/);
  });
});

describe('CTC greedy decoding', () => {
  it('merges repeats, drops blanks, and keeps a letter repeated across a blank', () => {
    const probs = steps([[1, 0.9], [1, 0.8], [0, 1], [1, 0.7], [2, 0.9], [0, 1], [3, 0.6]]);
    const d = ctcGreedy(probs, 7, CHARSET.length, CHARSET);
    expect(d.text).toBe('aabc');
    // Mean of the first step of each kept run.
    expect(d.confidence).toBeCloseTo((0.9 + 0.7 + 0.9 + 0.6) / 4, 6);
  });

  it('emits a space where the space class wins, once per gap', () => {
    const probs = steps([[1, 0.9], [4, 0.8], [4, 0.9], [2, 0.9]]);
    const d = ctcGreedy(probs, 4, CHARSET.length, CHARSET);
    expect(d.text).toBe('a b');
    // The space is not a character read: the confidence is the mean over a and b only.
    expect(d.confidence).toBeCloseTo(0.9, 6);
  });

  it('turns a gap into a space when the space probability peaks above the threshold without winning', () => {
    const gap = steps([[1, 0.9], [0, 0.6, 0.35], [2, 0.9], [0, 0.9, 0.01], [3, 0.9]]);
    expect(ctcGreedy(gap, 5, CHARSET.length, CHARSET).text).toBe('a bc');
    expect(ctcGreedy(gap, 5, CHARSET.length, CHARSET, { spaceThreshold: 0.5 }).text).toBe('abc');
  });

  it('never starts or ends a line with a space', () => {
    const probs = steps([[4, 0.9], [1, 0.9], [4, 0.9]]);
    expect(ctcGreedy(probs, 3, CHARSET.length, CHARSET).text).toBe('a');
  });

  it('an all-blank line decodes to nothing with zero confidence', () => {
    const d = ctcGreedy(steps([[0, 1], [0, 1]]), 2, CHARSET.length, CHARSET);
    expect(d).toEqual({ text: '', confidence: 0 });
  });
});
