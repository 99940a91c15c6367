/**
 * One page image -> text lines: detect text regions, cut each out straight,
 * turn upside-down ones (when the angle classifier is loaded), recognise the
 * crops in batches of similar width, decode, and order the lines as they are
 * read (in the frame of the page's own slant). Inference is behind TensorRunner so the same code runs on
 * onnxruntime-web's WebGPU or wasm backend, in the browser or in Node.
 */
import { checkCharset } from './charset';
import { ctcGreedy } from './ctc';
import { DEFAULT_DET_RESIZE, toDetInput, type DetResizePolicy } from './det-input';
import { DEFAULT_DET_POST, detectBoxes, type DetPostOptions } from './det-postprocess';
import { throwIfCancelled } from './errors';
import { fixUpsideDown, rotateCrop180 } from './orientation';
import { latinPunctuation } from './text-normalize';
import { readingOrderOfQuads } from './reading-order';
import { batchCrops, cropQuad, REC_HEIGHT, type RecCrop } from './rec-input';
import { quadBounds, type OcrLine, type Quad, type RgbaImage } from './types';

export interface TensorOut {
  data: Float32Array;
  dims: readonly number[];
}

/** One model: float input of the given shape -> its first output. */
export interface TensorRunner {
  run(data: Float32Array, dims: readonly number[]): Promise<TensorOut>;
}

export interface OcrModels {
  det: TensorRunner;
  rec: TensorRunner;
  /** The text angle classifier (0 or 180 degrees); without it lines are read as they stand. */
  cls?: TensorRunner;
  /** Class index -> string; index 0 is the CTC blank. */
  charset: readonly string[];
}

export interface OcrOptions {
  /** How the page is scaled for the detector (small photos up, huge pages down). */
  resize: DetResizePolicy;
  det: DetPostOptions;
  /** Lines below this confidence are dropped (PP-OCR's drop_score). */
  minConfidence: number;
  recBatch: number;
  signal?: AbortSignal;
  /** Called after detection (0 of n) and after each recognised batch. */
  onProgress?: (linesDone: number, linesTotal: number) => void;
}

export const DEFAULT_OCR: OcrOptions = { resize: DEFAULT_DET_RESIZE, det: DEFAULT_DET_POST, minConfidence: 0.5, recBatch: 8 };

/** Text regions of the page, as quads in page pixels. */
export async function detectText(models: OcrModels, img: RgbaImage, opts: OcrOptions): Promise<Quad[]> {
  const input = toDetInput(img, opts.resize);
  const out = await models.det.run(input.data, [1, 3, input.height, input.width]);
  const [, , h, w] = out.dims;
  if (h !== input.height || w !== input.width) throw new Error(`detector output ${out.dims.join('x')} does not match its input ${input.height}x${input.width}`);
  return detectBoxes({ width: input.width, height: input.height, data: out.data }, img.width, img.height, opts.det).map((b) => b.quad);
}

type Read = { text: string; confidence: number };

/** Recognises crops in batches of similar width; returns text and confidence per crop, in the order given. */
async function readCrops(models: OcrModels, crops: readonly RecCrop[], opts: OcrOptions): Promise<Read[]> {
  // Similar widths share a batch so little of it is padding.
  const order = crops.map((_, i) => i).sort((a, b) => (crops[a]?.width ?? 0) - (crops[b]?.width ?? 0));
  const results: Read[] = new Array(crops.length);
  for (let start = 0; start < order.length; start += opts.recBatch) {
    throwIfCancelled(opts.signal);
    const ids = order.slice(start, start + opts.recBatch);
    const batch = batchCrops(ids.map((i) => crops[i] as RecCrop));
    const out = await models.rec.run(batch.data, [ids.length, 3, REC_HEIGHT, batch.width]);
    const [n, steps, classes] = out.dims as [number, number, number];
    if (n !== ids.length) throw new Error(`recognizer returned ${n} rows for ${ids.length} crops`);
    checkCharset(models.charset, classes);
    ids.forEach((id, k) => {
      const r = ctcGreedy(out.data.subarray(k * steps * classes, (k + 1) * steps * classes), steps, classes, models.charset);
      results[id] = { ...r, text: latinPunctuation(r.text) };
    });
    opts.onProgress?.(Math.min(order.length, start + ids.length), order.length);
  }
  return results;
}

/**
 * Text and confidence of each quad, in the order given. A crop the angle
 * classifier turned is also read as it stood, and the reading the recognizer
 * is surer of wins: the classifier alone, at PaddleOCR's 0.9, turned a clean
 * 16 px line of the memo bench upside down.
 */
export async function recognizeQuads(models: OcrModels, img: RgbaImage, quads: readonly Quad[], opts: OcrOptions): Promise<Read[]> {
  const crops = quads.map((q) => cropQuad(img, q));
  const turned = models.cls && crops.length > 0 ? await fixUpsideDown(models.cls, crops) : [];
  const results = await readCrops(models, crops, opts);
  const ids = crops.map((_, i) => i).filter((i) => turned[i]);
  if (ids.length === 0) return results;
  const asTheyStood = ids.map((i) => {
    const c = crops[i] as RecCrop;
    const copy = { data: c.data.slice(), width: c.width };
    rotateCrop180(copy);
    return copy;
  });
  const again = await readCrops(models, asTheyStood, { ...opts, onProgress: undefined });
  ids.forEach((id, k) => {
    const r = again[k] as Read;
    if (r.confidence > (results[id] as Read).confidence) results[id] = r;
  });
  return results;
}

/** The page's lines in reading order, low-confidence and empty ones dropped. */
export async function ocrPage(models: OcrModels, img: RgbaImage, options: Partial<OcrOptions> = {}): Promise<OcrLine[]> {
  const opts: OcrOptions = { ...DEFAULT_OCR, ...options };
  throwIfCancelled(opts.signal);
  const quads = await detectText(models, img, opts);
  opts.onProgress?.(0, quads.length);
  const texts = await recognizeQuads(models, img, quads, opts);
  const lines: OcrLine[] = [];
  quads.forEach((quad, i) => {
    const r = texts[i];
    if (!r || r.text === '' || r.confidence < opts.minConfidence) return;
    lines.push({ text: r.text, confidence: r.confidence, quad, box: quadBounds(quad) });
  });
  return readingOrderOfQuads(lines);
}
