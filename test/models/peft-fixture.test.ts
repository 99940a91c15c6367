import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLlavaConfig } from '../../src/models/config';
import { fromPeftFiles, toPeftFiles } from '../../src/models/lora/peft';

const dir = 'test/fixtures/lora/pytorch-adapter';
const model = parseLlavaConfig(JSON.parse(readFileSync('public/models/webvlm-tiny/config.json', 'utf8')));

function files() {
  return { adapterConfig: readFileSync(`${dir}/adapter_config.json`, 'utf8'), safetensors: new Uint8Array(readFileSync(`${dir}/adapter_model.safetensors`)) };
}

describe('a PEFT adapter written by the PyTorch reference', () => {
  it('is read for the bundled model with its rank, targets and projector', () => {
    const a = fromPeftFiles(files(), { modelId: 'webvlm-tiny', config: model });
    expect(a.config).toEqual({ rank: 8, alpha: 16, dropout: 0.05, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], trainProjector: true, baseModel: 'webvlm-tiny' });
    expect(a.tensors).toHaveLength(4 * 4 * 2 + 4);
    const b = a.tensors.find((t) => t.name === 'base_model.model.language_model.model.layers.2.self_attn.o_proj.lora_B.weight');
    expect(b?.shape).toEqual([192, 8]);
    expect(b && Math.max(...Array.from(b.data, Math.abs))).toBeGreaterThan(0.1);
  });

  it('writes back to the same tensors and an equivalent config', () => {
    const a = fromPeftFiles(files(), { modelId: 'webvlm-tiny', config: model });
    const again = fromPeftFiles(toPeftFiles(a), { modelId: 'webvlm-tiny', config: model });
    expect(again).toEqual(a);
    expect(JSON.parse(toPeftFiles(a).adapterConfig)).toEqual(JSON.parse(files().adapterConfig));
  });
});
