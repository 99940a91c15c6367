/**
 * The tiny SmolVLM (Idefics3) fixture's golden.json, written by
 * tools/families/idefics3_golden.py: one case per prompt (one image; two
 * images), each with PyTorch's prompt, pixel values per tile, image
 * features, first-step logits and greedy ids.
 */
import { readGolden, type Logits, type PixelCheck, type Summary } from './family-golden';

export const SMOL_DIR = 'HuggingFaceTB-tiny-smolvlm';

export interface SmolGoldenCase {
  images: { file: string; width: number; height: number }[];
  messages: { role: string; content: { type: string; text?: string }[] }[];
  chat_text: string;
  rows: number[];
  cols: number[];
  prompt: string;
  input_ids: number[];
  pixel_values: { shape: number[]; sample_stride: number; tiles: PixelCheck[] };
  image_features: Summary;
  first_logits: Logits;
  max_new_tokens: number;
  greedy_ids: number[];
  /** The smallest top-1 minus top-2 logit along PyTorch's greedy path. */
  greedy_min_top2_gap: number;
}

export interface SmolGolden extends SmolGoldenCase {
  format: number;
  two_images: SmolGoldenCase;
  tokenizer: { text: string; ids: number[] }[];
}

export const readSmolGolden = (): SmolGolden => readGolden<SmolGolden>(SMOL_DIR);

/** Both cases, named for the test titles. */
export function smolCases(golden: SmolGolden): [string, SmolGoldenCase][] {
  return [
    ['one image (2 x 4 tiles + global)', golden],
    ['two images (2 x 4 and 4 x 2 tiles, each + global)', golden.two_images],
  ];
}

/** Per value: tiles are exact crops; the global view is one bilinear resize in f32 against ours. */
export const PIXEL_TOL = 1e-5;
/** Per-tile sums over 12,288 values, each within PIXEL_TOL, accumulated in f64. */
export const PIXEL_SUM_TOL = 1e-3;
