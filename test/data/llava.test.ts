import { describe, expect, it } from 'vitest';
import type { LlavaRecord } from '../../src/data/llava';
import { LlavaFormatError, readLlavaJson, recordImages, serialiseLlava, toLlavaRecord, validateLlava } from '../../src/data/llava';
import { generateSplit } from '../../src/data/split';
import { DEFAULT_TASK_OPTIONS } from '../../src/data/tasks/types';
import { TASK_NAMES } from '../../src/data/tasks/registry';

const good = (id: string): Record<string, unknown> => ({
  id,
  image: 'images/a.png',
  conversations: [
    { from: 'human', value: '<image>\nWhat colour is the object?' },
    { from: 'gpt', value: 'red' },
  ],
});

/** Puts `bad` at index 2 among good records and returns the error the reader raises. */
function rejection(bad: unknown): LlavaFormatError {
  const text = JSON.stringify([good('a'), good('b'), bad, good('d')]);
  try {
    readLlavaJson(text);
  } catch (e) {
    if (e instanceof LlavaFormatError) return e;
    throw e;
  }
  throw new Error('the record was accepted');
}

const turns = (...t: [string, unknown][]): { from: string; value: unknown }[] => t.map(([from, value]) => ({ from, value }));

const MALFORMED: [string, unknown, RegExp][] = [
  ['not an object', 'hello', /record must be an object/],
  ['an array', [1, 2], /record must be an object/],
  ['missing id', { ...good('x'), id: undefined }, /missing id/],
  ['numeric id', { ...good('x'), id: 7 }, /id must be a non-empty string/],
  ['empty id', { ...good('x'), id: '' }, /id must be a non-empty string/],
  ['duplicate id', good('a'), /duplicate id "a"/],
  ['image of the wrong type', { ...good('x'), image: 3 }, /image must be a string or an array of strings/],
  ['empty image string', { ...good('x'), image: '' }, /image is an empty string/],
  ['empty image array', { ...good('x'), image: [] }, /image is an empty array/],
  ['non-string in image array', { ...good('x'), image: ['a.png', 5] }, /image\[1\] must be a non-empty string/],
  ['missing conversations', { id: 'x', image: 'a.png' }, /missing conversations/],
  ['conversations not an array', { ...good('x'), conversations: 'hi' }, /conversations must be an array/],
  ['no turns', { ...good('x'), conversations: [] }, /conversations is empty/],
  ['turn not an object', { ...good('x'), conversations: ['<image>\nhi', 'yo'] }, /conversations\[0\] must be an object/],
  ['gpt first', { ...good('x'), conversations: turns(['gpt', '<image>\nhi'], ['human', 'x']) }, /conversations\[0\]\.from must be "human", got "gpt"/],
  ['two human turns in a row', { ...good('x'), conversations: turns(['human', '<image>\nhi'], ['human', 'x']) }, /conversations\[1\]\.from must be "gpt", got "human"/],
  ['unknown speaker', { ...good('x'), conversations: turns(['human', '<image>\nhi'], ['assistant', 'x']) }, /conversations\[1\]\.from must be "gpt", got "assistant"/],
  ['ends on a human turn', { ...good('x'), conversations: turns(['human', '<image>\nhi'], ['gpt', 'x'], ['human', 'and?']) }, /must end with a gpt turn/],
  ['empty value', { ...good('x'), conversations: turns(['human', '<image>\nhi'], ['gpt', '  ']) }, /conversations\[1\]\.value is empty/],
  ['value not a string', { ...good('x'), conversations: turns(['human', '<image>\nhi'], ['gpt', 4]) }, /conversations\[1\]\.value must be a string/],
  ['no <image> for an image', { ...good('x'), conversations: turns(['human', 'hi'], ['gpt', 'x']) }, /0 <image> token\(s\) for 1 image\(s\)/],
  ['one <image> for two images', { ...good('x'), image: ['a.png', 'b.png'] }, /1 <image> token\(s\) for 2 image\(s\)/],
  ['<image> without an image', { id: 'x', conversations: turns(['human', '<image>\nhi'], ['gpt', 'x']) }, /1 <image> token\(s\) for 0 image\(s\)/],
  ['<image> in a gpt turn', { ...good('x'), conversations: turns(['human', '<image>\nhi'], ['gpt', '<image>']) }, /gpt turn holding <image>/],
  ['task not a string', { ...good('x'), task: 3 }, /task must be a string/],
];

describe('LLaVA JSON reader', () => {
  it.each(MALFORMED)('rejects a record with %s, naming its index and the reason', (_, bad, reason) => {
    const e = rejection(bad);
    expect(e.index).toBe(2);
    expect(e.reason).toMatch(reason);
    expect(e.message).toMatch(/^LLaVA JSON record 2: /);
  });

  it('rejects a file that is not JSON or not an array, with index -1', () => {
    expect(() => readLlavaJson('{"id": ')).toThrow(/not JSON/);
    const e = (() => {
      try {
        validateLlava({ id: 'x' });
      } catch (err) {
        return err as LlavaFormatError;
      }
      return null;
    })();
    expect(e?.index).toBe(-1);
    expect(e?.reason).toMatch(/top level must be an array/);
  });

  it('accepts text-only records, image arrays with one token each, multi-turn and unknown keys', () => {
    const records = readLlavaJson(
      JSON.stringify([
        { id: 't', conversations: turns(['human', 'hello'], ['gpt', 'hi']) },
        { id: 'two', image: ['a.png', 'b.png'], conversations: turns(['human', '<image>\n<image>\ndiff?'], ['gpt', 'x']), model: 'y' },
        { id: 'm', image: 'a.png', conversations: turns(['human', 'q1'], ['gpt', 'a1'], ['human', '<image>\nq2'], ['gpt', 'a2']) },
      ]),
    );
    expect(records.map((r) => recordImages(r).length)).toEqual([0, 2, 1]);
    expect(records[1]).not.toHaveProperty('model');
  });
});

describe('LLaVA JSON writer', () => {
  it('writes every task as records the reader accepts unchanged', () => {
    const samples = [...generateSplit({ ...DEFAULT_TASK_OPTIONS, seed: 4, count: TASK_NAMES.length * 3, tasks: TASK_NAMES })];
    const records: LlavaRecord[] = samples.map((s) => toLlavaRecord(s));
    const text = serialiseLlava(records);
    expect(readLlavaJson(text)).toEqual(JSON.parse(text));
    expect(new Set(records.map((r) => r.task))).toEqual(new Set(TASK_NAMES));
    const compare = records.find((r) => r.task === 'compare');
    expect(compare?.image).toEqual([`images/${compare?.id}-0.png`, `images/${compare?.id}-1.png`]);
    // One record per line, so the file greps and diffs record by record.
    expect(text.split('\n').length).toBe(records.length + 3);
  });
});
