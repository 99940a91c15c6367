/**
 * Writes a synthetic split to disk:
 *   npm run data -- --seed 1 --count 1000 --out data/train [--tasks vqa-colour,ocr]
 *     [--held-out exclude|include|focus] [--words synthetic|real|real-held-out]
 *     [--min-objects 1] [--max-objects 5]
 *     [--image-size 64] [--masks] [--force]
 * Output: OUT/data.json (LLaVA JSON), OUT/images/*.png, OUT/meta.json (the exact
 * metadata of every image), with --masks OUT/masks/*.png (scene label maps:
 * grey value i + 1 where object i was painted), and OUT/pope-<strategy>.jsonl
 * (POPE's own question format) for each POPE task in the split.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serialiseLlava, toLlavaRecord } from '../src/data/llava';
import { encodeGreyPng, encodePng } from '../src/data/png';
import { generateSplit } from '../src/data/split';
import type { TaskName } from '../src/data/tasks/registry';
import type { ImageMeta, Sample } from '../src/data/tasks/types';
import type { CliOptions } from './make-data-args';
import { parseArgs, USAGE } from './make-data-args';

/** Bumped when the layout of meta.json changes, so readers can refuse what they do not know. */
const META_FORMAT = 1;

function prepareOut(out: string, force: boolean): void {
  if (existsSync(out) && readdirSync(out).length > 0) {
    if (!force) throw new Error(`${out} is not empty (pass --force to replace a previous split there)`);
    for (const name of ['data.json', 'meta.json', 'images', 'masks']) rmSync(join(out, name), { recursive: true, force: true });
    for (const name of readdirSync(out)) if (/^pope-.*\.jsonl$/.test(name)) rmSync(join(out, name));
  }
  mkdirSync(join(out, 'images'), { recursive: true });
}

function writeImages(sample: Sample, o: CliOptions, written: Map<string, ImageMeta>): void {
  sample.images.forEach((img, k) => {
    const name = sample.imageNames[k] as string;
    if (written.has(name)) return;
    written.set(name, img.meta);
    writeFileSync(join(o.out, 'images', name), encodePng(img.raster));
    if (o.masks && img.labels) {
      mkdirSync(join(o.out, 'masks'), { recursive: true });
      writeFileSync(join(o.out, 'masks', name), encodeGreyPng(img.raster.width, img.raster.height, img.labels));
    }
  });
}

function popeLines(samples: readonly Sample[]): Map<string, string[]> {
  const files = new Map<string, string[]>();
  for (const s of samples) {
    if (!s.task.startsWith('pope-')) continue;
    const lines = files.get(s.task) ?? [];
    const q = s.conversations[0]?.value.replace(/^<image>\n/, '') ?? '';
    const label = s.conversations[1]?.value ?? '';
    lines.push(JSON.stringify({ question_id: lines.length, image: `images/${s.imageNames[0] ?? ''}`, text: q, label }));
    files.set(s.task, lines);
  }
  return files;
}

export function main(argv: readonly string[]): number {
  const parsed = parseArgs(argv);
  if (typeof parsed === 'string') {
    console.error(`${parsed}\n\n${USAGE}`);
    return 2;
  }
  const o = parsed;
  const t0 = performance.now();
  prepareOut(o.out, o.force);
  const samples: Sample[] = [];
  const written = new Map<string, ImageMeta>();
  for (const s of generateSplit(o)) {
    writeImages(s, o, written);
    samples.push({ ...s, images: [] });
  }
  writeFileSync(join(o.out, 'data.json'), serialiseLlava(samples.map((s) => toLlavaRecord(s))));
  // The word source is written only when one was asked for, so a default split's meta.json keeps its bytes.
  const source = o.words === undefined ? {} : { words: o.words };
  const meta = { format: META_FORMAT, seed: o.seed, count: o.count, heldOut: o.heldOut, ...source, images: Object.fromEntries(written) };
  writeFileSync(join(o.out, 'meta.json'), `${JSON.stringify(meta)}\n`);
  for (const [task, lines] of popeLines(samples)) writeFileSync(join(o.out, `${task}.jsonl`), `${lines.join('\n')}\n`);
  summarise(samples, o.tasks, written.size, performance.now() - t0, o.out);
  return 0;
}

function summarise(samples: readonly Sample[], tasks: readonly TaskName[], images: number, ms: number, out: string): void {
  const counts = new Map<string, number>();
  for (const s of samples) counts.set(s.task, (counts.get(s.task) ?? 0) + 1);
  const width = Math.max(...tasks.map((t) => t.length));
  for (const t of tasks) console.log(`${t.padEnd(width)}  ${counts.get(t) ?? 0}`);
  console.log(`${samples.length} samples, ${images} images -> ${out} in ${(ms / 1000).toFixed(1)} s`);
}
