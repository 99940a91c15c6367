import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIdefics3Config, parseLlavaConfig } from '../../src/models/config';
import { adapterShapes, fromPeftFiles, PeftError, toPeftFiles, type PeftBase } from '../../src/models/lora/peft';
import type { LoraAdapterData, LoraConfig, PeftFiles } from '../../src/models/lora/types';
import { SafetensorsFile } from '../../src/models/safetensors';

// PEFT names on Idefics3 (SmolVLM): HF's Idefics3ForConditionalGeneration
// paths, the ones the fixture's model.safetensors uses.
const REPO = 'HuggingFaceTB/tiny-smolvlm';
const dir = 'test/fixtures/hub/HuggingFaceTB-tiny-smolvlm';
const json = (name: string): unknown => JSON.parse(readFileSync(join(dir, name), 'utf8'));
const smol = parseIdefics3Config(json('config.json'), json('processor_config.json'));
const llava = parseLlavaConfig(JSON.parse(readFileSync('public/models/webvlm-tiny/config.json', 'utf8')));
const smolBase: PeftBase = { modelId: REPO, config: smol };
const llavaBase: PeftBase = { modelId: 'webvlm-tiny', config: llava };

function adapter(model: PeftBase, over: Partial<LoraConfig> = {}): LoraAdapterData {
  const config: LoraConfig = { rank: 4, alpha: 8, dropout: 0.05, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], trainProjector: false, baseModel: model.modelId, ...over };
  let k = 0;
  const tensors = [...adapterShapes(model.config, config)].map(([name, shape]) => ({ name, shape, data: Float32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => Math.cos(++k)) }));
  return { config, tensors };
}

function withConfig(files: PeftFiles, edit: (c: Record<string, unknown>) => void): PeftFiles {
  const c = JSON.parse(files.adapterConfig) as Record<string, unknown>;
  edit(c);
  return { ...files, adapterConfig: JSON.stringify(c) };
}

describe('PEFT adapter files on Idefics3 (SmolVLM)', () => {
  it("names every tensor by the checkpoint's module path, with its linear layer's shape", () => {
    const weights = new SafetensorsFile(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))).buffer, 'model.safetensors');
    const files = toPeftFiles(adapter(smolBase));
    const st = new SafetensorsFile(files.safetensors.slice().buffer);
    const keys = [...st.tensors.keys()];
    expect(keys).toHaveLength(smol.text.numLayers * 4 * 2);
    expect(keys).toContain('base_model.model.model.text_model.layers.0.self_attn.q_proj.lora_A.weight');
    for (const key of keys) {
      // Every adapter tensor wraps a weight the checkpoint has: A is [rank, in], B is [out, rank].
      const module = key.slice('base_model.model.'.length).replace(/\.lora_[AB]\.weight$/, '');
      const [out, inp] = weights.info(`${module}.weight`).shape;
      expect(st.info(key).shape, key).toEqual(key.endsWith('lora_A.weight') ? [4, inp] : [out, 4]);
    }
    const config = JSON.parse(files.adapterConfig) as Record<string, unknown>;
    expect(config.base_model_name_or_path).toBe(REPO);
    expect(config.target_modules).toEqual(['k_proj', 'o_proj', 'q_proj', 'v_proj']);
    expect(config.modules_to_save).toBeNull();
  });

  it('reads its own files back unchanged', () => {
    const a = adapter(smolBase, { targetModules: ['q_proj', 'v_proj', 'gate_proj', 'down_proj'] });
    const back = fromPeftFiles(toPeftFiles(a), smolBase);
    expect(back.config).toEqual({ ...a.config, targetModules: ['q_proj', 'v_proj', 'gate_proj', 'down_proj'] });
    expect(back.tensors.map((t) => t.name)).toEqual(a.tensors.map((t) => t.name).sort());
    for (const t of back.tensors) expect(t.data).toEqual(a.tensors.find((x) => x.name === t.name)?.data);
  });

  it("refuses a LLaVA adapter on SmolVLM and a SmolVLM adapter on LLaVA, naming the tensor and both families", () => {
    const fromLlava = withConfig(toPeftFiles(adapter(llavaBase)), (c) => (c.base_model_name_or_path = REPO));
    expect(() => fromPeftFiles(fromLlava, smolBase)).toThrow(PeftError);
    expect(() => fromPeftFiles(fromLlava, smolBase)).toThrow(/language_model\.model\.layers\.0\.self_attn\.k_proj\.lora_A\.weight is on LLaVA's decoder .* HuggingFaceTB\/tiny-smolvlm is Idefics3, whose decoder is model\.text_model\.layers/);
    const fromSmol = withConfig(toPeftFiles(adapter(smolBase)), (c) => (c.base_model_name_or_path = 'webvlm-tiny'));
    expect(() => fromPeftFiles(fromSmol, llavaBase)).toThrow(/model\.text_model\.layers\.0\.self_attn\.k_proj\.lora_A\.weight is on Idefics3's decoder .* webvlm-tiny is LLaVA/);
    // Without the base name changed, the base itself is named first or the family: either way it is refused.
    expect(() => fromPeftFiles(toPeftFiles(adapter(llavaBase)), smolBase)).toThrow(PeftError);
  });

  it('refuses the parts only LLaVA adapters may carry here, saying so', () => {
    const files = toPeftFiles(adapter(smolBase));
    expect(() => fromPeftFiles(withConfig(files, (c) => (c.modules_to_save = ['connector'])), smolBase)).toThrow(/modules_to_save connector cannot be applied to Idefics3 models here \(only decoder LoRA can\)/);
    expect(() => fromPeftFiles(withConfig(files, (c) => (c.trainable_token_indices = [5])), smolBase)).toThrow(/trainable_token_indices .* cannot be applied to Idefics3 models/);
    expect(() => adapterShapes(smol, { rank: 4, targetModules: ['q_proj'], trainProjector: true })).toThrow(/projector .* Idefics3/);
    expect(() => adapterShapes(smol, { rank: 4, targetModules: ['q_proj'], trainProjector: false, visionLayers: [1] })).toThrow(/vision encoder LoRA cannot be applied to Idefics3/);
  });
});
