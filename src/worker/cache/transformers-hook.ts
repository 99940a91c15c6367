/**
 * @huggingface/transformers keeps its own downloads in the Cache API unless
 * told otherwise. Pointing its env.customCache at the weight cache makes a file
 * fetched by either side (our engines through cachedModelFiles, or
 * transformers.js for a tokenizer or ONNX session) the same stored file, so
 * nothing is downloaded twice and the chunk checks cover both.
 *
 * transformers.js asks the cache by URL: first the local path
 * (/models/<id>/<file>, which we do not claim), then the remote URL
 * <host>/<id>/resolve/<revision>/<file>, which maps to the same key as
 * cachedModelFiles(<id>, <host>/<id>/resolve/main/).
 */
import type { FileKey } from './chunk-store';
import type { ProgressFn } from './progress';
import type { WeightCache } from './weight-cache';

/** transformers.js' progress callback for put(). */
export type PutProgress = (data: { progress: number; loaded: number; total: number }) => void;

/** The subset of the Web Cache API that transformers.js' env.customCache must implement. */
export interface CustomCache {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response, progress?: PutProgress): Promise<void>;
  delete(request: string): Promise<boolean>;
}

/** The env fields the hook sets (structural, so this module does not load transformers.js). */
export interface TransformersCacheEnv {
  useCustomCache: boolean;
  customCache: CustomCache | object | null;
  useBrowserCache: boolean;
}

/**
 * "https://huggingface.co/org/name/resolve/main/onnx/x.onnx" -> { model: "org/name", name: "onnx/x.onnx" }.
 * A revision other than main becomes part of the model id ("org/name@v2"), so versions never mix.
 */
export function hubFileKey(request: string): FileKey | null {
  let path: string;
  try {
    path = new URL(request).pathname;
  } catch {
    return null;
  }
  const m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
  if (!m) return null;
  const [, model, revision, name] = m as unknown as [string, string, string, string];
  const rev = decodeURIComponent(revision);
  return { model: rev === 'main' ? decodeURIComponent(model) : `${decodeURIComponent(model)}@${rev}`, name: decodeURIComponent(name) };
}

export function transformersCache(cache: WeightCache): CustomCache {
  return {
    async match(request) {
      const key = hubFileKey(request);
      if (!key) return undefined;
      const m = await cache.store.manifest(key);
      if (!m) return undefined;
      const bytes = await cache.read(key, request);
      const headers: Record<string, string> = { 'content-length': String(bytes.byteLength) };
      if (m.etag) headers.etag = m.etag;
      return new Response(bytes, { status: 200, headers });
    },
    async put(request, response, progress) {
      const key = hubFileKey(request);
      // Only hub files are ours to keep; other keys (local paths, blobs) stay uncached.
      if (!key) return;
      const onProgress: ProgressFn | undefined = progress
        ? (p) => progress({ progress: p.total > 0 ? (100 * p.loaded) / p.total : 0, loaded: p.loaded, total: p.total })
        : undefined;
      await cache.put(key, request, response, onProgress);
    },
    async delete(request) {
      const key = hubFileKey(request);
      const m = key ? await cache.store.manifest(key) : null;
      if (!key || !m) return false;
      await cache.store.deleteFile(key, m.chunks.length);
      return true;
    },
  };
}

/** Makes transformers.js read and write model files through `hook` instead of the Cache API. */
export function installTransformersCache(env: TransformersCacheEnv, hook: CustomCache): void {
  env.customCache = hook;
  env.useCustomCache = true;
  // Otherwise a file could also land in the Cache API: the same bytes stored twice.
  env.useBrowserCache = false;
}
