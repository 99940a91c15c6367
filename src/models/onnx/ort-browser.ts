/**
 * onnxruntime-web for the app's worker and pages, configured once: its wasm
 * files are served from the package's own dist folder, and threads are used
 * only when the page is cross-origin isolated (the app is).
 */
import * as ort from 'onnxruntime-web/webgpu';

let configured = false;

export function browserOrt(): typeof ort {
  if (!configured) {
    ort.env.wasm.wasmPaths = new URL('/node_modules/onnxruntime-web/dist/', location.href).href;
    ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 1)) : 1;
    ort.env.logLevel = 'error';
    configured = true;
  }
  return ort;
}
