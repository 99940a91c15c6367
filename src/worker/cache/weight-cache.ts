/**
 * The weight cache: model files downloaded once into the chunk store (IndexedDB
 * in the app) and served from it afterwards, checked on every read. A model is
 * downloaded as a plan (its file list) so the storage quota is checked for the
 * whole model before the first byte.
 */
import { ModelFileError, type ModelFiles } from '../../models/model-files';
import { ChunkStore, DEFAULT_CHUNK_SIZE, fileId, StaleFileError, type FileKey, type FileManifest } from './chunk-store';
import { downloadFile, probeFile, rangeFetcher, sameEtag, storeResponse, type DownloadContext, type DownloadTarget } from './download';
import { defaultKv, type KvStore } from './kv';
import { ProgressReporter, realClock, type Clock, type ProgressFn } from './progress';
import { checkQuota, defaultStorage, formatBytes, PersistenceRequest, StorageFullError, StorageQuotaError, type StorageLike } from './quota';

/** The OCR models' entry in the cache: listed and deleted with the models, never offered by the picker. */
export const OCR_MODELS_ID = 'OCR models (PP-OCRv4)';

export interface PlanFile {
  name: string;
  /** Known size in bytes; otherwise a HEAD request asks the server before the quota check. */
  size?: number;
  /** A 404 skips the file instead of failing the download (e.g. generation_config.json). */
  optional?: boolean;
  /** The whole file's sha256 as the hub lists it (LFS files): checked before the file is listed. */
  sha256?: string;
  /** An optional file the hub's listing lacks: recorded absent without a request. */
  absent?: boolean;
}

export interface ModelPlan {
  model: string;
  /** Folder URL the file names resolve against, e.g. https://huggingface.co/<id>/resolve/main/ */
  baseUrl: string;
  files: PlanFile[];
  /** The commit the files are fetched at (the hub's), or the version of files served with the app. */
  revision?: string;
}

export interface CachedModel {
  id: string;
  /** Complete files. */
  files: number;
  bytes: number;
  /** Bytes of unfinished downloads, kept for resuming. */
  partialBytes: number;
  /** The hub commit (or the app-served files' version) every complete file was fetched at, when they agree and it is known. */
  revision?: string;
}

export interface WeightCacheOptions {
  kv?: KvStore;
  fetchFn?: typeof fetch;
  /** navigator.storage by default; tests inject a fake estimate(). */
  storage?: StorageLike;
  chunkSize?: number;
  maxAttempts?: number;
  retryDelayMs?: number;
  clock?: Clock;
  progressIntervalMs?: number;
}

interface ResolvedFile extends PlanFile {
  url: string;
}

interface ToFetch extends Omit<ResolvedFile, 'size'> {
  size: number | null;
}

const isMissing = (err: unknown) => err instanceof ModelFileError && err.problem === 'missing';

/** Resolves a file name against a folder URL; relative folders resolve against the page (or worker) location. */
export function fileUrl(baseUrl: string, name: string): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const origin = (globalThis as { location?: { href: string } }).location?.href ?? 'http://localhost/';
  return new URL(name, new URL(base, origin)).href;
}

export class WeightCache {
  readonly store: ChunkStore;
  readonly fetchFn: typeof fetch;
  readonly storage: StorageLike | undefined;
  private readonly persistence: PersistenceRequest;
  private readonly chunkSize: number;
  private readonly inflight = new Map<string, Promise<FileManifest>>();

  constructor(private readonly options: WeightCacheOptions = {}) {
    this.store = new ChunkStore(options.kv ?? defaultKv());
    // A bound wrapper: browsers throw "Illegal invocation" for fetch called as a method of another object.
    this.fetchFn = options.fetchFn ?? ((...a) => fetch(...a));
    this.storage = 'storage' in options ? options.storage : defaultStorage();
    this.persistence = new PersistenceRequest(this.storage);
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  }

  private context(progress: ProgressReporter, signal?: AbortSignal): DownloadContext {
    return {
      store: this.store,
      fetchFn: this.fetchFn,
      chunkSize: this.chunkSize,
      progress,
      maxAttempts: this.options.maxAttempts ?? 4,
      retryDelayMs: this.options.retryDelayMs ?? 500,
      ...(signal ? { signal } : {}),
    };
  }

  private reporter(model: string, total: number, onProgress?: ProgressFn): ProgressReporter {
    return new ProgressReporter(model, total, onProgress, this.options.clock ?? realClock, this.options.progressIntervalMs ?? 100);
  }

  /**
   * Sizes of the files still to fetch (HEAD where the plan does not know),
   * dropping optional ones the server lacks: recorded once, not asked again
   * (at the same revision, or when the revision is unknown).
   */
  private async missing(model: string, files: ResolvedFile[], revision?: string): Promise<ToFetch[]> {
    const out: ToFetch[] = [];
    for (const f of files) {
      const key = { model, name: f.name };
      if (await this.store.manifest(key)) continue;
      if (f.optional && f.absent) {
        await this.store.markAbsent(key, revision);
        continue;
      }
      if (f.optional && (await this.store.isAbsent(key, revision))) continue;
      if (f.size !== undefined) {
        out.push({ ...f, size: f.size });
        continue;
      }
      try {
        out.push({ ...f, size: (await probeFile(this.fetchFn, key, f.url)).size });
      } catch (err) {
        if (!(f.optional && isMissing(err))) throw err;
        await this.store.markAbsent(key, revision);
      }
    }
    return out;
  }

  /**
   * Downloads every file of the plan not cached yet, resuming unfinished ones.
   * Refuses with StorageQuotaError before any download when the rest will not fit.
   */
  ensure(plan: ModelPlan, onProgress?: ProgressFn, signal?: AbortSignal): Promise<void> {
    return this.fetchAll(plan.model, plan.files.map((f) => ({ ...f, url: fileUrl(plan.baseUrl, f.name) })), onProgress, signal, plan.revision);
  }

  private async fetchAll(model: string, files: ResolvedFile[], onProgress?: ProgressFn, signal?: AbortSignal, revision?: string): Promise<void> {
    const pending = await this.missing(model, files, revision);
    if (pending.length === 0) return;
    let needed = 0;
    const stored = new Map<string, number>();
    for (const f of pending) {
      const p = await this.store.partial({ model, name: f.name });
      const have = p ? p.chunks.length * p.chunkSize : 0;
      stored.set(f.name, have);
      needed += Math.max(0, (f.size ?? 0) - have);
    }
    await checkQuota(this.storage, model, needed).catch((err: unknown) => this.roomFor(err, { model, name: '' }));
    await this.persistence.request();
    let cached = 0;
    for (const m of await this.store.manifests()) if (m.model === model) cached += m.size;
    const progress = this.reporter(model, cached + pending.reduce((s, f) => s + (f.size ?? 0), 0), onProgress);
    progress.seed('(cached)', cached);
    for (const [name, have] of stored) progress.seed(name, have);
    for (const f of pending) {
      // Only a size the plan lists is the file's; one a HEAD request gave served the quota check alone.
      const listed = files.find((r) => r.name === f.name)?.size;
      const target: DownloadTarget = { model, name: f.name, url: f.url, ...(listed !== undefined ? { size: listed } : {}), ...(f.sha256 ? { sha256: f.sha256 } : {}), ...(revision ? { revision } : {}) };
      await this.download(target, progress, signal).catch(async (err: unknown) => {
        if (!(f.optional && isMissing(err))) throw err;
        await this.store.markAbsent({ model, name: f.name }, revision);
      });
    }
  }

  /** One download per file at a time, whoever asks. */
  private download(target: DownloadTarget, progress: ProgressReporter, signal?: AbortSignal): Promise<FileManifest> {
    const id = fileId(target);
    let p = this.inflight.get(id);
    if (!p) {
      p = downloadFile(this.context(progress, signal), target)
        .catch((err: unknown) => this.roomFor(err, target))
        .finally(() => this.inflight.delete(id));
      this.inflight.set(id, p);
    }
    return p;
  }

  /**
   * A download refused for lack of room (before its first byte, or by the
   * browser in the middle) leaves no half-written file behind, and the error
   * says which cached models could make room.
   */
  private async roomFor(err: unknown, key: FileKey): Promise<never> {
    if (!(err instanceof StorageFullError || err instanceof StorageQuotaError)) throw err;
    if (err instanceof StorageFullError) await this.store.deleteFile(key).catch(() => undefined);
    const others = (await this.list().catch(() => [])).filter((m) => m.id !== key.model && m.bytes + m.partialBytes > 0);
    others.sort((a, b) => b.bytes + b.partialBytes - (a.bytes + a.partialBytes));
    const advice = others.length
      ? `delete cached models to make room (${others.map((m) => `${m.id}: ${formatBytes(m.bytes + m.partialBytes)}`).join(', ')}) or free disk space`
      : 'no other model is cached: free disk space or clear other data of this site';
    if (err instanceof StorageQuotaError) throw new StorageQuotaError(err.model, err.needed, err.available, err.quota, err.usage, advice);
    throw new StorageFullError(fileId(key), advice);
  }

  /**
   * A file's bytes from the cache, every chunk checked; a damaged chunk is
   * fetched again by range, a file missing from the cache is downloaded (quota
   * checked), and a file that changed upstream is downloaded again whole.
   */
  async read(key: FileKey, url: string, onProgress?: ProgressFn): Promise<ArrayBuffer> {
    if (!(await this.store.manifest(key))) await this.fetchAll(key.model, [{ name: key.name, url }], onProgress);
    const refetch = rangeFetcher(this.fetchFn);
    try {
      return await this.store.read(key, refetch);
    } catch (err) {
      if (!(err instanceof StaleFileError)) throw err;
      await this.store.deleteFile(key);
      await this.download({ ...key, url }, this.reporter(key.model, 0, onProgress));
      return this.store.read(key, refetch);
    }
  }

  /** Stores a response fetched elsewhere (the transformers.js hook), replacing any copy of the file. */
  async put(key: FileKey, url: string, res: Response, onProgress?: ProgressFn): Promise<FileManifest> {
    const size = Number(res.headers.get('content-length') ?? 0);
    await checkQuota(this.storage, key.model, size).catch((err: unknown) => this.roomFor(err, key));
    const old = await this.store.manifest(key);
    if (old) await this.store.deleteFile(key, old.chunks.length);
    return storeResponse(this.context(this.reporter(key.model, size, onProgress)), { ...key, url }, res).catch((err: unknown) => this.roomFor(err, key));
  }

  /**
   * Drops cached files that the server now serves differently, so the next
   * ensure() fetches them again. Files cached at the plan's revision are
   * current with no request. Otherwise a sha256 or size the plan has (the
   * hub's listing) decides, else a HEAD request (ETag, size, Last-Modified);
   * a file found current is recorded at the new revision. An unreachable
   * server keeps the cache as it is (offline use).
   */
  async revalidate(plan: ModelPlan): Promise<string[]> {
    const dropped: string[] = [];
    await Promise.all(
      plan.files.map(async (f) => {
        const key = { model: plan.model, name: f.name };
        const m = await this.store.manifest(key);
        if (!m || (plan.revision !== undefined && m.revision === plan.revision)) return;
        let changed = (f.sha256 !== undefined && m.sha256 !== undefined && f.sha256 !== m.sha256) || (f.size !== undefined && f.size !== m.size);
        if (!changed) {
          const remote = await probeFile(this.fetchFn, key, fileUrl(plan.baseUrl, f.name)).catch(() => null);
          if (!remote) return;
          changed =
            (remote.size !== null && remote.size !== m.size) ||
            !sameEtag(m.etag, remote.etag) ||
            (m.etag === null && m.lastModified !== null && remote.lastModified !== null && m.lastModified !== remote.lastModified);
        }
        if (!changed) {
          if (plan.revision !== undefined) await this.store.updateManifest({ ...m, revision: plan.revision, ...(f.sha256 ? { sha256: f.sha256 } : {}) });
          return;
        }
        await this.store.deleteFile(key, m.chunks.length);
        dropped.push(f.name);
      }),
    );
    return dropped;
  }

  /** Names of the plan's files that are complete in the cache. */
  async cachedNames(model: string): Promise<Set<string>> {
    return new Set((await this.store.manifests()).filter((m) => m.model === model).map((m) => m.name));
  }

  async list(): Promise<CachedModel[]> {
    const byId = new Map<string, CachedModel>();
    const entry = (id: string) => {
      let e = byId.get(id);
      if (!e) byId.set(id, (e = { id, files: 0, bytes: 0, partialBytes: 0 }));
      return e;
    };
    const revisions = new Map<string, Set<string | undefined>>();
    for (const m of await this.store.manifests()) {
      const e = entry(m.model);
      e.files++;
      e.bytes += m.size;
      revisions.set(m.model, (revisions.get(m.model) ?? new Set()).add(m.revision));
    }
    for (const p of await this.store.partials()) entry(p.model).partialBytes += p.chunks.length * p.chunkSize;
    for (const [id, set] of revisions) {
      const [only] = set;
      if (set.size === 1 && only !== undefined) (byId.get(id) as CachedModel).revision = only;
    }
    return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Deletes a model's files (complete and unfinished); returns the bytes freed. */
  delete(model: string): Promise<number> {
    return this.store.deleteModel(model);
  }

  /** Asks the browser to keep the store under storage pressure (once). */
  requestPersistence(): Promise<boolean> {
    return this.persistence.request();
  }
}

/** ModelFiles served from the cache, downloading (and caching) what is missing from `baseUrl`. */
export function cachedModelFiles(id: string, baseUrl: string, cache: WeightCache, onProgress?: ProgressFn): ModelFiles {
  return {
    id,
    bytes: (name) => cache.read({ model: id, name }, fileUrl(baseUrl, name), onProgress),
  };
}
