import { describe, expect, it } from 'vitest';
import { memoryKv } from '../../src/worker/cache/kv';
import { VlmError } from '../../src/worker/errors';
import { FinetuneService } from '../../src/worker/jobs/finetune/finetune-service';
import { JobQueue } from '../../src/worker/jobs/job-queue';
import { FakeModel, fakeDataset, fakeDecode, settings } from './finetune-fakes';

describe('fine-tune service and the job queue', () => {
  it('a load that replaces the model pauses the run at a checkpoint; adapter changes are refused while it trains', async () => {
    const jobs = new JobQueue();
    const model = new FakeModel();
    const load = {};
    const service = new FinetuneService({ jobs, model: () => model, loaded: () => load, checkpoints: memoryKv(), decode: fakeDecode });
    let loading: Promise<string> | null = null;
    let refused: unknown = null;
    const run = await service.start(fakeDataset(20), settings({ steps: 8, checkpointEvery: 0 }), (e) => {
      if (e.kind !== 'step' || e.step !== 3) return;
      void service.apply(true).catch((err: unknown) => (refused = err));
      loading = jobs.submit('load', {}, async () => 'loaded');
    });
    expect(run.state).toBe('paused');
    expect(run.checkpointStep).toBe(3);
    expect(await loading).toBe('loaded');
    expect(refused).toBeInstanceOf(VlmError);
    expect((refused as VlmError).code).toBe('busy');
    expect((refused as VlmError).message).toMatch(/fine-tuning run is training/);
    // Once it stopped, the adapter it left can be applied, and the saved run resumed.
    expect((await service.apply(true)).applied).toBe(true);
    expect(model.attached).not.toBeNull();
    const resumed = await service.resume();
    expect(resumed.state).toBe('finished');
    expect(resumed.curve.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Training detached the applied adapter first; the new one is held, not applied.
    expect(model.attached).toBeNull();
    expect((await service.state())?.applied).toBe(false);
  });
});
