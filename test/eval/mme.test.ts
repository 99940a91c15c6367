import { describe, expect, it } from 'vitest';
import type { MmeAnswer, MmeRecord } from '../../src/eval/mme';
import { mmeAnswer, scoreMme } from '../../src/eval/mme';

describe('MME answer parsing', () => {
  const table: [string, MmeAnswer][] = [
    ['yes', 'yes'],
    ['Yes, there is.', 'yes'],
    [' NO ', 'no'],
    ['No.', 'no'],
    ['not really', 'no'],
    ['There is a dog', 'other'],
    ['', 'other'],
    ['I think yes', 'other'],
  ];
  it.each(table)('%j -> %s', (answer, expected) => {
    expect(mmeAnswer(answer)).toBe(expected);
  });
});

describe('MME acc and acc+', () => {
  it('scores a small fixture counted by hand', () => {
    const pair = (subtask: string, image: string, yesAnswer: string, noAnswer: string): MmeRecord[] => [
      { subtask, image, answer: yesAnswer, label: 'yes' },
      { subtask, image, answer: noAnswer, label: 'no' },
    ];
    const scores = scoreMme([
      // existence: 3 images; image 1 both right, image 2 one right, image 3 both right.
      ...pair('existence', '1.jpg', 'Yes', 'No'),
      ...pair('existence', '2.jpg', 'Yes', 'Yes'),
      ...pair('existence', '3.jpg', 'yes', 'no'),
      // count: 2 images; image 1 none right ("other" is wrong), image 2 one right.
      ...pair('count', '1.jpg', 'No', 'There are two'),
      ...pair('count', '2.jpg', 'Yes', 'Yes'),
    ]);
    const [existence, count] = scores.subtasks;
    expect(existence).toMatchObject({ subtask: 'existence', questions: 6, images: 3 });
    expect(existence?.accuracy).toBeCloseTo(5 / 6, 12);
    expect(existence?.accuracyPlus).toBeCloseTo(2 / 3, 12);
    expect(existence?.score).toBeCloseTo(100 * (5 / 6 + 2 / 3), 10);
    expect(count).toMatchObject({ subtask: 'count', questions: 4, images: 2, accuracy: 0.25, accuracyPlus: 0, score: 25 });
    expect(scores.total).toBeCloseTo(150 + 25, 10);
  });
});
