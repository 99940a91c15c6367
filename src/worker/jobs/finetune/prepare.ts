/**
 * A data set in LLaVA JSON as training sequences for the loaded model: each
 * record's images decoded and processed as chat does, its conversation
 * encoded with the loss on the answers only, cut to the maximum length; then a
 * seeded shuffle and a validation slice held out.
 */
import { deriveSeed, Rng } from '../../../data/random';
import type { LlavaRecord } from '../../../data/llava';
import type { ImagePixels } from '../../../models/image-processing';
import type { TrainExample } from '../../../models/lora/types';
import { VlmError } from '../../errors';
import type { FinetuneDataset, FinetuneImage, FinetuneSettings } from '../../finetune-api';
import type { FinetuneModel, ProcessedImage } from './finetune-model';
import { supervisedTokens, type TrainingData } from './run-loop';

export type ImageDecoder = (image: FinetuneImage) => Promise<ImagePixels>;

export interface PreparedData extends TrainingData {
  /** One sentence per record left out, naming it and why. */
  skipped: string[];
}

type Encoder = Pick<FinetuneModel, 'encode' | 'pixels' | 'imageTokenId' | 'imageSeqLength' | 'tiledImages'>;

/** Records held out for validation: the fraction, and at least one once there are 10 records. */
export function validationCount(records: number, fraction: number): number {
  if (!(fraction > 0) || records < 2) return 0;
  const n = Math.floor(records * Math.min(fraction, 0.5));
  return records >= 10 ? Math.max(1, n) : n;
}

function imagePaths(record: LlavaRecord): string[] {
  if (record.image === undefined) return [];
  return typeof record.image === 'string' ? [record.image] : [...record.image];
}

const normalise = (path: string) => path.replace(/\\/g, '/').replace(/^(\.\/)+/, '');

/**
 * Cuts ids and labels to `max` positions. A cut inside an image's run of
 * image tokens moves to before that run, so every image kept has all its
 * tokens; returns how many images remain.
 */
export function truncate(ids: Int32Array, labels: Int32Array, max: number, imageTokenId: number): { ids: Int32Array; labels: Int32Array; images: number } {
  let end = Math.min(max, ids.length);
  while (end > 0 && end < ids.length && ids[end] === imageTokenId && ids[end - 1] === imageTokenId) end--;
  let tokens = 0;
  for (let i = 0; i < end; i++) if (ids[i] === imageTokenId) tokens++;
  return { ids: ids.slice(0, end), labels: labels.slice(0, end), images: tokens };
}

/** `<image>` markers in a record's turns: the images its text places. */
function imageMarkers(record: LlavaRecord): number {
  return record.conversations.reduce((n, t) => n + t.value.split('<image>').length - 1, 0);
}

class PixelCache {
  private readonly done = new Map<string, ProcessedImage>();
  private readonly files: Map<string, FinetuneImage>;

  constructor(
    images: readonly FinetuneImage[],
    private readonly decode: ImageDecoder,
    private readonly model: Encoder,
  ) {
    this.files = new Map(images.map((i) => [normalise(i.path), i]));
  }

  /** The processed image at `path` (its tiles); records that share an image share its pixels. */
  async get(path: string): Promise<ProcessedImage | string> {
    const key = normalise(path);
    const hit = this.done.get(key);
    if (hit) return hit;
    const file = this.files.get(key);
    if (!file) return `its image ${path} is not in the data set`;
    const p = this.model.pixels(await this.decode(file));
    const image = p instanceof Float32Array ? { tiles: [p], rows: 0, cols: 0 } : p;
    this.done.set(key, image);
    return image;
  }
}

async function prepareRecord(record: LlavaRecord, index: number, model: Encoder, cache: PixelCache, maxSeqLength: number): Promise<TrainExample | string> {
  const name = `record ${index} (${record.id})`;
  const paths = imagePaths(record);
  // A tiled model's ids spell each image's grid: its images are processed first (all its markers name).
  const images: ProcessedImage[] = [];
  if (model.tiledImages) {
    const markers = imageMarkers(record);
    if (markers > paths.length) return `${name}: its text places ${markers} image(s) but it names ${paths.length}`;
    for (const path of paths.slice(0, markers)) {
      const image = await cache.get(path);
      if (typeof image === 'string') return `${name}: ${image}`;
      images.push(image);
    }
  }
  const full = model.tiledImages ? model.encode(record.conversations, images) : model.encode(record.conversations);
  const cut = truncate(full.ids, full.labels, maxSeqLength, model.imageTokenId);
  const example: TrainExample = { id: record.id, ids: cut.ids, labels: cut.labels, pixels: [] };
  if (supervisedTokens(example) === 0) {
    if (supervisedTokens({ ...example, labels: full.labels }) === 0) return `${name}: it has no answer to learn from`;
    return `${name}: no answer token falls within the first ${maxSeqLength} tokens (it has ${full.ids.length}); raise the maximum sequence length to train on it`;
  }
  if (cut.images % model.imageSeqLength !== 0) return `${name}: its image tokens do not come in runs of ${model.imageSeqLength}`;
  const runs = cut.images / model.imageSeqLength;
  if (model.tiledImages) {
    // The runs kept are the first tiles, in prompt order.
    example.pixels.push(...images.flatMap((i) => i.tiles).slice(0, runs));
    return example;
  }
  for (const path of paths.slice(0, runs)) {
    const image = await cache.get(path);
    if (typeof image === 'string') return `${name}: ${image}`;
    example.pixels.push(...image.tiles);
  }
  return example;
}

/** Decodes, encodes and splits `dataset`; `onProgress` hears each record; null once `cancel` is aborted. */
export async function prepareData(
  dataset: FinetuneDataset,
  model: Encoder,
  settings: Pick<FinetuneSettings, 'maxSeqLength' | 'seed' | 'validationFraction'>,
  decode: ImageDecoder,
  onProgress: (done: number, total: number) => void = () => undefined,
  cancel?: AbortSignal,
): Promise<PreparedData | null> {
  const cache = new PixelCache(dataset.images, decode, model);
  const examples: TrainExample[] = [];
  const skipped: string[] = [];
  const total = dataset.records.length;
  for (const [i, record] of dataset.records.entries()) {
    if (cancel?.aborted) return null;
    const r = await prepareRecord(record, i, model, cache, settings.maxSeqLength);
    if (typeof r === 'string') skipped.push(r);
    else examples.push(r);
    onProgress(i + 1, total);
  }
  if (examples.length === 0) {
    throw new VlmError('bad-input', `None of the ${total} records of ${dataset.name} can be trained on${skipped[0] ? `: ${skipped[0]}` : ''}.`);
  }
  const shuffled = new Rng(deriveSeed('finetune-split', settings.seed)).shuffle(examples);
  const nVal = Math.min(validationCount(shuffled.length, settings.validationFraction), shuffled.length - 1);
  return { validation: shuffled.slice(0, nVal), train: shuffled.slice(nVal), skipped };
}
