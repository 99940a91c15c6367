/**
 * The fine-tune job on SmolVLM (Idefics3) on the native engine, as the
 * worker runs it: the tiny random fixture loaded from its hub files, 4 LLaVA
 * records on the fixture's images (each split into tiles as chat splits it),
 * 3 steps of decoder LoRA with the loss reported, the adapter exported as
 * PEFT files under Idefics3's module names and read back, then applied and
 * removed through Chat's toggle: the answer's logits move, and come back.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LlavaRecord } from '../../src/data/llava';
import { IGNORE_INDEX } from '../../src/models/lora/encode-conversation';
import { SafetensorsFile } from '../../src/models/safetensors';
import { SmolVlmChatModel } from '../../src/models/smolvlm';
import type { ChatMessage } from '../../src/models/vlm';
import { memoryKv } from '../../src/worker/cache/kv';
import { DEFAULT_FINETUNE_SETTINGS, type FinetuneDataset, type FinetuneEvent } from '../../src/worker/finetune-api';
import { AdapterSession } from '../../src/worker/jobs/finetune/adapter-session';
import { CheckpointStore } from '../../src/worker/jobs/finetune/checkpoint-store';
import { decodeDatasetImage } from '../../src/worker/jobs/finetune/decode-image';
import { FinetuneJob } from '../../src/worker/jobs/finetune/finetune-job';
import { nativeFinetuneModel } from '../../src/worker/jobs/finetune/native-model';
import { ModelSession } from '../../src/worker/jobs/model-session';
import { HUB_DIR, readPixels, worst } from '../helpers/family-golden';
import { testRuntime } from '../helpers/gpu';
import { bundledModelFiles } from '../models/fs-files';

const REPO = 'HuggingFaceTB-tiny-smolvlm';
const dir = join(HUB_DIR, REPO);
const runtime = testRuntime();
const session = new ModelSession(() => runtime);

const record = (id: string, image: string, question: string, answer: string): LlavaRecord => ({
  id,
  image,
  conversations: [
    { from: 'human', value: `<image>\n${question}` },
    { from: 'gpt', value: answer },
  ],
});

const dataset: FinetuneDataset = {
  name: 'smolvlm-tiny',
  records: [
    record('a', 'golden.png', 'What is it?', 'A square.'),
    record('b', 'golden-tall.png', 'What colour?', 'Red.'),
    record('c', 'golden.png', 'How many?', 'Two.'),
    record('d', 'golden-tall.png', 'Where is it?', 'On the left.'),
  ],
  images: ['golden.png', 'golden-tall.png'].map((path) => ({ path, type: 'image/png', bytes: new Uint8Array(readFileSync(join(dir, path))) })),
};

describe('fine-tuning SmolVLM on the native engine', () => {
  it('trains 3 steps, exports PEFT files with Idefics3 names, and Chat applies and removes the adapter', async () => {
    await session.load(REPO, { engine: 'native' }, bundledModelFiles(dir, REPO));
    const chat = session.chatModel();
    if (!(chat instanceof SmolVlmChatModel)) throw new Error(`${REPO} did not load as SmolVLM`);
    const model = nativeFinetuneModel(session.info(), session.nativeVlm(), chat);
    expect(model).toMatchObject({ id: REPO, imageTokenId: 377, imageSeqLength: 4, visionLayers: 0, tiledImages: true });

    // A training sequence starts with the ids chat builds for the same question (template, tiles), the answer after them.
    const image = readPixels(REPO, 'golden.png');
    const messages: ChatMessage[] = [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'What is it?' }] }];
    const prompt = chat.encode(messages, [image]);
    const processed = model.pixels(image);
    if (processed instanceof Float32Array) throw new Error('SmolVLM images are tiled');
    expect(processed.tiles.length).toBe(prompt.tiles.length);
    const seq = model.encode(dataset.records[0]?.conversations ?? [], [processed]);
    expect(Array.from(seq.ids.subarray(0, prompt.ids.length))).toEqual(Array.from(prompt.ids));
    expect(Array.from(seq.labels.subarray(0, prompt.ids.length)).every((l) => l === IGNORE_INDEX)).toBe(true);
    const answer = Array.from(seq.labels.subarray(prompt.ids.length));
    expect(answer.length).toBeGreaterThan(1);
    // The answer is learned up to its stop token; the template's newline after it is not.
    expect(answer.slice(0, -1)).toEqual(Array.from(seq.ids.subarray(prompt.ids.length, seq.ids.length - 1)));
    expect(chat.assets.stopTokenIds).toContain(answer.at(-2));
    expect(answer.at(-1)).toBe(IGNORE_INDEX);

    const adapters = new AdapterSession(() => session.info(), () => model);
    const job = new FinetuneJob({ model: () => model, store: new CheckpointStore(memoryKv()), adapters, decode: decodeDatasetImage });
    const settings = { ...DEFAULT_FINETUNE_SETTINGS, steps: 3, batchSize: 1, learningRate: 1e-2, warmupSteps: 0, schedule: 'constant' as const, dropout: 0, validationFraction: 0, checkpointEvery: 0 };
    // The connector is not applied by the adapter at inference, so training it is refused, naming the setting.
    await expect(job.start(dataset, { ...settings, trainProjector: true })).rejects.toThrow(/connector cannot be trained here yet .* turn "train the projector" off/);
    await expect(job.start(dataset, { ...settings, visionLastLayers: 1 })).rejects.toThrow(/vision tower cannot take LoRA here/);
    await expect(job.start(dataset, { ...settings, newWords: ['zork'] })).rejects.toThrow(/cannot train new words/);

    const events: FinetuneEvent[] = [];
    const t0 = performance.now();
    const run = await job.start(dataset, { ...settings, trainProjector: false }, (e) => events.push(e));
    const steps = events.flatMap((e) => (e.kind === 'step' ? [e] : []));
    console.log(`SmolVLM LoRA: ${run.step} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s; loss ${run.curve.map((p) => p.loss.toFixed(4)).join(' ')}`);
    expect(run.state).toBe('finished');
    expect(run.trainExamples).toBe(4);
    expect(steps).toHaveLength(3);
    expect(run.curve.map((p) => p.loss).every((l) => Number.isFinite(l) && l > 0)).toBe(true);

    const files = adapters.export();
    // SMOLVLM_ADAPTER_OUT=<folder> keeps these PEFT files (test/fixtures/lora/smolvlm-adapter was written so, for the PyTorch check).
    const out = process.env.SMOLVLM_ADAPTER_OUT;
    if (out) {
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'adapter_config.json'), files.adapterConfig);
      writeFileSync(join(out, 'adapter_model.safetensors'), files.safetensors);
    }
    const keys = [...new SafetensorsFile(files.safetensors.slice().buffer).tensors.keys()];
    expect(keys).toHaveLength(2 * 4 * 2);
    expect(keys.every((k) => /^base_model\.model\.model\.text_model\.layers\.[01]\.self_attn\.[qkvo]_proj\.lora_[AB]\.weight$/.test(k))).toBe(true);
    expect(JSON.parse(files.adapterConfig)).toMatchObject({ base_model_name_or_path: REPO, peft_type: 'LORA', r: 16, target_modules: ['k_proj', 'o_proj', 'q_proj', 'v_proj'], modules_to_save: null });

    // Chat's toggle: the same prompt's next-token logits without, with, and again without the adapter.
    const logits = async () => (await chat.engine.prefill(prompt.ids, prompt.tiles)).slice();
    const base = await logits();
    expect(adapters.apply(true).applied).toBe(true);
    const adapted = await logits();
    expect(adapters.apply(false).applied).toBe(false);
    const back = await logits();
    const moved = worst(adapted, base).diff;
    console.log(`SmolVLM adapter: logits move by up to ${moved.toExponential(2)} with it, ${worst(back, base).diff.toExponential(2)} after removing it`);
    expect(moved).toBeGreaterThan(1e-3);
    expect(worst(back, base).diff).toBeLessThanOrEqual(1e-6);

    // The PEFT files come back as the same adapter, imported for this model.
    const trained = adapters.adapter();
    expect(adapters.import(files)).toMatchObject({ source: 'imported', parameters: adapters.state()?.parameters });
    const byName = (a: typeof trained) => [...(a?.tensors ?? [])].sort((x, y) => x.name.localeCompare(y.name)).map((t) => [t.name, Array.from(t.data)]);
    expect(byName(adapters.adapter())).toEqual(byName(trained));

    // Merged into the weights, it answers as it did attached (f32 W + scale B A against the unmerged sum).
    expect((await adapters.merge()).merged).toBe(true);
    const merged = await logits();
    console.log(`SmolVLM adapter merged vs attached: logits max abs difference ${worst(merged, adapted).diff.toExponential(2)}`);
    expect(worst(merged, adapted).diff).toBeLessThanOrEqual(1e-4);
    await session.unload();
  }, 600_000);
});
