import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { decodePngRaster } from '../../src/data/png';
import { parseLlavaConfig } from '../../src/models/config';
import { parsePreprocessorConfig, preprocessImage } from '../../src/models/image-processing';
import { goldenAdapter } from '../../src/models/lora/golden-init';
import { LORA_TARGETS, type LoraConfig } from '../../src/models/lora/types';
import { LlamaDecoder, TARGET_FIELD } from '../../src/models/native/llama-decoder';
import { mergeLora, uploadLora } from '../../src/models/native/lora-adapter';
import { loraLinear } from '../../src/models/native/lora-linear';
import { NativeEngine } from '../../src/models/native/native-engine';
import { Scope } from '../../src/models/native/ops';
import { Weights } from '../../src/models/native/weights';
import { SafetensorsFile } from '../../src/models/safetensors';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { relMax } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { MODEL_DIR, readJson } from './golden';
import { randomAdapter, TINY_TEXT, tinyDecoderFile } from './lora-tiny';

// An adapter applied at inference: unmerged (the rank-r products in every
// step) equals merged into the weights, and both equal a CPU computation.

let rt: GpuRuntime;

beforeAll(async () => {
  rt = await testRuntime();
});

describe('LoRA at inference', () => {
  it('one wrapped linear equals W x + b + (alpha / r) B (A x) computed on the CPU', async () => {
    const rng = new Rng(5);
    const [rows, k, n, r, scale] = [5, 12, 7, 3, 2.5];
    const x = rng.floats(rows * k);
    const w = rng.floats(n * k);
    const bias = rng.floats(n);
    const a = rng.floats(r * k);
    const b = rng.floats(n * r);
    const s = new Scope(rt);
    const lin = { n, k, bias: s.upload(bias, [n], 'bias'), weight: { kind: 'f32' as const, w: s.upload(w, [n, k], 'w') } };
    const pair = { a: s.upload(a, [r, k], 'a'), b: s.upload(b, [n, r], 'b') };
    const { y } = loraLinear(s, s.upload(x, [rows, k], 'x'), lin, pair, scale, 'y');
    const got = await rt.readF32(y);
    s.release();
    const want = new Float32Array(rows * n);
    for (let i = 0; i < rows; i++) {
      const ax = Array.from({ length: r }, (_, q) => {
        let t = 0;
        for (let j = 0; j < k; j++) t += (a[q * k + j] as number) * (x[i * k + j] as number);
        return t;
      });
      for (let o = 0; o < n; o++) {
        let t = bias[o] as number;
        for (let j = 0; j < k; j++) t += (w[o * k + j] as number) * (x[i * k + j] as number);
        for (let q = 0; q < r; q++) t += scale * (b[o * r + q] as number) * (ax[q] as number);
        want[i * n + o] = t;
      }
    }
    expect(relMax(got, want)).toBeLessThanOrEqual(1e-6);
  });

  it('tiny decoder, every target: logits with the adapter attached equal logits with it merged', async () => {
    const weights = new Weights(rt, tinyDecoderFile(TINY_TEXT, 9));
    const decoder = new LlamaDecoder(weights, TINY_TEXT);
    const config: LoraConfig = { rank: 2, alpha: 4, dropout: 0, targetModules: [...LORA_TARGETS], trainProjector: false, baseModel: 'tiny' };
    const adapter = randomAdapter(decoder, config, 13);
    const ids = Int32Array.from([1, 5, 9, 12, 30, 7, 7, 21]);
    const logits = async () => {
      const s = new Scope(rt);
      const cache = decoder.newCache(rt, 16);
      try {
        return await rt.readF32(decoder.step(s, decoder.embed(s, s.upload(ids, [ids.length], 'ids')), cache));
      } finally {
        cache.release();
        s.release();
      }
    };
    const base = await logits();
    const { lora, owned } = uploadLora(rt, decoder, adapter);
    decoder.lora = lora;
    const unmerged = await logits();
    decoder.lora = null;
    for (const t of owned) rt.release(t);
    await mergeLora(decoder, adapter, (lin) => (lin.weight.kind === 'f32' ? rt.readF32(lin.weight.w) : Promise.reject(new Error('the tiny decoder is f32'))), (data, shape, label) => weights.constant(data, shape, label));
    const merged = await logits();
    expect(relMax(unmerged, base)).toBeGreaterThan(1e-2);
    expect(relMax(merged, unmerged)).toBeLessThanOrEqual(1e-4);
    expect(decoder.layers[0]?.[TARGET_FIELD.q_proj].weight.kind).toBe('f32');
    weights.release();
  });

  it('bundled model: attaching drops the cached prompt, and attached equals merged within 1e-4', async () => {
    const golden = readJson<{ image: string; inputs: { expanded_input_ids: number[] } }>('golden.json');
    const config = parseLlavaConfig(readJson('config.json'));
    const file = new SafetensorsFile(new Uint8Array(readFileSync(join(MODEL_DIR, 'model.safetensors'))).buffer, 'model.safetensors');
    const pre = parsePreprocessorConfig(readJson('preprocessor_config.json'), config.vision.imageSize);
    const raster = decodePngRaster(new Uint8Array(readFileSync(join(MODEL_DIR, golden.image))));
    const images = [{ key: 'golden', pixels: preprocessImage({ ...raster, channels: 3 }, pre).pixels }];
    const ids = Int32Array.from(golden.inputs.expanded_input_ids);
    const engine = new NativeEngine(rt, config, file, {}, 256);
    const loraConfig: LoraConfig = { rank: 8, alpha: 16, dropout: 0, targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], trainProjector: false, baseModel: 'webvlm-tiny' };
    const dec = engine.llava.decoder;
    const adapter = goldenAdapter(loraConfig, dec.layers.length, dec.modelPath, (i, t) => {
      const lin = (dec.layers[i] ?? dec.layers[0])?.[TARGET_FIELD[t]];
      return [lin?.n ?? 0, lin?.k ?? 0];
    });
    const base = await engine.prefill(ids, images);
    engine.setAdapter(adapter);
    const attached = await engine.prefill(ids, images);
    expect(engine.reusedPositions).toBe(0);
    await engine.mergeAdapter(adapter);
    const merged = await engine.prefill(ids, images);
    expect(engine.reusedPositions).toBe(0);
    expect(relMax(attached, base)).toBeGreaterThan(1e-3);
    expect(relMax(merged, attached)).toBeLessThanOrEqual(1e-4);
    await engine.dispose();
  });
});
