import { describe, expect, it } from 'vitest';
import type { LoraTrainable } from '../../src/models/lora/types';
import type { FinetuneEvent, FinetuneSettings } from '../../src/worker/finetune-api';
import { epochOrder } from '../../src/worker/jobs/finetune/data-order';
import { prepareData } from '../../src/worker/jobs/finetune/prepare';
import { clipScale, supervisedTokens, TrainingLoop, type LoopControl, type LoopEnd, type LoopProgress } from '../../src/worker/jobs/finetune/run-loop';
import { learningRateAt } from '../../src/worker/jobs/finetune/schedule';
import { FakeModel, FakeTrainable, fakeDataset, fakeDecode, settings } from './finetune-fakes';

async function data(s: FinetuneSettings, n = 20) {
  const d = await prepareData(fakeDataset(n), new FakeModel(), s, fakeDecode);
  if (!d) throw new Error('prepareData was not cancelled, yet returned nothing');
  return d;
}

async function train(s: FinetuneSettings, trainable: LoraTrainable = new FakeTrainable({ rank: 1, alpha: 1, dropout: 0, targetModules: ['q_proj'], trainProjector: false, baseModel: 'fake' })) {
  const d = await data(s);
  const events: FinetuneEvent[] = [];
  const control: LoopControl = { pauseRequested: () => false, cancel: new AbortController().signal, checkpoint: async () => undefined, onEvent: (e) => events.push(e), now: () => events.length };
  const loop = new TrainingLoop(trainable, d, s, s.steps, control);
  const progress: LoopProgress = { step: 0, order: epochOrder(s.seed, 0, d.train.length), curve: [], validation: [] };
  const end: LoopEnd = await loop.run(progress);
  return { end, events, progress, data: d, adapter: await trainable.exportAdapter() };
}

describe('fine-tune training loop', () => {
  it('prepares each record with its processed image, and names a record whose image is missing', async () => {
    const set = fakeDataset(10);
    const missing = { id: 'lost', image: 'images/none.png', conversations: [{ from: 'human' as const, value: '<image>\nwhat?' }, { from: 'gpt' as const, value: 'x' }] };
    const d = await prepareData({ ...set, records: [...set.records, missing] }, new FakeModel(), settings(), fakeDecode);
    const all = [...(d?.train ?? []), ...(d?.validation ?? [])];
    expect(all.length).toBe(10);
    expect(all.find((ex) => ex.id === 'r5')?.pixels).toEqual([Float32Array.of(3, 2)]);
    expect(all.find((ex) => ex.id === 'r6')?.pixels).toEqual([]);
    expect(d?.skipped).toEqual(['record 10 (lost): its image images/none.png is not in the data set']);
  });

  it('scales each sequence by 1 / (supervised tokens of the whole step), so micro-batches and accumulation give the same update', async () => {
    const a = await train(settings({ batchSize: 4, gradAccumulation: 1 }));
    const b = await train(settings({ batchSize: 2, gradAccumulation: 2 }));
    const c = await train(settings({ batchSize: 1, gradAccumulation: 4 }));
    expect(a.end.state).toBe('finished');
    expect(Array.from(b.adapter.tensors[0]?.data ?? [])).toEqual(Array.from(a.adapter.tensors[0]?.data ?? []));
    expect(Array.from(c.adapter.tensors[0]?.data ?? [])).toEqual(Array.from(a.adapter.tensors[0]?.data ?? []));

    const t = new FakeTrainable({ rank: 1, alpha: 1, dropout: 0, targetModules: ['q_proj'], trainProjector: false, baseModel: 'fake' });
    const r = await train(settings({ batchSize: 2, gradAccumulation: 2, steps: 3 }), t);
    const byId = new Map(r.data.train.map((ex) => [ex.id, ex]));
    for (let step = 0; step < 3; step++) {
      const calls = t.calls.slice(step * 4, step * 4 + 4);
      const tokens = calls.reduce((n, call) => n + supervisedTokens(byId.get(call.id) ?? { id: '', ids: new Int32Array(), labels: new Int32Array(), pixels: [] }), 0);
      for (const call of calls) expect(call.scale).toBe(1 / tokens);
    }
    // Every sequence draws its own dropout mask, the same one on every run.
    expect(new Set(t.calls.map((call) => call.dropoutSeed)).size).toBe(t.calls.length);
  });

  it('follows the warm-up + cosine schedule and reports the loss of each step', async () => {
    const s = settings({ steps: 6, warmupSteps: 2 });
    const t = new FakeTrainable({ rank: 1, alpha: 1, dropout: 0, targetModules: ['q_proj'], trainProjector: false, baseModel: 'fake' });
    const r = await train(s, t);
    expect(t.steps.map((o) => o.lr)).toEqual([1, 2, 3, 4, 5, 6].map((k) => learningRateAt(k, 6, s)));
    expect(t.steps.map((o) => o.step)).toEqual([1, 2, 3, 4, 5, 6]);
    const steps = r.events.filter((e) => e.kind === 'step');
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.progress.curve.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // Validation every 3 steps and at the end, on the held-out slice.
    expect(r.data.validation.length).toBe(2);
    expect(r.events.filter((e) => e.kind === 'validation').map((e) => e.step)).toEqual([3, 6]);
    const last = steps.at(-1);
    expect(last?.kind === 'step' && last.etaMs).toBe(0);
  });

  it('clips the gradient norm as clip_grad_norm_ does and reports the norm before clipping', async () => {
    const t = new FakeTrainable({ rank: 1, alpha: 1, dropout: 0, targetModules: ['q_proj'], trainProjector: false, baseModel: 'fake' });
    const r = await train(settings({ steps: 4, maxGradNorm: 0.01 }), t);
    const norms = r.events.flatMap((e) => (e.kind === 'step' ? [e.gradNorm] : []));
    expect(norms.every((n) => n > 0.01)).toBe(true);
    expect(t.steps.map((o) => o.gradScale)).toEqual(norms.map((n) => 0.01 / (n + 1e-6)));
    const loose = new FakeTrainable({ rank: 1, alpha: 1, dropout: 0, targetModules: ['q_proj'], trainProjector: false, baseModel: 'fake' });
    await train(settings({ steps: 4, maxGradNorm: 1e6 }), loose);
    expect(loose.steps.every((o) => o.gradScale === 1)).toBe(true);
    expect(clipScale(3, 0)).toBe(1);
  });

  it('stops as diverged before the update when the loss becomes NaN, keeping the last good adapter', async () => {
    const s = settings({ steps: 10, learningRate: 1e4, warmupSteps: 0, schedule: 'constant' });
    const t = new FakeTrainable({ rank: 1, alpha: 1, dropout: 0, targetModules: ['q_proj'], trainProjector: false, baseModel: 'fake' });
    const r = await train(s, t);
    expect(r.end.state).toBe('diverged');
    expect(t.steps.length).toBe(1);
    expect(r.progress.step).toBe(1);
    expect(r.progress.curve.every((p) => Number.isFinite(p.loss))).toBe(true);
    const message = r.end.state === 'diverged' ? r.end.message : '';
    expect(message).toContain('at step 2');
    expect(message).toContain('learning rate 1.00e+4');
    expect(message).toContain('adapter from step 1 is kept');
    // The adapter is the one step 1 left: replaying step 1 alone gives the same weights.
    const one = await train(settings({ steps: 1, learningRate: 1e4, warmupSteps: 0, schedule: 'constant' }));
    expect(Array.from(r.adapter.tensors[0]?.data ?? [])).toEqual(Array.from(one.adapter.tensors[0]?.data ?? []));
  });
});
