import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawImage, Tensor } from '@huggingface/transformers';
import { decodePng } from '../../src/data/png';

// golden.json of the tiny random Qwen2-VL fixture (tools/families/qwen2_vl.py) and the
// checks computed on transformers.js's outputs to compare with it.
export const HUB_DIR = fileURLToPath(new URL('../fixtures/hub', import.meta.url));
export const REPO = 'Qwen-tiny-qwen2-vl';
export const REPO_DIR = join(HUB_DIR, REPO);

export interface PixelCheck { sum: number; abs_sum: number; weighted_sum: number; sample: number[] }
export interface Summary { shape: number[]; sum: number; abs_sum: number; first: number[]; last: number[] }
export interface TextCase {
  messages: { role: string; content: string | { type: string; text?: string }[] }[];
  chat_text: string;
  input_ids: number[];
  position_ids: number[][];
  rope_delta: number;
  first_logits: { values: number[]; top5: { ids: number[]; values: number[] } };
  max_new_tokens: number;
  greedy_ids: number[];
}
export interface GoldenCase extends TextCase {
  images: { file: string; width: number; height: number }[];
  messages: { role: string; content: { type: string; text?: string }[] }[];
  chat_text: string;
  prompt: string;
  input_ids: number[];
  image_grid_thw: number[][];
  pixel_values: { shape: number[]; sample_stride: number; images: PixelCheck[] };
  position_ids: number[][];
  rope_delta: number;
  image_features: Summary;
  first_logits: { values: number[]; top5: { ids: number[]; values: number[] } };
  max_new_tokens: number;
  greedy_ids: number[];
  greedy_min_top2_gap: number;
}
export interface ResizeRow { height: number; width: number; hf: number[] | null; transformers_js: number[] }
export interface QwenGolden extends GoldenCase {
  format: number;
  two_images: GoldenCase;
  text_only: TextCase;
  second_turn: Omit<TextCase, 'messages' | 'chat_text'> & { appended_text: string };
  smart_resize: { factor: number; min_pixels: number; max_pixels: number; sizes: ResizeRow[] };
  tokenizer: { text: string; ids: number[] }[];
}

export const golden = JSON.parse(readFileSync(join(REPO_DIR, 'golden.json'), 'utf8')) as QwenGolden;

export function readImage(file: string): RawImage {
  const png = decodePng(new Uint8Array(readFileSync(join(REPO_DIR, file))));
  return new RawImage(new Uint8ClampedArray(png.data), png.width, png.height, 3);
}

/** Row r of a (3, 1, T) position tensor, for each r. */
export function positionRows(pos: Tensor, length: number): number[][] {
  const flat = ids(pos);
  return [0, 1, 2].map((r) => flat.slice(r * length, (r + 1) * length));
}

/** The last position's logits of a forward pass. */
export function lastLogits(logits: Tensor): Float32Array {
  const [, seq = 0, vocab = 0] = logits.dims;
  return (logits.data as Float32Array).subarray((seq - 1) * vocab, seq * vocab);
}

export function idTensor(values: number[]): Tensor {
  return new Tensor('int64', BigInt64Array.from(values, BigInt), [1, values.length]);
}

export function ids(t: Tensor): number[] {
  return Array.from(t.data as BigInt64Array, Number);
}

/** The same checks tools/families/qwen2_vl_golden.py wrote, on one image's patch values. */
export function pixelCheck(values: Float32Array, stride: number): PixelCheck {
  let sum = 0;
  let absSum = 0;
  let weighted = 0;
  const sample: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? Number.NaN;
    sum += v;
    absSum += Math.abs(v);
    weighted += v * ((i % 1000) / 1000);
    if (i % stride === 0) sample.push(v);
  }
  return { sum, abs_sum: absSum, weighted_sum: weighted, sample };
}

export function worst(a: ArrayLike<number>, b: ArrayLike<number>): { index: number; diff: number } {
  let index = -1;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] ?? Number.NaN) - (b[i] ?? Number.NaN));
    if (!(d <= diff)) [index, diff] = [i, d];
  }
  return { index, diff };
}
