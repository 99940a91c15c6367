import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { serialiseLlava, type LlavaRecord } from '../../src/data/llava';
import { arrayElementLines, llavaZip, readLlavaFiles, type LlavaInputFile } from '../../src/data/llava-files';
import { encodePng } from '../../src/data/png';
import { createRaster } from '../../src/data/raster';
import type { FinetuneDataset } from '../../src/worker/finetune-api';

const enc = (s: string) => new TextEncoder().encode(s);
const png = encodePng(createRaster(4, 4, [200, 10, 10]));
const jpeg = Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0);
const webp = Uint8Array.from([...enc('RIFF'), 30, 0, 0, 0, ...enc('WEBPVP8 ')]);
const gif = enc('GIF89a\x04\x00\x04\x00');
const svg = enc('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');

function record(id: string, image?: string | string[], answer = 'A red circle.'): LlavaRecord {
  const n = image === undefined ? 0 : typeof image === 'string' ? 1 : image.length;
  return { id, ...(image !== undefined ? { image } : {}), conversations: [{ from: 'human', value: `${'<image>\n'.repeat(n)}Describe it.` }, { from: 'gpt', value: answer }] };
}

/** One record per line, as serialiseLlava writes: record i is on line i + 2. */
const json = (records: readonly unknown[]) => enc(`[\n${records.map((r) => JSON.stringify(r)).join(',\n')}\n]`);

describe('readLlavaFiles', () => {
  it('reads a folder: records, their images typed by their bytes, paths relative to the JSON, side files ignored', () => {
    const records = [record('a', 'images/a.png'), record('b', ['images/b.jpg', './images/c.webp']), record('c')];
    const { dataset, problems } = readLlavaFiles([
      { path: 'shapes/data.json', bytes: json(records) },
      { path: 'shapes/meta.json', bytes: enc('{"images": {}}') },
      { path: 'shapes/images/a.png', bytes: png },
      { path: 'shapes/images/b.jpg', bytes: jpeg },
      { path: 'shapes/images/c.webp', bytes: webp },
      { path: 'shapes/images/unused.png', bytes: png },
      { path: 'shapes/.DS_Store', bytes: enc('x') },
    ]);
    expect(problems).toEqual([]);
    // The result is the worker API's data set as it is.
    const typed: FinetuneDataset = dataset;
    expect(typed.name).toBe('shapes');
    expect(dataset.records).toEqual(records);
    expect(dataset.images.map((i) => [i.path, i.type])).toEqual([
      ['images/a.png', 'image/png'],
      ['images/b.jpg', 'image/jpeg'],
      ['./images/c.webp', 'image/webp'],
    ]);
    expect(dataset.images[0]?.bytes).toBe(png);
  });

  it('finds images picked as loose files (no folders) by their names', () => {
    const { dataset, problems } = readLlavaFiles([
      { path: 'train.json', bytes: json([record('a', 'images/a.png')]) },
      { path: 'a.png', bytes: png },
    ]);
    expect(problems).toEqual([]);
    expect(dataset.name).toBe('train');
    expect(dataset.images.map((i) => i.path)).toEqual(['images/a.png']);
  });

  it('names a JSON syntax error by line and column and keeps nothing from that file', () => {
    const text = '[\n  {"id": "a", "conversations": []},\n  {"id": "b",, "conversations": []}\n]';
    const { dataset, problems } = readLlavaFiles([{ path: 'bad.json', bytes: enc(text) }]);
    expect(dataset.records).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'bad.json', line: 3 });
    expect(problems[0]?.reason).toMatch(/^not valid JSON at line 3, column 14/);
  });

  it('skips each bad record with its index and reason, keeping the good ones', () => {
    const values = [
      record('ok-1'),
      { id: 'no-turns' },
      { id: 'wrong-order', conversations: [{ from: 'gpt', value: 'x' }, { from: 'human', value: 'y' }] },
      record('ok-1', undefined, 'duplicate'),
      record('tokens', 'a.png', 'fine'),
      { ...record('two-markers'), conversations: [{ from: 'human', value: '<image>\n<image>\nQ' }, { from: 'gpt', value: 'A' }], image: 'a.png' },
      record('ok-2'),
    ];
    const { dataset, problems } = readLlavaFiles([
      { path: 'd.json', bytes: json(values) },
      { path: 'a.png', bytes: png },
    ]);
    expect(dataset.records.map((r) => r.id)).toEqual(['ok-1', 'tokens', 'ok-2']);
    expect(problems).toEqual([
      { file: 'd.json', line: 3, record: 1, reason: 'missing conversations' },
      { file: 'd.json', line: 4, record: 2, reason: 'conversations[0].from must be "human", got "gpt"' },
      { file: 'd.json', line: 5, record: 3, reason: 'duplicate id "ok-1"' },
      { file: 'd.json', line: 7, record: 5, reason: '2 <image> token(s) for 1 image(s)' },
    ]);
  });

  it('finds the line each record of an array starts on, whatever the layout', () => {
    const text = '[ {"id": "a", "x": "],{\\"["},\n\n  {\n "id": "b"\n },\n  [1, 2], "s,t", 3\n]';
    expect(JSON.parse(text)).toHaveLength(5);
    expect(arrayElementLines(text)).toEqual([1, 3, 6, 6, 6]);
    expect(arrayElementLines('[]')).toEqual([]);
    expect(arrayElementLines(serialiseLlava([record('a'), record('b')]))).toEqual([2, 3]);
  });

  it('reads JSON lines: a line that does not parse is named by its line, a bad record by line and index', () => {
    const lines = [JSON.stringify(record('a')), '', '{"id": "b", "conversations": [', JSON.stringify({ id: 'c' }), JSON.stringify(record('d'))];
    const { dataset, problems } = readLlavaFiles([{ path: 'data.jsonl', bytes: enc(lines.join('\n')) }]);
    expect(dataset.records.map((r) => r.id)).toEqual(['a', 'd']);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatchObject({ file: 'data.jsonl', line: 3 });
    expect(problems[0]?.reason).toMatch(/^not valid JSON at line 3/);
    expect(problems[1]).toEqual({ file: 'data.jsonl', line: 4, record: 1, reason: 'missing conversations' });
  });

  it('names a missing image with the record and its path, and skips only that record', () => {
    const { dataset, problems } = readLlavaFiles([
      { path: 'd/data.json', bytes: json([record('a', 'images/a.png'), record('b', ['images/a.png', 'images/gone.png'])]) },
      { path: 'd/images/a.png', bytes: png },
    ]);
    expect(dataset.records.map((r) => r.id)).toEqual(['a']);
    expect(problems).toEqual([{ file: 'd/data.json', line: 3, record: 1, reason: 'image "images/gone.png" was not found' }]);
  });

  it('refuses an SVG, a GIF and a file that is no image, by their bytes whatever their names', () => {
    const { dataset, problems } = readLlavaFiles([
      { path: 'data.json', bytes: json([record('svg', 'x.png'), record('gif', 'y.png'), record('text', 'z.jpg'), record('png', 'p.png'), record('svg-again', 'x.png')]) },
      { path: 'x.png', bytes: svg },
      { path: 'y.png', bytes: gif },
      { path: 'z.jpg', bytes: enc('hello') },
      { path: 'p.png', bytes: png },
    ]);
    expect(dataset.records.map((r) => r.id)).toEqual(['png']);
    expect(dataset.images.map((i) => i.path)).toEqual(['p.png']);
    expect(problems).toEqual([
      { file: 'x.png', reason: 'an SVG drawing, which can carry script (export it as PNG)' },
      { file: 'data.json', line: 2, record: 0, reason: 'image "x.png" is an SVG drawing, which can carry script (export it as PNG)' },
      { file: 'y.png', reason: 'a GIF image (convert it to PNG, JPEG or WebP)' },
      { file: 'data.json', line: 3, record: 1, reason: 'image "y.png" is a GIF image (convert it to PNG, JPEG or WebP)' },
      { file: 'z.jpg', reason: 'not a PNG, JPEG or WebP image' },
      { file: 'data.json', line: 4, record: 2, reason: 'image "z.jpg" is not a PNG, JPEG or WebP image' },
      { file: 'data.json', line: 6, record: 4, reason: 'image "x.png" is an SVG drawing, which can carry script (export it as PNG)' },
    ]);
  });

  it('reads a zip (its JSON in a folder), and llavaZip writes one it reads back unchanged', () => {
    const records = [record('a', 'images/a.png'), record('b', 'images/b.jpg')];
    const zipped = zipSync({ 'set/data.json': json(records), 'set/images/a.png': png, 'set/images/b.jpg': jpeg, '__MACOSX/set/._data.json': enc('junk') });
    const first = readLlavaFiles([{ path: 'my set.zip', bytes: zipped }]);
    expect(first.problems).toEqual([]);
    expect(first.dataset.name).toBe('my set');
    expect(first.dataset.records).toEqual(records);

    const again = readLlavaFiles([{ path: 'download.zip', bytes: llavaZip(first.dataset) }]);
    expect(again.problems).toEqual([]);
    expect(again.dataset.records).toEqual(records);
    expect(again.dataset.images).toEqual(first.dataset.images);
    expect(serialiseLlava(again.dataset.records)).toBe(serialiseLlava(first.dataset.records));
  });

  it('names an unreadable zip and a drop with no JSON file', () => {
    const broken: LlavaInputFile = { path: 'data.zip', bytes: Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]) };
    const r = readLlavaFiles([broken]);
    expect(r.dataset.records).toEqual([]);
    expect(r.problems[0]?.file).toBe('data.zip');
    expect(r.problems[0]?.reason).toMatch(/^not a readable zip/);
    expect(readLlavaFiles([{ path: 'a.png', bytes: png }]).problems).toEqual([{ file: 'a.png', reason: 'no LLaVA JSON file (.json or .jsonl) among the files' }]);
    expect(readLlavaFiles([{ path: 'meta.json', bytes: enc('{"a": 1}') }]).problems).toEqual([
      { file: 'meta.json', reason: 'the top level must be an array of records (or one record per line)' },
    ]);
  });
});
