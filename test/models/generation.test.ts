import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { applyRepetitionPenalty, argmax, candidateDistribution, generate, isPlainGreedy, sampleToken, validateSampling } from '../../src/models/generation';

const logits = (...v: number[]) => Float32Array.from(v);

describe('token selection', () => {
  it('greedy picks the lowest index among ties, like torch.argmax', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(sampleToken(logits(0, 5, 1), [], { maxNewTokens: 1 }, new Rng(1))).toBe(1);
  });

  it('repetition penalty divides positive and multiplies negative logits of seen tokens once', () => {
    const l = logits(2, -2, 4, 1);
    applyRepetitionPenalty(l, [0, 1, 0], 2);
    expect(Array.from(l)).toEqual([1, -4, 4, 1]);
    expect(sampleToken(logits(3, 2.5), [0], { maxNewTokens: 1, repetitionPenalty: 2 }, new Rng(1))).toBe(1);
  });

  it('top-k keeps k tokens and renormalises', () => {
    const d = candidateDistribution([0, 1, 2, 3], { topK: 2 });
    expect(d.map((c) => c.id)).toEqual([3, 2]);
    expect(d[0]?.p).toBeCloseTo(Math.E / (Math.E + 1), 12);
  });

  it('top-p keeps the smallest prefix reaching p', () => {
    const probs = [0.5, 0.3, 0.15, 0.05];
    const l = probs.map(Math.log);
    expect(candidateDistribution(l, { topP: 0.79 }).map((c) => c.id)).toEqual([0, 1]);
    expect(candidateDistribution(l, { topP: 0.81 }).map((c) => c.id)).toEqual([0, 1, 2]);
    expect(candidateDistribution(l, { topP: 0.5 }).map((c) => c.id)).toEqual([0]);
  });

  it('temperature sharpens and flattens', () => {
    const cold = candidateDistribution([0, 1], { temperature: 0.1 });
    const hot = candidateDistribution([0, 1], { temperature: 10 });
    expect(cold[0]?.p).toBeGreaterThan(0.99);
    expect(hot[0]?.p).toBeLessThan(0.53);
  });

  it('sampling follows the distribution and is reproducible by seed', () => {
    const l = logits(Math.log(0.7), Math.log(0.3));
    const rng = new Rng(5);
    let ones = 0;
    for (let i = 0; i < 4000; i++) ones += sampleToken(l, [], { maxNewTokens: 1, temperature: 1 }, rng);
    expect(ones / 4000).toBeGreaterThan(0.27);
    expect(ones / 4000).toBeLessThan(0.33);
    const a = Array.from({ length: 20 }, (_, i) => sampleToken(l, [], { maxNewTokens: 1, temperature: 1 }, new Rng(i)));
    const b = Array.from({ length: 20 }, (_, i) => sampleToken(l, [], { maxNewTokens: 1, temperature: 1 }, new Rng(i)));
    expect(a).toEqual(b);
  });

  it('rejects bad options with a message naming the option', () => {
    expect(validateSampling({ maxNewTokens: 0 })).toMatch(/maxNewTokens/);
    expect(validateSampling({ maxNewTokens: 5, topP: 0 })).toMatch(/topP/);
    expect(validateSampling({ maxNewTokens: 5, temperature: -1 })).toMatch(/temperature/);
    expect(validateSampling({ maxNewTokens: 5, temperature: 0.7, topK: 40, topP: 0.9 })).toBeNull();
  });
});

describe('generation loop', () => {
  // A fake engine: after token i it puts all weight on token (i + 1) % 5.
  const next = (id: number) => Promise.resolve(Float32Array.from({ length: 5 }, (_, j) => (j === (id + 1) % 5 ? 10 : 0)));

  it('streams tokens and stops at the budget', async () => {
    const streamed: number[] = [];
    const r = await generate(logits(10, 0, 0, 0, 0), next, { maxNewTokens: 3 }, [], (id) => streamed.push(id));
    expect(r).toEqual({ ids: [0, 1, 2], finishReason: 'length' });
    expect(streamed).toEqual([0, 1, 2]);
  });

  it('stops on a stop token without emitting it', async () => {
    const r = await generate(logits(10, 0, 0, 0, 0), next, { maxNewTokens: 10, stopTokenIds: [3] }, [], () => undefined);
    expect(r).toEqual({ ids: [0, 1, 2], finishReason: 'stop' });
  });

  it('cancels between tokens', async () => {
    const ctrl = new AbortController();
    const r = await generate(logits(10, 0, 0, 0, 0), next, { maxNewTokens: 10 }, [], (id) => id === 1 && ctrl.abort(), ctrl.signal);
    expect(r).toEqual({ ids: [0, 1], finishReason: 'cancelled' });
  });

  it("greedy search takes the engine's own argmax when offered, and the logits whenever the choice needs them", async () => {
    const asked: string[] = [];
    const logitsOf = (id: number) => {
      asked.push(`logits ${id}`);
      return next(id);
    };
    const idOf = async (id: number) => {
      asked.push(`id ${id}`);
      return argmax(await next(id));
    };
    const greedy = await generate(logits(10, 0, 0, 0, 0), logitsOf, { maxNewTokens: 4, stopTokenIds: [3] }, [], () => undefined, undefined, idOf);
    expect(greedy).toEqual({ ids: [0, 1, 2], finishReason: 'stop' });
    expect(asked).toEqual(['id 0', 'id 1', 'id 2']);
    expect(isPlainGreedy({ maxNewTokens: 1, temperature: 0, repetitionPenalty: 1 })).toBe(true);
    for (const o of [{ temperature: 0.7 }, { repetitionPenalty: 1.2 }]) {
      asked.length = 0;
      const r = await generate(logits(10, 0, 0, 0, 0), logitsOf, { maxNewTokens: 3, seed: 1, ...o }, [], () => undefined, undefined, idOf);
      expect(r.ids).toHaveLength(3);
      expect(asked).toEqual(r.ids.slice(0, 2).map((id) => `logits ${id}`));
      expect(isPlainGreedy({ maxNewTokens: 1, ...o })).toBe(false);
    }
  });
});
