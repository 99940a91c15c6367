import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import type { Golden, ModelConfig } from './golden';
import { MODEL_DIR, goldenPixels, maxAbsDiff, readJson } from './golden';

// The three onnx-community files of the bundled model, run by onnxruntime-web's
// wasm backend in Node, must reproduce PyTorch's golden outputs.
ort.env.wasm.numThreads = 1;

const LOGIT_TOL = 1e-4;

async function session(file: string): Promise<ort.InferenceSession> {
  const bytes = new Uint8Array(readFileSync(join(MODEL_DIR, 'onnx', file)));
  return ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
}

function argmaxLast(logits: ort.Tensor): number {
  const [, t, v] = logits.dims as [number, number, number];
  const data = logits.data as Float32Array;
  let best = 0;
  for (let i = 1; i < v; i++) if ((data[(t - 1) * v + i] ?? -Infinity) > (data[(t - 1) * v + best] ?? -Infinity)) best = i;
  return best;
}

describe('bundled model ONNX export', () => {
  const golden = readJson<Golden>('golden.json');
  const config = readJson<ModelConfig>('config.json');
  const tc = config.text_config;

  it('matches PyTorch first-step logits and greedy ids with the KV cache', async () => {
    expect(golden.format).toBe(1);
    const [vision, embed, decoder] = await Promise.all([
      session('vision_encoder.onnx'),
      session('embed_tokens.onnx'),
      session('decoder_model_merged.onnx'),
    ]);
    const size = config.vision_config.image_size;
    const pixels = goldenPixels(golden);
    expect(Array.from(pixels.slice(0, 16))).toEqual(golden.pixel_values.first.map((x) => Math.fround(x)));

    const { image_features: feats } = await vision.run({ pixel_values: new ort.Tensor('float32', pixels, [1, 3, size, size]) });
    const d = tc.hidden_size;
    const f = feats?.data as Float32Array;
    expect(feats?.dims).toEqual([1, config.image_seq_length, d]);
    const slice: number[] = [];
    for (let r = 0; r < 4; r++) for (let c = 0; c < 8; c++) slice.push(f[r * d + c] ?? NaN);
    expect(maxAbsDiff(slice, golden.image_features.values)).toBeLessThan(1e-4);

    // Embeddings with the image features written over the image-token positions, in order.
    const ids = golden.inputs.expanded_input_ids;
    const { inputs_embeds: emb } = await embed.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
    });
    const x = new Float32Array(emb?.data as Float32Array);
    let k = 0;
    ids.forEach((id, t) => {
      if (id === config.image_token_index) x.set(f.subarray(k * d, ++k * d), t * d);
    });
    expect(k).toBe(config.image_seq_length);

    const kvShape = (p: number): number[] => [1, tc.num_key_value_heads, p, tc.head_dim];
    let past: Record<string, ort.Tensor> = {};
    for (let l = 0; l < tc.num_hidden_layers; l++)
      for (const kind of ['key', 'value'])
        past[`past_key_values.${l}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), kvShape(0));
    const step = async (inputs: Float32Array, t: number, p: number): Promise<ort.Tensor> => {
      const out = await decoder.run({
        inputs_embeds: new ort.Tensor('float32', inputs, [1, t, d]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(p + t).fill(1n), [1, p + t]),
        position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: t }, (_, i) => BigInt(p + i)), [1, t]),
        ...past,
      });
      past = {};
      for (let l = 0; l < tc.num_hidden_layers; l++)
        for (const kind of ['key', 'value']) past[`past_key_values.${l}.${kind}`] = out[`present.${l}.${kind}`] as ort.Tensor;
      return out.logits as ort.Tensor;
    };

    const logits = await step(x, ids.length, 0);
    const v = tc.vocab_size;
    const last = (logits.data as Float32Array).subarray((ids.length - 1) * v, ids.length * v);
    const err = maxAbsDiff(last.subarray(0, golden.logits.values.length), golden.logits.values);
    const topErr = maxAbsDiff(golden.logits.top5.map((t) => last[t.id] ?? NaN), golden.logits.top5.map((t) => t.logit));
    console.log(`first-step logits: max |onnx - torch| ${err.toExponential(2)} (slice), ${topErr.toExponential(2)} (top 5)`);
    expect(err).toBeLessThan(LOGIT_TOL);
    expect(topErr).toBeLessThan(LOGIT_TOL);
    expect(argmaxLast(logits)).toBe(golden.logits.top5[0]?.id);

    const generated: number[] = [];
    let next = argmaxLast(logits);
    let p = ids.length;
    for (let i = 0; i < golden.greedy.max_new_tokens; i++) {
      generated.push(next);
      if (i === golden.greedy.max_new_tokens - 1) break;
      const { inputs_embeds: e } = await embed.run({ input_ids: new ort.Tensor('int64', BigInt64Array.of(BigInt(next)), [1, 1]) });
      next = argmaxLast(await step(e?.data as Float32Array, 1, p));
      p += 1;
    }
    expect(generated).toEqual(golden.greedy.ids);
  });
});
