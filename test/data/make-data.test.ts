import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseArgs } from '../../scripts/make-data-args';
import { main } from '../../scripts/make-data';
import { readLlavaJson, recordImages } from '../../src/data/llava';
import { decodePng, decodePngRaster } from '../../src/data/png';

const dir = mkdtempSync(join(tmpdir(), 'make-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('make-data arguments', () => {
  it('fill defaults and read every option', () => {
    const o = parseArgs(['--out', 'x', '--seed', '3', '--count', '12', '--tasks', 'ocr,compare', '--held-out', 'focus', '--max-objects', '2', '--masks']);
    expect(o).toMatchObject({ out: 'x', seed: 3, count: 12, tasks: ['ocr', 'compare'], heldOut: 'focus', minObjects: 1, maxObjects: 2, imageSize: 64, masks: true, force: false });
  });

  it.each([
    [['--seed', '1'], /--out DIR is required/],
    [['--out', 'x', '--tasks', 'ocr,nope'], /unknown task\(s\): nope/],
    [['--out', 'x', '--count', '-4'], /--count must be an integer >= 1/],
    [['--out', 'x', '--held-out', 'some'], /--held-out must be one of/],
    [['--out', 'x', '--min-objects', '4', '--max-objects', '2'], /--min-objects <= --max-objects/],
    [['--out', 'x', '--colour'], /unknown argument --colour/],
    [['--out'], /--out needs a value/],
  ])('reject %j', (argv, message) => {
    expect(parseArgs(argv)).toMatch(message);
  });
});

describe('make-data', () => {
  it('writes LLaVA JSON, the PNGs it names, metadata, masks and POPE files', () => {
    const out = join(dir, 'split');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(main(['--out', out, '--seed', '2', '--count', '24', '--tasks', 'vqa-count,compare,doc-date,pope-popular', '--masks'])).toBe(0);
    const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
    log.mockRestore();
    expect(printed).toMatch(/vqa-count\s+6/);
    expect(printed).toMatch(/24 samples/);

    const records = readLlavaJson(readFileSync(join(out, 'data.json'), 'utf8'));
    expect(records.length).toBe(24);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as { format: number; images: Record<string, { kind: string; width: number }> };
    expect(meta.format).toBe(1);
    for (const r of records) {
      for (const path of recordImages(r)) {
        const img = decodePngRaster(readFileSync(join(out, path)));
        const name = path.replace(/^images\//, '');
        expect(img.width).toBe(meta.images[name]?.width);
        if (meta.images[name]?.kind === 'scene') expect(decodePng(readFileSync(join(out, 'masks', name))).channels).toBe(1);
      }
    }
    expect(readdirSync(join(out, 'images')).length).toBe(Object.keys(meta.images).length);
    const pope = readFileSync(join(out, 'pope-popular.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { label: string });
    expect(pope.filter((q) => q.label === 'yes').length).toBe(3);
  });

  it('refuses to write over a previous split unless forced, and then replaces it', () => {
    const out = join(dir, 'again');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    main(['--out', out, '--count', '4', '--tasks', 'ocr']);
    expect(() => main(['--out', out, '--count', '2', '--tasks', 'describe'])).toThrow(/not empty/);
    main(['--out', out, '--count', '2', '--tasks', 'describe', '--force']);
    log.mockRestore();
    expect(readdirSync(join(out, 'images')).sort()).toEqual(['describe-000000.png', 'describe-000001.png']);
    expect(existsSync(join(out, 'masks'))).toBe(false);
  });
});
