import { describe, expect, it } from 'vitest';
import { readSettings, toInput, type SettingsInput } from '../../src/ui/finetune/settings';
import { DEFAULT_FINETUNE_SETTINGS } from '../../src/worker/finetune-api';

const edit = (numbers: Partial<SettingsInput['numbers']>, rest: Partial<Omit<SettingsInput, 'numbers'>> = {}): SettingsInput => {
  const base = toInput();
  return { ...base, ...rest, numbers: { ...base.numbers, ...numbers } };
};

const problems = (input: SettingsInput) => {
  const r = readSettings(input);
  return 'problems' in r ? r.problems : [];
};

describe('fine-tune settings form', () => {
  it('reads the defaults back unchanged', () => {
    expect(readSettings(toInput())).toEqual({ settings: DEFAULT_FINETUNE_SETTINGS });
  });

  it('parses edited numbers and keeps the targets in PEFT order', () => {
    const r = readSettings(edit({ rank: '4', learningRate: '1e-3', steps: '30' }, { targetModules: ['v_proj', 'gate_proj', 'q_proj'], schedule: 'constant' }));
    expect(r).toEqual({ settings: { ...DEFAULT_FINETUNE_SETTINGS, rank: 4, learningRate: 1e-3, steps: 30, targetModules: ['q_proj', 'v_proj', 'gate_proj'], schedule: 'constant' } });
  });

  it('names each bad field with its bounds', () => {
    const list = problems(edit({ rank: '2.5', learningRate: '0', dropout: '1', validationFraction: '0.7', batchSize: 'x' }));
    expect(list.map((p) => p.field)).toEqual(['rank', 'dropout', 'learningRate', 'batchSize', 'validationFraction']);
    expect(list[0]?.message).toBe('Rank must be a whole number (got 2.5).');
    expect(list[1]?.message).toBe('Dropout must be at least 0 and below 1 (got 1).');
    expect(list[2]?.message).toBe('Learning rate must be above 0 and at most 1 (got 0).');
    expect(list[3]?.message).toBe('Batch size must be a number (got "x").');
    expect(list[4]?.message).toBe('Validation share must be at least 0 and at most 0.5 (got 0.7).');
  });

  it('refuses no targets without the projector, and a run of no length', () => {
    expect(problems(edit({}, { targetModules: [] })).map((p) => p.field)).toEqual(['targetModules']);
    expect(problems(edit({}, { targetModules: [], trainProjector: true }))).toEqual([]);
    expect(problems(edit({ steps: '0', epochs: '0' })).map((p) => p.message)).toEqual(['Set Steps, or Epochs when Steps is 0: with both 0 nothing would be trained.']);
  });
});
