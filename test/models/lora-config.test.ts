import { describe, expect, it } from 'vitest';
import { memoryKv } from '../../src/worker/cache/kv';
import { AdapterSession } from '../../src/worker/jobs/finetune/adapter-session';
import { CheckpointStore } from '../../src/worker/jobs/finetune/checkpoint-store';
import { FinetuneJob, loraConfigFor } from '../../src/worker/jobs/finetune/finetune-job';
import { checkSettings } from '../../src/worker/jobs/finetune/settings';
import { FakeModel, fakeDataset, fakeDecode, settings } from '../worker/finetune-fakes';

// The settings that teach new words reach the adapter's config and the
// optimizer: the vision tower's last N layers, the new words' token ids and
// their own learning rate, on the run's schedule.

/** The fake model with a 4-layer vision tower and a tokenizer that knows three single-token words. */
class WordModel extends FakeModel {
  readonly visionLayers = 4;
  wordTokens(words: readonly string[]): number[] {
    const known: Record<string, number> = { star: 684, stars: 724, purple: 725 };
    return words.map((w) => {
      const id = known[w];
      if (id === undefined) throw new Error(`"${w}" is 2 tokens`);
      return id;
    });
  }
}

describe('vision layers and new words in the fine-tune settings', () => {
  it('defaults train neither; last N layers and words become vision layers, token ids and their rate', () => {
    const model = new WordModel();
    const plain = loraConfigFor(settings(), 'fake', model);
    expect(plain.visionLayers).toBeUndefined();
    expect(plain.tokenIds).toBeUndefined();
    const c = loraConfigFor(settings({ visionLastLayers: 2, newWords: ['purple', ' star', 'stars', ''], tokenLearningRate: 5e-3 }), 'fake', model);
    expect(c.visionLayers).toEqual([2, 3]);
    expect(c.visionTargets).toEqual(['q_proj', 'k_proj', 'v_proj', 'out_proj', 'fc1', 'fc2']);
    expect(c.tokenIds).toEqual([684, 724, 725]);
    expect(c.tokenWords).toEqual(['purple', 'star', 'stars']);
    expect(c.tokenLr).toBe(5e-3);
    expect(loraConfigFor(settings({ newWords: ['star'] }), 'fake', model).tokenLr).toBe(settings().learningRate);
  });

  it('refuses more vision layers than the tower has, a model without a tower or word rows, and bad values', () => {
    expect(() => loraConfigFor(settings({ visionLastLayers: 5 }), 'fake', new WordModel())).toThrow(/4 layers/);
    expect(() => loraConfigFor(settings({ visionLastLayers: 1 }), 'fake', new FakeModel())).toThrow(/last N layers/);
    expect(() => loraConfigFor(settings({ newWords: ['star'] }), 'fake', new FakeModel())).toThrow(/new words/);
    expect(() => checkSettings(settings({ visionLastLayers: -1 }))).toThrow(/visionLastLayers/);
    expect(() => checkSettings(settings({ tokenLearningRate: 0 }))).toThrow(/tokenLearningRate/);
    expect(() => checkSettings(settings({ newWords: ['two words'] }))).toThrow(/one word/);
    expect(() => checkSettings(settings({ visionLastLayers: 2, newWords: ['star'], tokenLearningRate: 5e-3 }))).not.toThrow();
  });

  it('a run gives the token rows their rate times the schedule, and keeps the settings in its record', async () => {
    const model = new WordModel();
    const job = new FinetuneJob({ model: () => model, store: new CheckpointStore(memoryKv()), adapters: new AdapterSession(() => ({}), () => model), decode: fakeDecode, now: () => 0 });
    const s = settings({ visionLastLayers: 1, newWords: ['star'], tokenLearningRate: 0.5 });
    const run = await job.start(fakeDataset(20), s);
    const trainable = model.trainables[0];
    expect(trainable?.config.visionLayers).toEqual([3]);
    expect(trainable?.config.tokenIds).toEqual([684]);
    const steps = trainable?.steps ?? [];
    expect(steps.length).toBe(s.steps);
    for (const step of steps) expect((step as { tokenLr?: number }).tokenLr).toBeCloseTo((step.lr * 0.5) / s.learningRate, 12);
    expect(steps.some((st) => st.lr > 0)).toBe(true);
    expect(run.settings.newWords).toEqual(['star']);
    expect(run.settings.visionLastLayers).toBe(1);
  });
});
