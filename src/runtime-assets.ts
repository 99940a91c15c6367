/**
 * Where the files that libraries fetch at run time (not through imports) are
 * served: ORT's wasm, the OCR models, pdf.js's fonts, CMaps and wasm. The dev
 * server maps these from node_modules and the build copies them to the same
 * paths (scripts/vite-runtime-assets.ts), so one URL works in both.
 */
export const ORT_WASM_BASE = '/vendor/onnxruntime-web/';
export const OCR_MODELS_BASE = '/vendor/ocr-models/';
export const PDFJS_ASSETS_BASE = '/vendor/pdfjs-dist/';
