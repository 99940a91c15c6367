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
import { NativeEngine } from '../../src/models/native/native-engine';
import { testRuntime } from '../helpers/gpu';
import { bundledModelFiles } from '../models/fs-files';

const runtime = testRuntime();
const session = new ModelSession(() => runtime);
/** A 32x32 purple square, RGBA. */
function purpleSquare(): { width: number; height: number; data: Uint8ClampedArray } {
  const data = new Uint8ClampedArray(32 * 32 * 4);
  for (let p = 0; p < 32 * 32; p++) data.set([140, 40, 200, 255], p * 4);
  return { width: 32, height: 32, data };
}
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
    // The adapter it left is attached for answers and taken off again; as PEFT files it comes back the same.
    const engine = session.nativeVlm()?.engine;
    if (!(engine instanceof NativeEngine)) throw new Error('webvlm-tiny is not on the native engine');
    expect(adapters.apply(true).applied).toBe(true);
    expect(engine.llava.hasAdapter).toBe(true);
    const reply = await session.chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 'What colour is the shape?' }, { type: 'image' }] }], images: [purpleSquare()], options: { maxNewTokens: 4 } });
    expect(reply.newTokens).toBeGreaterThan(0);
    expect(adapters.apply(false).applied).toBe(false);
    expect(engine.llava.hasAdapter).toBe(false);
    const trained = adapters.adapter();
    expect(adapters.import(adapters.export())).toMatchObject({ source: 'imported', parameters: adapters.state()?.parameters });
    const byName = (a: typeof trained) => [...(a?.tensors ?? [])].sort((x, y) => x.name.localeCompare(y.name)).map((t) => [t.name, Array.from(t.data)]);
    expect(byName(adapters.adapter())).toEqual(byName(trained));
    await session.unload();
  }, 600_000);
});
