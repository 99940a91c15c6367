/**
 * The tiny SmolVLM fixture as the native engine's tests load it: config,
 * preprocessor, safetensors file and stop ids, the tiles of a golden case,
 * and greedy decoding free-running or along PyTorch's path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIdefics3Config, type Idefics3Config } from '../../src/models/config';
import { argmax } from '../../src/models/generation';
import { parseIdefics3Preprocessor, preprocessIdefics3 } from '../../src/models/idefics3-processing';
import type { NativeIdefics3 } from '../../src/models/native/idefics3';
import { SafetensorsFile, writeSafetensors } from '../../src/models/safetensors';
import { HUB_DIR, readPixels } from './family-golden';
import { SMOL_DIR, type SmolGoldenCase } from './smolvlm-golden';

const dir = join(HUB_DIR, SMOL_DIR);
export const smolJson = (name: string): unknown => JSON.parse(readFileSync(join(dir, name), 'utf8'));

export const smolConfig = parseIdefics3Config(smolJson('config.json'), smolJson('processor_config.json'));
export const smolPreprocessor = parseIdefics3Preprocessor(smolJson('preprocessor_config.json'), smolConfig.vision.imageSize);
const stops = new Set((smolJson('generation_config.json') as { eos_token_id: number[] }).eos_token_id);
export const smolFile = new SafetensorsFile(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))).buffer, 'model.safetensors');

/** Every tile of every image of a golden case, in prompt order. */
export function caseTiles(want: SmolGoldenCase): Float32Array[] {
  return want.images.flatMap((i) => preprocessIdefics3(readPixels(SMOL_DIR, i.file), smolPreprocessor).tiles);
}

/** Greedy decoding as HF's generate: up to maxNew tokens, the end id kept; with the first step's logits. */
export async function greedy(model: NativeIdefics3, ids: readonly number[], tiles: Float32Array[], maxNew: number): Promise<{ first: Float32Array; ids: number[] }> {
  const cache = model.decoder.newCache(model.rt, ids.length + maxNew + 1);
  try {
    const { logits: first } = await model.prefill(cache, Int32Array.from(ids), tiles);
    const out: number[] = [];
    let logits = first;
    while (out.length < maxNew) {
      const id = argmax(logits);
      out.push(id);
      if (stops.has(id)) break;
      logits = await model.decodeStep(cache, id);
    }
    return { first, ids: out };
  } finally {
    cache.release();
  }
}

/** Logits at every step of PyTorch's greedy path, PyTorch's ids fed back (teacher forcing): step i predicts greedy_ids[i]. */
export async function alongGolden(model: NativeIdefics3, want: SmolGoldenCase, tiles: Float32Array[]): Promise<Float32Array[]> {
  const cache = model.decoder.newCache(model.rt, want.input_ids.length + want.greedy_ids.length + 1);
  try {
    const steps = [(await model.prefill(cache, Int32Array.from(want.input_ids), tiles)).logits];
    for (const id of want.greedy_ids.slice(0, -1)) steps.push(await model.decodeStep(cache, id));
    return steps;
  } finally {
    cache.release();
  }
}

/** Top-1 minus top-2 logit. */
export function top2Margin(logits: Float32Array): number {
  let a = -Infinity;
  let b = -Infinity;
  for (const v of logits) {
    if (v > a) [a, b] = [v, a];
    else if (v > b) b = v;
  }
  return a - b;
}

/** The fixture with its decoder made `layers` deep by repeating its two layers' weights (SmolVLM-256M has 30). */
export function deeperFixture(layers: number): { config: Idefics3Config; file: SafetensorsFile } {
  const raw = smolJson('config.json') as { text_config: Record<string, unknown> };
  const deep = parseIdefics3Config({ ...raw, text_config: { ...raw.text_config, num_hidden_layers: layers } }, smolJson('processor_config.json'));
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  const layer = /^model\.text_model\.layers\.(\d+)\./;
  for (const [name, info] of smolFile.tensors) {
    const m = layer.exec(name);
    if (!m) tensors[name] = { shape: [...info.shape], data: smolFile.float32(name) };
    else for (let i = Number(m[1]); i < layers; i += smolConfig.text.numLayers) tensors[name.replace(layer, `model.text_model.layers.${i}.`)] = { shape: [...info.shape], data: smolFile.float32(name) };
  }
  return { config: deep, file: new SafetensorsFile(writeSafetensors(tensors).slice().buffer, 'model.safetensors') };
}
