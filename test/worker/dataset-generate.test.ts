import { describe, expect, it } from 'vitest';
import { decodePngRaster, llavaZip, readLlavaFiles, recordImages } from '../../src/data';
import { finetuneGenerate } from '../../src/worker/jobs/finetune-generate';

describe('finetuneGenerate', () => {
  it('gives each task its count, interleaved, with a PNG for every image a record names', async () => {
    const progress: [number, number][] = [];
    const set = await finetuneGenerate({ counts: { describe: 3, 'vqa-count': 2, 'pope-random': 4, ocr: 0 }, heldOut: 'exclude', seed: 5 }, (d, t) => progress.push([d, t]));
    const byTask = new Map<string, number>();
    for (const r of set.records) byTask.set(r.task ?? '', (byTask.get(r.task ?? '') ?? 0) + 1);
    expect(Object.fromEntries(byTask)).toEqual({ describe: 3, 'vqa-count': 2, 'pope-random': 4 });
    expect(set.records.slice(0, 3).map((r) => r.task)).toEqual(['describe', 'vqa-count', 'pope-random']);
    expect(progress.at(-1)).toEqual([9, 9]);
    const paths = new Set(set.images.map((i) => i.path));
    for (const r of set.records) for (const p of recordImages(r)) expect(paths.has(p), p).toBe(true);
    // POPE asks several questions about one image: it is stored once.
    expect(set.images.length).toBeLessThan(set.records.length);
    for (const img of set.images) {
      expect(img.type).toBe('image/png');
      expect(decodePngRaster(img.bytes).width).toBe(64);
    }
  });

  it("'focus' puts a star or a purple object in every scene; 'exclude' never", async () => {
    const focus = await finetuneGenerate({ counts: { describe: 24 }, heldOut: 'focus', seed: 1 });
    for (const r of focus.records) expect(r.conversations[1]?.value, r.id).toMatch(/\bstar\b|\bpurple\b/);
    const exclude = await finetuneGenerate({ counts: { describe: 24 }, heldOut: 'exclude', seed: 1 });
    for (const r of exclude.records) expect(r.conversations[1]?.value, r.id).not.toMatch(/\bstars?\b|\bpurple\b/);
  });

  it('is a function of its seed: the same seed gives the same bytes, another seed another set', async () => {
    const request = { counts: { 'vqa-colour': 4, grounding: 3 }, heldOut: 'include' as const, seed: 42 };
    const a = await finetuneGenerate(request);
    const b = await finetuneGenerate(request);
    expect(b).toEqual(a);
    const c = await finetuneGenerate({ ...request, seed: 43 });
    expect(c.records).not.toEqual(a.records);
  });

  it('downloads as a zip the LLaVA loader reads back unchanged', async () => {
    const set = await finetuneGenerate({ counts: { compare: 2, 'pope-adversarial': 3 }, heldOut: 'focus', seed: 3 });
    const { dataset, problems } = readLlavaFiles([{ path: `${set.name}.zip`, bytes: llavaZip(set) }]);
    expect(problems).toEqual([]);
    expect(dataset).toEqual(set);
  });

  it('refuses an unknown task, a negative count and an empty request', async () => {
    await expect(finetuneGenerate({ counts: { nope: 1 }, heldOut: 'focus', seed: 0 })).rejects.toThrow(/unknown task "nope"/);
    await expect(finetuneGenerate({ counts: { describe: -1 }, heldOut: 'focus', seed: 0 })).rejects.toThrow(/whole number/);
    await expect(finetuneGenerate({ counts: { describe: 0 }, heldOut: 'focus', seed: 0 })).rejects.toThrow(/no samples/);
  });
});
