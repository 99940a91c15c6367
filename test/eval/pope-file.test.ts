import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matchPopeImages, PopeFileError, readPopeQuestions } from '../../src/eval/pope-file';

const line = (o: object): string => JSON.stringify(o);
const q = (id: number, image: string, label = 'yes') => line({ question_id: id, image, text: 'Is there a dog in the image?', label });

describe('the shipped POPE question files', () => {
  it.each(['random', 'popular', 'adversarial'])('coco_pope_%s.json: 3,000 questions on 500 images, balanced', (split) => {
    const questions = readPopeQuestions(readFileSync(`public/pope/coco_pope_${split}.json`, 'utf8'));
    expect(questions).toHaveLength(3000);
    expect(new Set(questions.map((x) => x.image)).size).toBe(500);
    expect(questions.filter((x) => x.label === 'yes')).toHaveLength(1500);
    expect(questions[0]?.image).toMatch(/^COCO_val2014_\d{12}\.jpg$/);
    expect(questions[0]?.text).toMatch(/^Is there an? .+ in the image\?$/);
  });
});

describe('readPopeQuestions', () => {
  it('reads questions and skips blank lines', () => {
    const qs = readPopeQuestions(`${q(1, 'a.jpg')}\r\n\n${q(2, 'a.jpg', 'no')}\n`);
    expect(qs).toEqual([
      { questionId: 1, image: 'a.jpg', text: 'Is there a dog in the image?', label: 'yes' },
      { questionId: 2, image: 'a.jpg', text: 'Is there a dog in the image?', label: 'no' },
    ]);
  });

  const bad: [string, string, number, RegExp][] = [
    ['not JSON', `${q(1, 'a.jpg')}\n{"question_id": 2,`, 2, /not JSON/],
    ['a label that is not yes/no', `${q(1, 'a.jpg')}\n${q(2, 'a.jpg')}\n${q(3, 'a.jpg', 'maybe')}`, 3, /"label" must be "yes" or "no", not "maybe"/],
    ['no image', line({ question_id: 1, text: 'x', label: 'no' }), 1, /"image"/],
    ['no text', line({ question_id: 1, image: 'a.jpg', label: 'no' }), 1, /"text"/],
    ['a bad id', line({ question_id: 1.5, image: 'a.jpg', text: 'x', label: 'no' }), 1, /question_id/],
    ['an array (a JSON file, not JSON Lines)', '[\n' + q(1, 'a.jpg'), 1, /not JSON/],
    ['a repeated id', `${q(7, 'a.jpg')}\n\n${q(7, 'b.jpg')}`, 3, /repeats line 1/],
    ['an empty file', '\n\n', 1, /no questions/],
  ];
  it.each(bad)('%s: the error names line %i', (_, text, lineNo, reason) => {
    let err: unknown;
    try {
      readPopeQuestions(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PopeFileError);
    const e = err as PopeFileError;
    expect(e.line).toBe(lineNo);
    expect(e.reason).toMatch(reason);
    expect(e.message).toContain(`line ${lineNo}:`);
  });
});

describe('matchPopeImages', () => {
  const questions = readPopeQuestions([q(1, 'A.jpg'), q(2, 'A.jpg', 'no'), q(3, 'B.jpg'), q(4, 'C.jpg'), q(5, 'B.jpg', 'no')].join('\n'));

  it('keeps the questions whose image is given, by base name, and counts and names the rest', () => {
    const m = matchPopeImages(questions, ['val2014/A.jpg', 'C.jpg', 'other.jpg']);
    expect(m.runnable.map((x) => x.questionId)).toEqual([1, 2, 4]);
    expect(m.missingImages).toEqual(['B.jpg']);
    expect(m.skipped).toBe(2);
    expect(m.files).toEqual(new Map([['A.jpg', 'val2014/A.jpg'], ['C.jpg', 'C.jpg']]));
  });

  it('with no matching image, nothing is runnable', () => {
    const m = matchPopeImages(questions, ['x.png']);
    expect(m.runnable).toEqual([]);
    expect(m.skipped).toBe(5);
    expect(m.missingImages).toEqual(['A.jpg', 'B.jpg', 'C.jpg']);
  });
});
