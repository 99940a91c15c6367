import { describe, expect, it } from 'vitest';
import { normaliseVqaAnswer, vqaAccuracy, vqaExactMatch } from '../../src/eval/vqa';

// Expected values were produced by running the official vqaEval.py (GT-Vision-Lab/VQA) on these inputs.
describe('VQAv2 normalisation', () => {
  const table: [string, string][] = [
    ['Two', '2'],
    ['the cat', 'cat'],
    ['A Dog.', 'dog'],
    ['dont', "don't"],
    ['yes!', 'yes'],
    ['1,000', '1000'],
    ['3.5', '3.5'],
    ['t-shirt', 't shirt'],
    ['t - shirt', 't shirt'],
    ['hello, world', 'hello world'],
    ['Is it?', 'is it'],
    ['no one', 'no 1'],
    ["it's", "it's"],
    // vqaEval.py removes at most 32 periods (re.UNICODE passed as the count).
    [`${'.'.repeat(40)}a`, '........a'],
    ['Yes\tno', 'yes no'],
    ['  Ten  dogs ', '10 dogs'],
    ['isnt it', "isn't it"],
    ['(a) red', 'red'],
    ['Im here', 'im here'],
    ['U.S.A.', 'usa'],
    ['1,000 - 2,000!', '1000 2000'],
  ];
  it.each(table)('%j -> %j', (input, expected) => {
    expect(normaliseVqaAnswer(input)).toBe(expected);
  });

  it('exact match compares normalised answers', () => {
    expect(vqaExactMatch('Two.', '2')).toBe(true);
    expect(vqaExactMatch('The red one', 'red one')).toBe(true);
    expect(vqaExactMatch('red', 'blue')).toBe(false);
  });
});

describe('VQAv2 soft accuracy', () => {
  const ten = (...groups: [string, number][]): string[] => groups.flatMap(([a, k]) => Array<string>(k).fill(a));
  const table: [string, string[], number][] = [
    ['2', ten(['2', 10]), 1],
    // The humans agree, so vqaEval.py normalises nothing: "two" does not match "2".
    ['two', ten(['2', 10]), 0],
    ['2', ten(['2', 3], ['3', 7]), 0.9],
    ['2', ten(['2', 2], ['3', 8]), 0.6],
    ['2', ten(['2', 1], ['3', 9]), 0.3],
    ['Two', ten(['2', 4], ['two', 1], ['3', 5]), 1],
    ['dog', ['dog', 'dog', 'cat'], 4 / 9],
    ['red', ten(['red', 4], ['blue', 6]), 1],
  ];
  it.each(table)('%j against %j -> %d', (pred, answers, expected) => {
    expect(vqaAccuracy(pred, answers)).toBeCloseTo(expected, 12);
  });

  it('with one answer is exact match after normalisation', () => {
    expect(vqaAccuracy('Two', ['2'])).toBe(1);
    expect(vqaAccuracy('three', ['2'])).toBe(0);
    expect(() => vqaAccuracy('2', [])).toThrow(RangeError);
  });
});
