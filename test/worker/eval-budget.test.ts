import { describe, expect, it } from 'vitest';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { generateSplit } from '../../src/data/split';
import { TASK_NAMES } from '../../src/data/tasks/registry';
import { DEFAULT_TASK_OPTIONS } from '../../src/data/tasks/types';
import { EVAL_MAX_NEW_TOKENS } from '../../src/worker/jobs/eval-questions';
import { MODELS_DIR, MODEL_NAME } from '../models/golden';

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = MODELS_DIR;

// The in-browser eval scores an answer cut at its token budget as wrong, so the
// budget must hold every answer the generator writes, the end-of-turn token included.
describe('the eval token budget', () => {
  it('holds the longest answer of every task (five-object scenes, where answers are longest)', async () => {
    const tok = await AutoTokenizer.from_pretrained(MODEL_NAME);
    const longest = new Map<string, number>();
    for (const minObjects of [1, 5]) {
      const split = generateSplit({ ...DEFAULT_TASK_OPTIONS, minObjects, maxObjects: 5, seed: 31, count: 8 * TASK_NAMES.length, tasks: TASK_NAMES });
      for (const sample of split) {
        for (const turn of sample.conversations.filter((t) => t.from === 'gpt')) {
          const n = tok.encode(turn.value).length + 1;
          longest.set(sample.task, Math.max(longest.get(sample.task) ?? 0, n));
        }
      }
    }
    expect(longest.size).toBe(TASK_NAMES.length);
    // Boxes for every object of a five-object scene are the longest answers: about 25 tokens a box.
    expect(longest.get('grounding-all')).toBeGreaterThan(100);
    for (const [task, n] of longest) expect(n, task).toBeLessThanOrEqual(EVAL_MAX_NEW_TOKENS);
  });
});
