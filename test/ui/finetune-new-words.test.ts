import { describe, expect, it } from 'vitest';
import { readSettings, splitWords, toInput, type SettingsInput } from '../../src/ui/finetune/settings';
import { DEFAULT_FINETUNE_SETTINGS } from '../../src/worker/finetune-api';

// The Fine-tune view's "Teach new words" settings: off by default, read into
// visionLastLayers, newWords and tokenLearningRate, each problem named.

const withWords = (visionLastLayers: string, words: string, learningRate = ''): SettingsInput => ({ ...toInput(), newWords: { visionLastLayers, words, learningRate } });

const read = (input: SettingsInput) => {
  const r = readSettings(input);
  if ('problems' in r) throw new Error(r.problems.map((p) => p.message).join(' '));
  return r.settings;
};

describe('fine-tune settings: teach new words', () => {
  it('defaults to a frozen tower and no words, and reads back as the defaults', () => {
    const input = toInput();
    expect(input.newWords).toEqual({ visionLastLayers: '0', words: '', learningRate: '' });
    expect(read(input)).toEqual(DEFAULT_FINETUNE_SETTINGS);
    expect(read(withWords('', '  '))).toEqual(DEFAULT_FINETUNE_SETTINGS);
  });

  it("reads the tower's last N layers, the words (commas or spaces, duplicates dropped) and their rate, and shows them again", () => {
    const s = read(withWords('2', 'star, stars purple,star', '5e-3'));
    expect(s.visionLastLayers).toBe(2);
    expect(s.newWords).toEqual(['star', 'stars', 'purple']);
    expect(s.tokenLearningRate).toBe(5e-3);
    expect(toInput(s).newWords).toEqual({ visionLastLayers: '2', words: 'star, stars, purple', learningRate: '0.005' });
    expect(read(withWords('0', 'star')).tokenLearningRate).toBeUndefined();
    expect(splitWords(' a,,b  c ')).toEqual(['a', 'b', 'c']);
  });

  it('names a bad layer count, a word that is not one word, and a bad rate', () => {
    const r = readSettings(withWords('1.5', 'star <b>', '0'));
    expect('problems' in r ? r.problems.map((p) => p.field) : []).toEqual(['visionLastLayers', 'newWords', 'tokenLearningRate']);
    const r2 = readSettings(withWords('-1', 'star', 'x'));
    expect('problems' in r2 ? r2.problems.map((p) => p.message) : []).toEqual([
      'Vision tower: last N layers must be a whole number from 0 to 64 (got "-1").',
      `The new words' learning rate must be above 0 and at most 1, or empty for the adapter's (got "x").`,
    ]);
  });
});
