/**
 * The fine-tune job on the bundled model through Dawn: generated data with
 * the held-out concept (a purple object in every scene), prepared as chat
 * prepares images, trained for 10 steps of one sequence with
 * createLoraTrainable; the loss on the same records goes down. Slow on
 * SwiftShader (seconds per sequence), so the set is 4 records.
 */
import { describe, expect, it } from 'vitest';
import { memoryKv } from '../../src/worker/cache/kv';
import { DEFAULT_FINETUNE_SETTINGS, type FinetuneEvent } from '../../src/worker/finetune-api';
import { AdapterSession } from '../../src/worker/jobs/finetune/adapter-session';
import { CheckpointStore } from '../../src/worker/jobs/finetune/checkpoint-store';
import { decodeDatasetImage } from '../../src/worker/jobs/finetune/decode-image';
import { FinetuneJob } from '../../src/worker/jobs/finetune/finetune-job';
import { nativeFinetuneModel } from '../../src/worker/jobs/finetune/native-model';
import { finetuneGenerate } from '../../src/worker/jobs/finetune-generate';
import { ModelSession } from '../../src/worker/jobs/model-session';
import { testRuntime } from '../helpers/gpu';
import { bundledModelFiles } from '../models/fs-files';

const runtime = testRuntime();
const session = new ModelSession(() => runtime);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('fine-tuning webvlm-tiny', () => {
  it('10 steps on generated data with the held-out colour lower the training loss', async () => {
    await session.load('webvlm-tiny', { engine: 'native' }, bundledModelFiles());
    const model = nativeFinetuneModel(session.info(), session.nativeVlm());
    const adapters = new AdapterSession(() => session.info(), () => model);
    const job = new FinetuneJob({ model: () => model, store: new CheckpointStore(memoryKv()), adapters, decode: decodeDatasetImage });
    const dataset = await finetuneGenerate({ counts: { 'vqa-colour': 4 }, heldOut: 'focus', seed: 3 });
    const events: FinetuneEvent[] = [];
    const t0 = performance.now();
    const run = await job.start(
      dataset,
      { ...DEFAULT_FINETUNE_SETTINGS, steps: 10, batchSize: 1, learningRate: 2e-3, warmupSteps: 0, schedule: 'constant', dropout: 0, validationFraction: 0, checkpointEvery: 5 },
      (e) => events.push(e),
    );
    const losses = run.curve.map((p) => p.loss);
    const steps = events.flatMap((e) => (e.kind === 'step' ? [e] : []));
    console.log(`webvlm-tiny LoRA: ${run.step} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${mean(steps.map((s) => s.tokensPerSecond)).toFixed(0)} tokens/s; loss ${losses.map((l) => l.toFixed(3)).join(' ')}`);
    expect(run.state).toBe('finished');
    expect(run.trainExamples).toBe(4);
    expect(losses).toHaveLength(10);
    expect(losses.every(Number.isFinite)).toBe(true);
    // Steps 1-4 read each of the 4 records once, steps 5-8 read them again: the same sequences, after training.
    expect(mean(losses.slice(4, 8))).toBeLessThan(0.5 * mean(losses.slice(0, 4)));
    expect(adapters.state()).toMatchObject({ source: 'trained', config: { rank: 16, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] } });
    await session.unload();
  }, 600_000);
});
