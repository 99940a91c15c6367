/**
 * onnxruntime-web for the app's worker and pages, configured once: its wasm
 * files are served with the app (src/runtime-assets.ts), and threads are used
 * only when the page is cross-origin isolated (the app is).
 */
import * as ort from 'onnxruntime-web/webgpu';
import { ORT_WASM_BASE } from '../../runtime-assets';

let configured = false;

export function browserOrt(): typeof ort {
  if (!configured) {
    ort.env.wasm.wasmPaths = new URL(ORT_WASM_BASE, location.href).href;
    ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1)) : 1;
    ort.env.logLevel = 'error';
    configured = true;
  }
  return ort;
}
