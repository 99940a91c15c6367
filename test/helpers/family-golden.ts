/**
 * golden.json of the tiny family fixtures under test/fixtures/hub (written by
 * tools/families/*.py from PyTorch), and the same checks computed on what
 * transformers.js or the engine returns, so every family compares alike.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawImage, Tensor, env } from '@huggingface/transformers';
import { expect } from 'vitest';
import { decodePng } from '../../src/data/png';
import type { ImagePixels } from '../../src/models/image-processing';
import { TransformersVlm } from '../../src/models/transformers/transformers-vlm';
import type { ChatMessage } from '../../src/models/vlm';

export const HUB_DIR = fileURLToPath(new URL('../fixtures/hub', import.meta.url));

/** ORT's f32 against PyTorch's f32, per logit and per image-feature value, in every family. */
export const LOGIT_TOL = 1e-4;
export const FEATURE_TOL = 1e-4;

/** tools/families/golden_stats.py's pixel_checks. */
export interface PixelCheck { sum: number; abs_sum: number; weighted_sum: number; sample: number[] }
/** tools/families/golden_stats.py's summary. */
export interface Summary { shape: number[]; sum: number; abs_sum: number; first: number[]; last: number[] }
/** tools/families/golden_stats.py's logits_entry. */
export interface Logits { values: number[]; top5: { ids: number[]; values: number[] } }

/** A case as the engine tests replay it: the chat, its images, and what PyTorch answered. */
export interface EngineCase {
  images: { file: string }[];
  messages: ChatMessage[];
  input_ids: number[];
  max_new_tokens: number;
  greedy_ids: number[];
  first_logits: { values: number[] };
}

/** transformers.js reads repos by id from the fixture folder, never from the network. */
export function readReposFromFixtures(): void {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = HUB_DIR;
}

export function readGolden<T>(repo: string): T {
  return JSON.parse(readFileSync(join(HUB_DIR, repo, 'golden.json'), 'utf8')) as T;
}

/** An RGB PNG of the repo's folder as the engine takes images. */
export function readPixels(repo: string, file: string): ImagePixels {
  const png = decodePng(new Uint8Array(readFileSync(join(HUB_DIR, repo, file))));
  return { width: png.width, height: png.height, data: png.data, channels: png.channels as 3 | 4 };
}

/** An RGB PNG of the repo's folder as transformers.js's processors take images. */
export function readRawImage(repo: string, file: string): RawImage {
  const png = decodePng(new Uint8Array(readFileSync(join(HUB_DIR, repo, file))));
  return new RawImage(new Uint8ClampedArray(png.data), png.width, png.height, 3);
}

export function ids(t: Tensor): number[] {
  return Array.from(t.data as BigInt64Array, Number);
}

export function idTensor(values: number[]): Tensor {
  return new Tensor('int64', BigInt64Array.from(values, BigInt), [1, values.length]);
}

/** The last position's logits of a forward pass. */
export function lastLogits(logits: Tensor): Float32Array {
  const [, seq = 0, vocab = 0] = logits.dims;
  return (logits.data as Float32Array).subarray((seq - 1) * vocab, seq * vocab);
}

/** The same checks golden_stats.py wrote, computed on one image's (or tile's) values. */
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

/** The largest |a[i] - b[i]| and where it is (a NaN on either side counts as the worst). */
export function worst(a: ArrayLike<number>, b: ArrayLike<number>): { index: number; diff: number } {
  let index = -1;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] ?? Number.NaN) - (b[i] ?? Number.NaN));
    if (!(d <= diff)) [index, diff] = [i, d];
  }
  return { index, diff };
}

/** values' pixel checks match want's: samples within tol.pixel, the three sums within tol.sum. */
export function expectPixelCheck(
  values: Float32Array,
  stride: number,
  want: PixelCheck,
  tol: { pixel: number; sum: number },
  label = '',
): void {
  const got = pixelCheck(values, stride);
  const at = label ? `${label} ` : '';
  const w = worst(got.sample, want.sample);
  expect(w.diff, `${at}sample ${w.index}`).toBeLessThanOrEqual(tol.pixel);
  expect(Math.abs(got.sum - want.sum), `${at}sum`).toBeLessThanOrEqual(tol.sum);
  expect(Math.abs(got.abs_sum - want.abs_sum), `${at}abs sum`).toBeLessThanOrEqual(tol.sum);
  expect(Math.abs(got.weighted_sum - want.weighted_sum), `${at}weighted sum`).toBeLessThanOrEqual(tol.sum);
}

/** A feature tensor matches its summary: shape, sums within tol.sum, first/last 8 values within tol.value. */
export function expectSummary(t: Tensor, want: Summary, tol: { value: number; sum: number }): void {
  expect(t.dims).toEqual(want.shape);
  const data = t.data as Float32Array;
  let sum = 0;
  let absSum = 0;
  for (const v of data) {
    sum += v;
    absSum += Math.abs(v);
  }
  expect(Math.abs(sum - want.sum)).toBeLessThanOrEqual(tol.sum);
  expect(Math.abs(absSum - want.abs_sum)).toBeLessThanOrEqual(tol.sum);
  expect(worst(data.subarray(0, 8), want.first).diff).toBeLessThanOrEqual(tol.value);
  expect(worst(data.subarray(data.length - 8), want.last).diff).toBeLessThanOrEqual(tol.value);
}

/** One position's logits match: every value within tol, and the same top 5 ids in order. */
export function expectLogits(got: Float32Array, want: Logits, tol: number, label = ''): void {
  const w = worst(got, want.values);
  expect(w.diff, `${label ? `${label} ` : ''}logit ${w.index}`).toBeLessThanOrEqual(tol);
  const top5 = Array.from(got.keys()).sort((a, b) => (got[b] ?? 0) - (got[a] ?? 0)).slice(0, 5);
  expect(top5).toEqual(want.top5.ids);
}

/** The transformers engine on a fixture repo, read from the local hub folder, fp32 on the CPU. */
export function loadFixtureVlm(repo: string, files?: string[]): Promise<TransformersVlm> {
  return TransformersVlm.load(repo, { source: { kind: 'local', path: HUB_DIR }, device: 'cpu', dtype: 'fp32', ...(files ? { files } : {}) });
}
