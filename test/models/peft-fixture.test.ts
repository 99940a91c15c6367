import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePngRaster } from '../../src/data/png';
import { parseLlavaConfig } from '../../src/models/config';
import { generate } from '../../src/models/generation';
import { parsePreprocessorConfig, preprocessImage } from '../../src/models/image-processing';
import { fromPeftFiles, toPeftFiles } from '../../src/models/lora/peft';
import { NativeLlava } from '../../src/models/native/llava';
import { SafetensorsFile } from '../../src/models/safetensors';
import { testRuntime } from '../helpers/gpu';
import { MODEL_DIR, readJson, type Golden } from './golden';

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

interface AdapterLogits {
  with_adapter: { logits: number[]; greedy_ids: number[] };
  base_greedy_ids: number[];
}

describe('the PyTorch-made adapter on the native engine', () => {
  it("gives PyTorch's first-step logits within 1e-4 and its greedy ids; removing it gives the base model's; a browser-trained adapter likewise", async () => {
    const rt = await testRuntime();
    const golden = readJson<Golden>('golden.json');
    const expected = JSON.parse(readFileSync('test/fixtures/lora/pytorch-adapter-logits.json', 'utf8')) as AdapterLogits;
    const file = new SafetensorsFile(new Uint8Array(readFileSync(join(MODEL_DIR, 'model.safetensors'))).buffer, 'model.safetensors');
    const pre = parsePreprocessorConfig(readJson('preprocessor_config.json'), model.vision.imageSize);
    const raster = decodePngRaster(new Uint8Array(readFileSync(join(MODEL_DIR, golden.image))));
    const pixels = preprocessImage({ ...raster, channels: 3 }, pre).pixels;
    const native = new NativeLlava(rt, model, file);
    const run = async () => {
      const ids = Int32Array.from(golden.inputs.expanded_input_ids);
      const cache = native.decoder.newCache(rt, ids.length + 25);
      const { logits } = await native.prefill(cache, ids, [pixels]);
      const out = await generate(logits, (id) => native.decodeStep(cache, id), { maxNewTokens: 24 }, [], () => undefined);
      cache.release();
      return { logits, ids: out.ids };
    };
    native.setAdapter(fromPeftFiles(files(), { modelId: 'webvlm-tiny', config: model }));
    const adapted = await run();
    const want = expected.with_adapter;
    let maxAbs = 0;
    want.logits.forEach((v, i) => (maxAbs = Math.max(maxAbs, Math.abs(v - (adapted.logits[i] as number)))));
    console.log(`PyTorch adapter on the native engine: first-step logits max abs error ${maxAbs.toExponential(2)}`);
    expect(adapted.logits).toHaveLength(want.logits.length);
    expect(maxAbs).toBeLessThan(1e-4);
    expect(adapted.ids).toEqual(want.greedy_ids);
    native.setAdapter(null);
    expect((await run()).ids).toEqual(expected.base_greedy_ids);

    // The other way: an adapter trained in Chromium (npm run finetune:demo --peft), read by PyTorch.
    const browser = JSON.parse(readFileSync('test/fixtures/lora/browser-adapter-logits.json', 'utf8')) as AdapterLogits;
    const dirB = 'test/fixtures/lora/browser-adapter';
    const filesB = { adapterConfig: readFileSync(`${dirB}/adapter_config.json`, 'utf8'), safetensors: new Uint8Array(readFileSync(`${dirB}/adapter_model.safetensors`)) };
    const fromBrowser = fromPeftFiles(filesB, { modelId: 'webvlm-tiny', config: model });
    // Our writer gives back the very bytes the browser wrote.
    expect(toPeftFiles(fromBrowser)).toEqual(filesB);
    native.setAdapter(fromBrowser);
    const b = await run();
    let maxB = 0;
    browser.with_adapter.logits.forEach((v, i) => (maxB = Math.max(maxB, Math.abs(v - (b.logits[i] as number)))));
    console.log(`browser-trained adapter: native vs PyTorch first-step logits max abs error ${maxB.toExponential(2)}`);
    expect(maxB).toBeLessThan(1e-4);
    expect(b.ids).toEqual(browser.with_adapter.greedy_ids);
    native.release();
  });
});
