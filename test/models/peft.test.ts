import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLlavaConfig } from '../../src/models/config';
import { adapterShapes, fromPeftFiles, PeftError, toPeftFiles, type PeftBase } from '../../src/models/lora/peft';
import type { LoraAdapterData, LoraConfig, PeftFiles } from '../../src/models/lora/types';
import { SafetensorsFile, writeSafetensors } from '../../src/models/safetensors';

const model = parseLlavaConfig(JSON.parse(readFileSync('public/models/webvlm-tiny/config.json', 'utf8')));
const base: PeftBase = { modelId: 'webvlm-tiny', config: model };

function adapter(over: Partial<LoraConfig> = {}): LoraAdapterData {
  const config: LoraConfig = { rank: 4, alpha: 8, dropout: 0.05, targetModules: ['q_proj', 'v_proj'], trainProjector: false, baseModel: 'webvlm-tiny', ...over };
  let k = 0;
  const tensors = [...adapterShapes(model, config)].map(([name, shape]) => ({
    name,
    shape,
    data: Float32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => Math.sin(++k)),
  }));
  return { config, tensors };
}

function bytes(f: PeftFiles): ArrayBuffer {
  return f.safetensors.buffer.slice(f.safetensors.byteOffset, f.safetensors.byteOffset + f.safetensors.byteLength) as ArrayBuffer;
}

function withConfig(files: PeftFiles, edit: (c: Record<string, unknown>) => void): PeftFiles {
  const c = JSON.parse(files.adapterConfig) as Record<string, unknown>;
  edit(c);
  return { ...files, adapterConfig: JSON.stringify(c) };
}

describe('PEFT adapter files', () => {
  it('writes the keys, shapes and config PEFT writes for a LLaVA LoRA', () => {
    const files = toPeftFiles(adapter());
    const st = new SafetensorsFile(bytes(files));
    expect(st.metadata).toEqual({ format: 'pt' });
    expect([...st.tensors.keys()]).toContain('base_model.model.language_model.model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(st.info('base_model.model.language_model.model.layers.3.self_attn.v_proj.lora_B.weight').shape).toEqual([64, 4]);
    expect(st.info('base_model.model.language_model.model.layers.0.self_attn.q_proj.lora_A.weight').shape).toEqual([4, 192]);
    expect(st.tensors.size).toBe(4 * 2 * 2);
    const c = JSON.parse(files.adapterConfig) as Record<string, unknown>;
    expect(c).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, lora_dropout: 0.05, target_modules: ['q_proj', 'v_proj'], task_type: 'CAUSAL_LM', base_model_name_or_path: 'webvlm-tiny', bias: 'none', modules_to_save: null });
  });

  it('reads back exactly what it wrote, projector included', () => {
    const a = adapter({ trainProjector: true, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] });
    const files = toPeftFiles(a);
    expect(JSON.parse(files.adapterConfig).modules_to_save).toEqual(['multi_modal_projector']);
    const back = fromPeftFiles(files, base);
    expect(back.config).toEqual(a.config);
    const sorted = [...a.tensors].sort((x, y) => (x.name < y.name ? -1 : 1));
    expect(back.tensors.map((t) => t.name)).toEqual(sorted.map((t) => t.name));
    back.tensors.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from((sorted[i] as { data: Float32Array }).data)));
    expect(back.tensors.some((t) => t.name === 'base_model.model.multi_modal_projector.linear_1.bias')).toBe(true);
  });

  it("reads transformers' newer LLaVA module names", () => {
    const a = adapter();
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const t of a.tensors) tensors[t.name.replace('base_model.model.language_model.model.', 'base_model.model.model.language_model.')] = t;
    const files = { adapterConfig: toPeftFiles(a).adapterConfig, safetensors: writeSafetensors(tensors) };
    expect(fromPeftFiles(files, base).tensors.map((t) => t.name)).toEqual(fromPeftFiles(toPeftFiles(a), base).tensors.map((t) => t.name));
  });

  it('accepts a base named by a path ending in the model id, refuses another base naming both', () => {
    const files = toPeftFiles(adapter());
    expect(() => fromPeftFiles(withConfig(files, (c) => (c.base_model_name_or_path = '/checkpoints/webvlm-tiny/')), base)).not.toThrow();
    expect(() => fromPeftFiles(withConfig(files, (c) => (c.base_model_name_or_path = 'HuggingFaceTB/SmolVLM-256M-Instruct')), base)).toThrow(
      /trained on HuggingFaceTB\/SmolVLM-256M-Instruct, but the loaded model is webvlm-tiny/,
    );
  });

  it('refuses a tensor whose shape does not fit, naming it and both shapes', () => {
    const a = adapter();
    const bad = a.tensors.find((t) => t.name.endsWith('layers.1.self_attn.q_proj.lora_B.weight'));
    if (!bad) throw new Error('fixture');
    bad.shape = [190, 4];
    bad.data = new Float32Array(190 * 4);
    expect(() => fromPeftFiles(toPeftFiles(a), base)).toThrow(/layers\.1\.self_attn\.q_proj\.lora_B\.weight is \[190, 4\] but this model needs \[192, 4\]/);
  });

  it('refuses what it cannot apply, saying why', () => {
    const files = toPeftFiles(adapter());
    const cases: [(c: Record<string, unknown>) => void, RegExp][] = [
      [(c) => (c.peft_type = 'IA3'), /only LORA/],
      [(c) => (c.use_dora = true), /DoRA/],
      [(c) => (c.target_modules = ['q_proj', 'lm_head']), /lm_head are not linear layers of the decoder/],
      [(c) => (c.target_modules = '.*proj'), /regular expression/],
      [(c) => (c.r = 8), /is \[4, 192\] but this model needs \[8, 192\]/],
      [(c) => (c.target_modules = ['q_proj', 'v_proj', 'k_proj']), /lacks 8 tensor\(s\)/],
      [(c) => (c.modules_to_save = ['lm_head']), /modules_to_save lm_head/],
    ];
    for (const [edit, message] of cases) {
      expect(() => fromPeftFiles(withConfig(files, edit), base)).toThrow(message);
      expect(() => fromPeftFiles(withConfig(files, edit), base)).toThrow(PeftError);
    }
    expect(() => fromPeftFiles({ ...files, adapterConfig: '{"r": 4,' }, base)).toThrow(/not valid JSON/);
    expect(() => fromPeftFiles({ ...files, safetensors: files.safetensors.slice(0, 100) }, base)).toThrow(PeftError);
  });
});
