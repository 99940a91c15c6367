/**
 * The synthetic generator in the worker: a LLaVA data set for fine-tuning,
 * from counts per task, the held-out concept mode ('focus' puts a star or a
 * purple object in every scene) and a seed. Sample j of a task is the same
 * sample `npm run data` writes for that seed, so a set made in the browser can
 * be rebuilt in Node and scored by tools/train. Records interleave task by
 * task (any prefix is a balanced mix); images are PNG under images/, shared
 * where samples share them (POPE asks several questions per image).
 */
import { DEFAULT_TASK_OPTIONS, encodePng, isTaskName, HELD_OUT_MODES, taskSamples, toLlavaRecord, type Sample } from '../../data';
import type { LlavaRecord } from '../../data/llava';
import type { FinetuneDataset, FinetuneImage, GenerateRequest } from '../finetune-api';

/** More than this many records in one set is refused: every image stays in memory until training. */
export const MAX_GENERATED_RECORDS = 50_000;
const IMAGE_DIR = 'images';
/** Samples between yields to the worker's event loop, so progress and other calls get through. */
const YIELD_EVERY = 32;

function checkRequest(request: GenerateRequest): [string, number][] {
  if (!HELD_OUT_MODES.includes(request.heldOut)) throw new RangeError(`unknown held-out mode ${JSON.stringify(request.heldOut)}; use one of ${HELD_OUT_MODES.join(', ')}`);
  if (!Number.isSafeInteger(request.seed)) throw new RangeError(`the seed must be an integer, got ${request.seed}`);
  const counts = Object.entries(request.counts).filter(([, n]) => n !== 0);
  for (const [task, n] of counts) {
    if (!isTaskName(task)) throw new RangeError(`unknown task ${JSON.stringify(task)}`);
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`the count of ${task} must be a whole number, got ${n}`);
  }
  const total = counts.reduce((s, [, n]) => s + n, 0);
  if (total === 0) throw new RangeError('no samples asked for: give at least one task a count above 0');
  if (total > MAX_GENERATED_RECORDS) throw new RangeError(`${total} samples asked for; at most ${MAX_GENERATED_RECORDS} fit in one set`);
  return counts;
}

/** Every task's samples, round-robin over the tasks. */
function* interleave(counts: readonly [string, number][], request: GenerateRequest): Generator<Sample> {
  const options = { ...DEFAULT_TASK_OPTIONS, heldOut: request.heldOut };
  let live = counts.map(([task, n]) => (isTaskName(task) ? taskSamples(task, n, request.seed, options) : null)).filter((s) => s !== null);
  while (live.length > 0) {
    const next: Generator<Sample>[] = [];
    for (const s of live) {
      const r = s.next();
      if (!r.done) {
        yield r.value;
        next.push(s);
      }
    }
    live = next;
  }
}

export async function finetuneGenerate(request: GenerateRequest, onProgress?: (done: number, total: number) => void): Promise<FinetuneDataset> {
  const counts = checkRequest(request);
  const total = counts.reduce((s, [, n]) => s + n, 0);
  const records: LlavaRecord[] = [];
  const images = new Map<string, FinetuneImage>();
  for (const sample of interleave(counts, request)) {
    const record = toLlavaRecord(sample, IMAGE_DIR);
    records.push(record);
    sample.images.forEach((image, k) => {
      const path = `${IMAGE_DIR}/${sample.imageNames[k] ?? `${sample.id}-${k}.png`}`;
      if (!images.has(path)) images.set(path, { path, type: 'image/png', bytes: encodePng(image.raster) });
    });
    if (records.length % YIELD_EVERY === 0 || records.length === total) {
      onProgress?.(records.length, total);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  const name = `generated-${request.heldOut}-seed-${request.seed}`;
  return { name, records, images: [...images.values()] };
}
