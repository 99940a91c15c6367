import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLED_MODEL, dtypeChoices, hubBaseUrl, llavaRepoEntry, ZOO, zooEntry, zooFiles, type ZooEntry } from '../../src/models/zoo';
import { MODEL_DIR } from './golden';

describe('model zoo', () => {
  it('has the bundled model as the one default, with files that exist for both engines', () => {
    expect(ZOO.filter((e) => e.isDefault).map((e) => e.id)).toEqual([BUNDLED_MODEL]);
    const bundled = zooEntry(BUNDLED_MODEL) as ZooEntry;
    expect(bundled.source).toBe('bundled');
    expect(bundled.capabilities).toEqual(['chat', 'grounding', 'document-text']);
    for (const engine of ['native', 'onnx'] as const) {
      for (const f of zooFiles(bundled, engine)) if (!f.optional) expect(existsSync(join(MODEL_DIR, f.name)), f.name).toBe(true);
    }
  });

  it('says honestly which engine runs what: ours run the llava family, the native one SmolVLM (idefics3) too', () => {
    for (const e of ZOO) {
      const ours = e.engines.filter((c) => c.engine !== 'transformers.js' && c.runsHere);
      expect(ours.length > 0, e.id).toBe(e.modelType === 'llava' || e.modelType === 'idefics3');
      if (e.modelType === 'idefics3') expect(ours.map((c) => c.engine), e.id).toEqual(['native']);
    }
    const hub = ZOO.filter((e) => e.source === 'hub');
    expect(hub.map((e) => e.id)).toEqual(
      expect.arrayContaining(['HuggingFaceTB/SmolVLM-256M-Instruct', 'HuggingFaceTB/SmolVLM-500M-Instruct', 'onnx-community/Qwen2-VL-2B-Instruct', 'onnx-community/Florence-2-base']),
    );
    for (const e of hub) {
      expect(e.id).toMatch(/^[\w.-]+\/[\w.-]+$/);
      for (const c of e.engines) for (const d of c.dtypes) expect(d.approxBytes ?? 0, `${e.id} ${d.dtype}`).toBeGreaterThan(1e6);
    }
    expect(zooEntry('onnx-community/Florence-2-base')?.capabilities).toEqual(expect.arrayContaining(['grounding', 'ocr']));
    expect(zooEntry('onnx-community/Florence-2-base')?.basedOn).toBe('microsoft/Florence-2-base');
  });

  it('offers fp16 variants only to adapters with shader-f16', () => {
    const smol = (zooEntry('HuggingFaceTB/SmolVLM-256M-Instruct') as ZooEntry).engines[0];
    if (!smol) throw new Error('no engine');
    const without = dtypeChoices(smol, new Set()).map((d) => d.dtype);
    const withF16 = dtypeChoices(smol, new Set(['shader-f16'])).map((d) => d.dtype);
    expect(without).not.toContain('fp16');
    expect(without).not.toContain('q4f16');
    expect(without).toContain('q4');
    expect(withF16).toEqual(expect.arrayContaining(['fp16', 'q4f16', 'q4', 'fp32']));
  });

  it('lays files out as the hub does', () => {
    expect(hubBaseUrl('HuggingFaceTB/SmolVLM-256M-Instruct')).toBe('https://huggingface.co/HuggingFaceTB/SmolVLM-256M-Instruct/resolve/main/');
    expect(hubBaseUrl('a/b', 'http://127.0.0.1:8000/')).toBe('http://127.0.0.1:8000/a/b/resolve/main/');
    const smol = zooEntry('HuggingFaceTB/SmolVLM-256M-Instruct') as ZooEntry;
    expect(zooFiles(smol, 'transformers.js', 'q4f16').map((f) => f.name)).toEqual(
      expect.arrayContaining(['config.json', 'tokenizer.json', 'onnx/vision_encoder_q4f16.onnx', 'onnx/embed_tokens_q4f16.onnx', 'onnx/decoder_model_merged_q4f16.onnx']),
    );
    const florence = zooEntry('onnx-community/Florence-2-base') as ZooEntry;
    expect(zooFiles(florence, 'transformers.js', 'fp32').map((f) => f.name)).toContain('onnx/encoder_model.onnx');
    expect(zooFiles(llavaRepoEntry('me/tiny'), 'native').map((f) => f.name)).toContain('model.safetensors');
    expect(zooFiles(smol, 'native').map((f) => f.name)).toEqual(expect.arrayContaining(['config.json', 'processor_config.json', 'chat_template.json', 'model.safetensors']));
  });
});
