import { describe, expect, it } from 'vitest';
import { memoryKv, type KvStore } from '../../src/worker/cache/kv';
import { VlmError } from '../../src/worker/errors';
import type { FinetuneEvent, FinetuneSettings } from '../../src/worker/finetune-api';
import { AdapterSession } from '../../src/worker/jobs/finetune/adapter-session';
import { CheckpointStore, type Checkpoint } from '../../src/worker/jobs/finetune/checkpoint-store';
import { FinetuneJob } from '../../src/worker/jobs/finetune/finetune-job';
import { FakeModel, fakeDataset, fakeDecode, settings } from './finetune-fakes';

function setup(kv: KvStore = memoryKv(), model = new FakeModel()) {
  const token = {};
  const adapters = new AdapterSession(() => token, () => model);
  const job = new FinetuneJob({ model: () => model, store: new CheckpointStore(kv), adapters, decode: fakeDecode, now: () => 0 });
  return { job, adapters, model, kv };
}

const weights = (a: AdapterSession) => Array.from(a.adapter()?.tensors[0]?.data ?? []);

async function uninterrupted(s: FinetuneSettings) {
  const t = setup();
  const run = await t.job.start(fakeDataset(20), s);
  return { run, weights: weights(t.adapters) };
}

/** A store that logs every write and delete and refuses, like a full disk, the writes `refuse` picks. */
function loggingKv(refuse: (key: string) => boolean = () => false) {
  const inner = memoryKv();
  const log: string[] = [];
  const kv: KvStore = {
    get: (k) => inner.get(k),
    keys: () => inner.keys(),
    del: async (k) => {
      log.push(`del ${k}`);
      await inner.del(k);
    },
    set: async (k, v) => {
      if (refuse(k)) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      log.push(`set ${k}`);
      await inner.set(k, v);
    },
  };
  return { kv, log, inner };
}

describe('fine-tune job', () => {
  it('prepares, trains, validates and checkpoints, then hands its adapter to the session and forgets the run', async () => {
    const t = setup();
    const events: FinetuneEvent[] = [];
    const run = await t.job.start(fakeDataset(20), settings(), (e) => events.push(e));
    expect(run.state).toBe('finished');
    expect(run.step).toBe(8);
    expect(run.curve.length).toBe(8);
    expect([run.trainExamples, run.validationExamples]).toEqual([18, 2]);
    expect(events.filter((e) => e.kind === 'preparing').at(-1)).toEqual({ kind: 'preparing', done: 20, total: 20 });
    expect(events.filter((e) => e.kind === 'checkpoint').map((e) => e.step)).toEqual([2, 4, 6]);
    expect(events.map((e) => e.kind).filter((k) => k === 'started' || k === 'stopped')).toEqual(['started', 'stopped']);
    expect(t.adapters.state()).toMatchObject({ source: 'trained', applied: false, merged: false, parameters: 4 });
    expect(t.model.trainables[0]?.released).toBe(true);
    expect(await t.job.saved()).toBeNull();
  });

  it('pause, reload and resume end in the same adapter and curves as a run that never stopped', async () => {
    const s = settings({ steps: 9, checkpointEvery: 4 });
    const straight = await uninterrupted(s);
    const kv = memoryKv();
    const first = setup(kv);
    const paused = await first.job.start(fakeDataset(20), s, (e) => {
      if (e.kind === 'step' && e.step === 5) first.job.pause();
    });
    expect(paused.state).toBe('paused');
    expect(paused.checkpointStep).toBe(5);
    expect((await first.job.saved())?.state).toBe('paused');
    // A reload: a new worker with the same IndexedDB.
    const second = setup(kv);
    const events: FinetuneEvent[] = [];
    const resumed = await second.job.resume((e) => events.push(e));
    expect(resumed.state).toBe('finished');
    expect(events.filter((e) => e.kind === 'step').map((e) => e.step)).toEqual([6, 7, 8, 9]);
    expect(resumed.curve).toEqual(straight.run.curve);
    expect(resumed.validation).toEqual(straight.run.validation);
    expect(weights(second.adapters)).toEqual(straight.weights);
  });

  it('resumes a run cut short by a reload from its last periodic checkpoint', async () => {
    const s = settings({ steps: 9, checkpointEvery: 3 });
    const straight = await uninterrupted(s);
    const kv = memoryKv();
    const first = setup(kv);
    // What IndexedDB holds when the page goes away after step 4.
    let atReload = new Map<string, unknown>();
    await first.job.start(fakeDataset(20), s, (e) => {
      if (e.kind === 'step' && e.step === 4) atReload = new Map([...kv.map].map(([k, v]) => [k, structuredClone(v)]));
    });
    const reloaded = memoryKv();
    for (const [k, v] of atReload) reloaded.map.set(k, v);
    const second = setup(reloaded);
    expect(await second.job.saved()).toMatchObject({ state: 'running', checkpointStep: 3, step: 3 });
    const resumed = await second.job.resume();
    expect(resumed.curve).toEqual(straight.run.curve);
    expect(weights(second.adapters)).toEqual(straight.weights);
  });

  it('writes a new checkpoint in full before making it the latest, and deletes the old one after', async () => {
    const { kv, log } = loggingKv();
    await setup(kv).job.start(fakeDataset(20), settings({ steps: 5, checkpointEvery: 2 }), (e) => {
      if (e.kind === 'step' && e.step === 5) log.push('step 5');
    });
    const writes = log.filter((l) => l.includes('checkpoint:') || l.startsWith('set latest'));
    const id = /checkpoint:(run-[^:]+):/.exec(writes.find((l) => l.includes('checkpoint:')) ?? '')?.[1] ?? '?';
    // The run's start, two checkpoints, then the finished run forgets the last one.
    expect(writes).toEqual(['set latest', `set checkpoint:${id}:2`, 'set latest', `set checkpoint:${id}:4`, 'set latest', `del checkpoint:${id}:2`, `del checkpoint:${id}:4`]);
  });

  it('a full disk while saving a checkpoint stops with storage-quota and leaves the previous checkpoint intact', async () => {
    let full = false;
    const { kv, inner } = loggingKv((k) => full && k.startsWith('checkpoint:'));
    const t = setup(kv);
    let atTwo: Checkpoint | undefined;
    const err = await t.job
      .start(fakeDataset(20), settings({ steps: 8, checkpointEvery: 2 }), (e) => {
        if (e.kind === 'checkpoint' && e.step === 2) {
          full = true;
          void inner.keys().then(async (keys) => (atTwo = (await inner.get(keys.find((k) => k.startsWith('checkpoint:')) ?? '')) as Checkpoint));
        }
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VlmError);
    expect((err as VlmError).code).toBe('storage-quota');
    expect((err as VlmError).message).toContain('checkpoint of step 4');
    expect((err as VlmError).message).toContain('the checkpoint of step 2 is kept');
    const loaded = await new CheckpointStore(kv).load();
    expect(loaded?.checkpoint?.run.step).toBe(2);
    expect(loaded?.checkpoint).toEqual(atTwo);
    expect((await t.job.saved())?.checkpointStep).toBe(2);
    // Room again: the run resumes from step 2 and ends where a run that never failed ends.
    full = false;
    const resumed = await setup(kv).job.resume();
    const straight = await uninterrupted(settings({ steps: 8, checkpointEvery: 2 }));
    expect(resumed.curve).toEqual(straight.run.curve);
  });

  it('a full disk before the first step refuses the run with storage-quota', async () => {
    const { kv } = loggingKv((k) => k.startsWith('dataset:'));
    const t = setup(kv);
    const err = await t.job.start(fakeDataset(20), settings()).catch((e: unknown) => e);
    expect((err as VlmError).code).toBe('storage-quota');
    expect((err as VlmError).message).toContain('the run was not started');
    expect(t.model.trainables).toHaveLength(0);
    expect(await t.job.saved()).toBeNull();
  });

  it('a learning rate that makes the loss NaN ends the run as diverged with the last good adapter held', async () => {
    const t = setup();
    const run = await t.job.start(fakeDataset(20), settings({ learningRate: 1e4, warmupSteps: 0, schedule: 'constant' }));
    expect(run.state).toBe('diverged');
    expect(run.step).toBe(1);
    expect(run.message).toMatch(/loss became NaN at step 2 \(learning rate 1\.00e\+4\)/);
    expect(t.adapters.state()?.name).toBe('squares, step 1');
    expect(weights(t.adapters).every(Number.isFinite)).toBe(true);
    expect(await t.job.saved()).toBeNull();
  });

  it('cancel keeps the adapter of the last finished step and forgets the run', async () => {
    const t = setup();
    let atThree: number[] = [];
    const run = await t.job.start(fakeDataset(20), settings({ steps: 8 }), (e) => {
      if (e.kind !== 'step' || e.step !== 3) return;
      void t.model.trainables[0]?.exportAdapter().then((a) => (atThree = Array.from(a.tensors[0]?.data ?? [])));
      t.job.cancel();
    });
    expect(run.state).toBe('cancelled');
    expect(run.step).toBe(3);
    expect(atThree.length).toBe(4);
    expect(weights(t.adapters)).toEqual(atThree);
    expect(t.adapters.state()?.name).toBe('squares, step 3');
    expect(await t.job.saved()).toBeNull();
  });

  it('Pause while the examples are prepared saves the run at step 0; Cancel then ends without training', async () => {
    const t = setup();
    const run = await t.job.start(fakeDataset(20), settings(), (e) => {
      if (e.kind === 'preparing' && e.done === 5) t.job.pause();
    });
    expect(run).toMatchObject({ state: 'paused', step: 0, checkpointStep: 0 });
    expect((await t.job.saved())?.state).toBe('paused');
    const resumed = await setup(t.kv).job.resume();
    expect(resumed.curve.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const c = setup();
    const err = await c.job
      .start(fakeDataset(20), settings(), (e) => {
        if (e.kind === 'preparing' && e.done === 5) c.job.cancel();
      })
      .catch((e: unknown) => e);
    expect((err as VlmError).code).toBe('cancelled');
    expect(c.model.trainables).toHaveLength(0);
  });

  it('leaves out records whose answers fall past the maximum length, naming them', async () => {
    const t = setup();
    const data = fakeDataset(12);
    const long = { id: 'long', conversations: [{ from: 'human' as const, value: 'x'.repeat(80) }, { from: 'gpt' as const, value: 'y' }] };
    const run = await t.job.start({ ...data, records: [...data.records, long] }, settings({ steps: 2, maxSeqLength: 40 }));
    expect(run.skipped).toEqual(['record 12 (long): no answer token falls within the first 40 tokens (it has 83); raise the maximum sequence length to train on it']);
    expect(run.trainExamples + run.validationExamples).toBe(12);
    expect(run.validationExamples).toBe(1);
  });

  it('refuses settings that cannot train, naming the setting', async () => {
    const t = setup();
    await expect(t.job.start(fakeDataset(5), settings({ batchSize: 0 }))).rejects.toThrow(/batchSize/);
    await expect(t.job.start(fakeDataset(5), settings({ targetModules: [] }))).rejects.toThrow(/target module/);
  });
});
