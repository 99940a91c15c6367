import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { goldenAdapter, goldenVisionTensors, hashInit } from '../../src/models/lora/golden-init';
import { tokenRowsName } from '../../src/models/lora/names';
import { VISION_FIELD } from '../../src/models/lora/names';
import { fromPeftFiles, toPeftFiles } from '../../src/models/lora/peft';
import { createLoraTrainable } from '../../src/models/lora/trainable';
import { VISION_TARGETS, type LoraAdapterData, type LoraConfig } from '../../src/models/lora/types';
import { TARGET_FIELD } from '../../src/models/native/llama-decoder';
import { NativeEngine } from '../../src/models/native/native-engine';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { relMax } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { bundledLlava } from './golden';

// An adapter with LoRA on vision encoder layers and trained token rows, at
// inference: attached equals merged, detaching restores the base model, the
// training forward gives the same loss, PEFT files carry it both ways, and
// PyTorch (tools/train/peft.py) computes the same logits with its files.

const FIXTURE = join(__dirname, '../fixtures/lora/vision-tokens-adapter');
const TOKENS = [684, 724, 725];

let rt: GpuRuntime;
const { golden, config, file, pixels } = bundledLlava();
const ids = Int32Array.from(golden.inputs.expanded_input_ids);

beforeAll(async () => {
  rt = await testRuntime();
});

/** Rank 8 on q/k/v/o and on vision layers 2, 3 (golden init), and the rows of ' star', ' stars', ' purple' moved off the base rows. */
async function adapterFor(engine: NativeEngine): Promise<LoraAdapterData> {
  const lora: LoraConfig = { rank: 8, alpha: 16, dropout: 0, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], trainProjector: false, baseModel: 'webvlm-tiny', visionLayers: [2, 3], visionTargets: [...VISION_TARGETS], tokenIds: TOKENS };
  const model = engine.llava;
  const dec = model.decoder;
  const base = goldenAdapter(lora, dec.layers.length, dec.modelPath, (i, t) => {
    const lin = (dec.layers[i] as (typeof dec.layers)[number])[TARGET_FIELD[t]];
    return [lin.n, lin.k];
  });
  const vision = goldenVisionTensors(lora, 'vision_tower.vision_model.encoder', [2, 3], VISION_TARGETS, base.tensors.length, (i, t) => {
    const lin = (model.vision.encoder.layers[i] as (typeof model.vision.encoder.layers)[number])[VISION_FIELD[t as (typeof VISION_TARGETS)[number]]];
    return [lin.n, lin.k];
  });
  const d = config.text.hiddenSize;
  const rows = async (table: Float32Array, m: number) => {
    const noise = hashInit(m, TOKENS.length, d, 1.0);
    return Float32Array.from({ length: TOKENS.length * d }, (_, e) => (table[(TOKENS[Math.floor(e / d)] as number) * d + (e % d)] as number) + (noise[e] as number));
  };
  const headW = dec.lmHead.weight.kind === 'f32' ? dec.lmHead.weight.w : dec.embedTokens;
  const tokens = [
    { name: tokenRowsName('language_model.model.embed_tokens'), shape: [TOKENS.length, d], data: await rows(await rt.readF32(dec.embedTokens), 9000) },
    { name: tokenRowsName('language_model.lm_head'), shape: [TOKENS.length, d], data: await rows(await rt.readF32(headW), 9001) },
  ];
  return { config: lora, tensors: [...base.tensors, ...vision, ...tokens] };
}

describe('vision LoRA and token rows at inference', () => {
  it('attached equals merged and the training forward; detached is the base model; PEFT files round-trip; PyTorch gives the same logits', async () => {
    const engine = new NativeEngine(rt, config, file, {}, 256);
    const images = [{ key: 'golden', pixels }];
    const adapter = await adapterFor(engine);
    const base = await engine.prefill(ids, images);
    engine.setAdapter(adapter);
    const attached = await engine.prefill(ids, images);
    engine.setAdapter(null);
    const detached = await engine.prefill(ids, images);

    // The training path with the same adapter: the loss of predicting ' star' after the prompt.
    const trainable = await createLoraTrainable(engine.llava, adapter.config, adapter);
    const target = TOKENS[0] as number;
    const example = { id: 'x', ids: Int32Array.from([...ids, target]), labels: Int32Array.from([...ids.map(() => -100), target]), pixels: [pixels] };
    const trained = (await trainable.evaluate(example)).lossSum;
    trainable.release();
    let max = -Infinity;
    for (const v of attached) max = Math.max(max, v);
    let sum = 0;
    for (const v of attached) sum += Math.exp(v - max);
    const inferred = Math.log(sum) + max - (attached[target] as number);

    const files = toPeftFiles(adapter);
    const cfg = JSON.parse(files.adapterConfig) as { trainable_token_indices: Record<string, number[]>; target_modules: string[] };
    const back = fromPeftFiles(files, { modelId: 'webvlm-tiny', config });
    if (process.env.LORA_WRITE_FIXTURE) {
      mkdirSync(FIXTURE, { recursive: true });
      writeFileSync(join(FIXTURE, 'adapter_config.json'), files.adapterConfig);
      writeFileSync(join(FIXTURE, 'adapter_model.safetensors'), files.safetensors);
    }
    await engine.mergeAdapter(adapter);
    const merged = await engine.prefill(ids, images);
    await engine.dispose();

    console.log(`attached vs base ${relMax(attached, base).toExponential(2)}, merged vs attached ${relMax(merged, attached).toExponential(2)}, training loss ${trained} vs inference ${inferred}`);
    expect(relMax(attached, base)).toBeGreaterThan(1e-2);
    expect(relMax(detached, base)).toBe(0);
    expect(relMax(merged, attached)).toBeLessThanOrEqual(1e-4);
    expect(Math.abs(trained - inferred) / inferred).toBeLessThanOrEqual(1e-4);
    expect(cfg.trainable_token_indices).toEqual({ embed_tokens: TOKENS, lm_head: TOKENS });
    expect(cfg.target_modules).toEqual(['fc1', 'fc2', 'k_proj', 'o_proj', 'out_proj', 'q_proj', 'v_proj']);
    expect(back.config.visionLayers).toEqual([2, 3]);
    expect(back.config.visionTargets).toEqual([...VISION_TARGETS]);
    expect(back.config.tokenIds).toEqual(TOKENS);
    expect(back.config.targetModules).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj']);
    const byName = new Map(back.tensors.map((t) => [t.name, t.data]));
    expect(back.tensors).toHaveLength(adapter.tensors.length);
    for (const t of adapter.tensors) expect(byName.get(t.name), t.name).toEqual(t.data);

    // The committed PEFT files are these bytes, and PyTorch's logits with them (peft.py logits) are the browser's.
    expect(existsSync(join(FIXTURE, 'adapter_model.safetensors'))).toBe(true);
    expect(new Uint8Array(readFileSync(join(FIXTURE, 'adapter_model.safetensors')))).toEqual(files.safetensors);
    expect(readFileSync(join(FIXTURE, 'adapter_config.json'), 'utf8')).toBe(files.adapterConfig);
    const torch = JSON.parse(readFileSync(`${FIXTURE}-logits.json`, 'utf8')) as { with_adapter: { logits: number[] } };
    const diff = relMax(attached, Float32Array.from(torch.with_adapter.logits));
    console.log(`PyTorch with the PEFT files vs the browser: ${diff.toExponential(2)} of the largest logit`);
    expect(diff).toBeLessThanOrEqual(1e-4);
  }, 300_000);
});
