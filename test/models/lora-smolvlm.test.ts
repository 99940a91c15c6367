import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIdefics3Config } from '../../src/models/config';
import { parseIdefics3Preprocessor, preprocessIdefics3 } from '../../src/models/idefics3-processing';
import { idefics3Host } from '../../src/models/lora/host';
import { createTrainableFor } from '../../src/models/lora/trainable';
import { NativeIdefics3 } from '../../src/models/native/idefics3';
import { SafetensorsFile } from '../../src/models/safetensors';
import { HUB_DIR, readGolden, readPixels } from '../helpers/family-golden';
import { testRuntime } from '../helpers/gpu';

// The same LoRA trainer on another family: the tiny random SmolVLM (Idefics3)
// fixture on the native engine. With PEFT's init (B = 0) the adapter changes
// nothing, so the training forward's loss on the first answer token must be
// what the inference path's first-step logits give, and B gets gradients
// under PEFT's names for Idefics3 (model.text_model.layers...).
const REPO = 'HuggingFaceTB-tiny-smolvlm';
const dir = join(HUB_DIR, REPO);
const json = (name: string): unknown => JSON.parse(readFileSync(join(dir, name), 'utf8'));

describe('LoRA on the native SmolVLM (tiny fixture)', () => {
  it("a sequence's loss matches the inference path, and every wrapped layer's B gets a gradient", async () => {
    const rt = await testRuntime();
    const config = parseIdefics3Config(json('config.json'), json('processor_config.json'));
    const pre = parseIdefics3Preprocessor(json('preprocessor_config.json'), config.vision.imageSize);
    const golden = readGolden<{ images: { file: string }[]; input_ids: number[]; greedy_ids: number[] }>(REPO);
    const file = new SafetensorsFile(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))).buffer, 'model.safetensors');
    const model = new NativeIdefics3(rt, config, file);
    const tiles = golden.images.flatMap((i) => preprocessIdefics3(readPixels(REPO, i.file), pre).tiles);
    const prompt = golden.input_ids;
    const cache = model.decoder.newCache(rt, prompt.length + 1);
    const { logits } = await model.prefill(cache, Int32Array.from(prompt), tiles);
    cache.release();
    const answer = golden.greedy_ids[0] as number;
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    let sum = 0;
    for (const v of logits) sum += Math.exp(v - max);
    const expected = max + Math.log(sum) - (logits[answer] as number);

    const trainable = await createTrainableFor(idefics3Host(model), { rank: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj'], trainProjector: true, baseModel: REPO }, undefined, { seed: 1 });
    try {
      const ids = Int32Array.from([...prompt, answer]);
      const labels = Int32Array.from(ids, (id, i) => (i === ids.length - 1 ? id : -100));
      const loss = await trainable.accumulate({ id: 'smolvlm', ids, labels, pixels: tiles }, 1);
      expect(loss.tokens).toBe(1);
      expect(Math.abs(loss.lossSum - expected)).toBeLessThanOrEqual(1e-4 * Math.max(1, expected));
      const norms = await trainable.gradNorms();
      const names = Object.keys(norms);
      expect(names).toContain('base_model.model.model.text_model.layers.0.self_attn.q_proj.lora_B.weight');
      expect(names).toContain('base_model.model.model.connector.modality_projection.proj.weight');
      for (const [name, n] of Object.entries(norms)) {
        // B = 0 at init: A's gradient is zero, B's and the projector's are not.
        if (name.endsWith('lora_A.weight')) expect(n, name).toBe(0);
        else expect(n, name).toBeGreaterThan(0);
      }
    } finally {
      trainable.release();
      model.release();
    }
  }, 300_000);
});
