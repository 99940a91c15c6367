import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIdefics3Config } from '../../src/models/config';
import { parseIdefics3Preprocessor, preprocessIdefics3 } from '../../src/models/idefics3-processing';
import { fromPeftFiles, toPeftFiles } from '../../src/models/lora/peft';
import { NativeIdefics3 } from '../../src/models/native/idefics3';
import { SafetensorsFile } from '../../src/models/safetensors';
import { HUB_DIR, readGolden, readPixels } from '../helpers/family-golden';
import { testRuntime } from '../helpers/gpu';

// A SmolVLM adapter trained by the fine-tune job (test/worker/finetune-smolvlm.test.ts
// wrote its PEFT files) and applied to the PyTorch Idefics3 reference by
// tools/families/idefics3_peft.py: the native engine, given the same files, must
// give PyTorch's first-step logits and greedy ids on golden.json's prompt.
const REPO = 'HuggingFaceTB-tiny-smolvlm';
const dir = join(HUB_DIR, REPO);
const adapterDir = 'test/fixtures/lora/smolvlm-adapter';
const json = (name: string): unknown => JSON.parse(readFileSync(join(dir, name), 'utf8'));

interface AdapterLogits {
  with_adapter: { logits: number[]; greedy_ids: number[] };
  base_greedy_ids: number[];
}

describe('a browser-written SmolVLM adapter against PyTorch', () => {
  it("reads back to the same bytes, and gives PyTorch's first-step logits within 1e-4 and its greedy ids; removed, the base model's", async () => {
    const rt = await testRuntime();
    const config = parseIdefics3Config(json('config.json'), json('processor_config.json'));
    const files = { adapterConfig: readFileSync(join(adapterDir, 'adapter_config.json'), 'utf8'), safetensors: new Uint8Array(readFileSync(join(adapterDir, 'adapter_model.safetensors'))) };
    const adapter = fromPeftFiles(files, { modelId: REPO, config });
    expect(adapter.config).toMatchObject({ rank: 16, alpha: 32, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], trainProjector: false });
    expect(toPeftFiles(adapter)).toEqual(files);

    const expected = JSON.parse(readFileSync('test/fixtures/lora/smolvlm-adapter-logits.json', 'utf8')) as AdapterLogits;
    const golden = readGolden<{ images: { file: string }[]; input_ids: number[] }>(REPO);
    const pre = parseIdefics3Preprocessor(json('preprocessor_config.json'), config.vision.imageSize);
    const tiles = golden.images.flatMap((i) => preprocessIdefics3(readPixels(REPO, i.file), pre).tiles);
    const model = new NativeIdefics3(rt, config, new SafetensorsFile(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))).buffer, 'model.safetensors'));
    const argmax = (x: Float32Array) => x.reduce((best, v, i) => (v > (x[best] as number) ? i : best), 0);
    const run = async (steps: number) => {
      const ids = Int32Array.from(golden.input_ids);
      const cache = model.decoder.newCache(rt, ids.length + steps + 1);
      const { logits } = await model.prefill(cache, ids, tiles);
      const first = logits.slice();
      const greedy = [argmax(first)];
      while (greedy.length < steps) greedy.push(argmax(await model.decodeStep(cache, greedy.at(-1) as number)));
      cache.release();
      return { logits: first, greedy };
    };
    try {
      model.setAdapter(adapter);
      const want = expected.with_adapter;
      const got = await run(want.greedy_ids.length);
      let maxAbs = 0;
      want.logits.forEach((v, i) => (maxAbs = Math.max(maxAbs, Math.abs(v - (got.logits[i] as number)))));
      console.log(`browser-trained SmolVLM adapter: native vs PyTorch first-step logits max abs error ${maxAbs.toExponential(2)}`);
      expect(got.logits).toHaveLength(want.logits.length);
      expect(maxAbs).toBeLessThan(1e-4);
      expect(got.greedy).toEqual(want.greedy_ids);
      model.setAdapter(null);
      expect((await run(expected.base_greedy_ids.length)).greedy).toEqual(expected.base_greedy_ids);
    } finally {
      model.release();
    }
  }, 300_000);
});
