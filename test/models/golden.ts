/** Reads the bundled model's golden.json (PyTorch outputs) and its golden image, for tests without Python. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePngRaster } from '../../src/data/png';
import { parseLlavaConfig, type LlavaConfig } from '../../src/models/config';
import { parsePreprocessorConfig, preprocessImage } from '../../src/models/image-processing';
import { SafetensorsFile } from '../../src/models/safetensors';
import { worstElement } from '../../src/webgpu/verify/compare';
import type { ChatMessage } from '../../src/models/vlm';

export const MODELS_DIR = fileURLToPath(new URL('../../public/models', import.meta.url));
export const MODEL_NAME = 'webvlm-tiny';
export const MODEL_DIR = join(MODELS_DIR, MODEL_NAME);


export interface Golden {
  format: number;
  image: string;
  tokenizer: { text: string; ids: number[] }[];
  chat: { messages: ChatMessage[]; add_generation_prompt: boolean; text: string; ids: number[] }[];
  inputs: { messages: ChatMessage[]; prompt: string; input_ids: number[]; expanded_input_ids: number[] };
  pixel_values: { shape: number[]; mean: number; std: number; sum: number; first: number[] };
  image_features: { shape: number[]; values: number[] };
  logits: { position: number; values: number[]; top5: { id: number; logit: number }[] };
  greedy: { max_new_tokens: number; ids: number[] };
}

export interface ModelConfig {
  image_token_index: number;
  image_seq_length: number;
  vision_config: { image_size: number };
  text_config: { hidden_size: number; num_hidden_layers: number; num_key_value_heads: number; head_dim: number; vocab_size: number };
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(join(MODEL_DIR, file), 'utf8')) as T;
}

/** The bundled model as the native engine's tests load it: golden.json, the parsed config, model.safetensors and golden.png through our preprocessor. */
export function bundledLlava(): { golden: Golden; config: LlavaConfig; file: SafetensorsFile; pixels: Float32Array } {
  const golden = readJson<Golden>('golden.json');
  const config = parseLlavaConfig(readJson('config.json'));
  const file = new SafetensorsFile(new Uint8Array(readFileSync(join(MODEL_DIR, 'model.safetensors'))).buffer, 'model.safetensors');
  const pre = parsePreprocessorConfig(readJson('preprocessor_config.json'), config.vision.imageSize);
  const raster = decodePngRaster(new Uint8Array(readFileSync(join(MODEL_DIR, golden.image))));
  return { golden, config, file, pixels: preprocessImage({ ...raster, channels: 3 }, pre).pixels };
}

/** golden.png as the model's pixel_values (1, 3, S, S): x/255, then (x - mean) / std, channel-major. */
export function goldenPixels(golden: Golden): Float32Array {
  const pre = readJson<{ image_mean: number[]; image_std: number[] }>('preprocessor_config.json');
  const img = decodePngRaster(new Uint8Array(readFileSync(join(MODEL_DIR, golden.image))));
  const plane = img.width * img.height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const mean = pre.image_mean[c] ?? 0;
    const std = pre.image_std[c] ?? 1;
    for (let p = 0; p < plane; p++) out[c * plane + p] = ((img.data[p * 3 + c] ?? 0) / 255 - mean) / std;
  }
  return out;
}

/** The largest |a - b| (NaN or a length mismatch counts as infinite). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return worstElement(a, b, 'absolute').absError;
}
