import { join } from 'node:path';
import type { RawImage, Tensor } from '@huggingface/transformers';
import { HUB_DIR, ids, readGolden, readRawImage, type Logits, type PixelCheck, type Summary } from '../helpers/family-golden';

// golden.json of the tiny random Qwen2-VL fixture (tools/families/qwen2_vl.py); the checks
// computed on transformers.js's outputs to compare with it are the families' shared ones.
export { HUB_DIR, idTensor, ids, lastLogits, pixelCheck, worst } from '../helpers/family-golden';
export const REPO = 'Qwen-tiny-qwen2-vl';
export const REPO_DIR = join(HUB_DIR, REPO);
export interface TextCase {
  messages: { role: string; content: string | { type: string; text?: string }[] }[];
  chat_text: string;
  input_ids: number[];
  position_ids: number[][];
  rope_delta: number;
  first_logits: Logits;
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
  first_logits: Logits;
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

export const golden = readGolden<QwenGolden>(REPO);

export function readImage(file: string): RawImage {
  return readRawImage(REPO, file);
}

/** Row r of a (3, 1, T) position tensor, for each r. */
export function positionRows(pos: Tensor, length: number): number[][] {
  const flat = ids(pos);
  return [0, 1, 2].map((r) => flat.slice(r * length, (r + 1) * length));
}
