/**
 * The worker's side of the model zoo: which models there are and what of them
 * is cached, downloads, and the ModelFiles a load reads. Every model's files
 * go through the weight cache: the bundled one from /models/<id>/ (checked
 * with HEAD requests on each load so a re-export is noticed; offline the
 * cached copy is used as it is), hub models from <hub>/<id>/resolve/main/,
 * with the sizes, sha256s and commit the hub's API lists, revalidated on each
 * load when online (one API request while the commit is unchanged).
 */
import type { EngineKind } from '../../models/engine';
import { ModelFileError, urlModelFiles, type ModelFiles } from '../../models/model-files';
import {
  BUNDLED_MODEL,
  DEFAULT_HUB,
  dtypeChoices,
  hubBaseUrl,
  llavaRepoEntry,
  ZOO,
  zooEntry,
  zooFiles,
  type ZooDtype,
  type ZooEngine,
  type ZooEngineChoice,
  type ZooEntry,
} from '../../models/zoo';
import { VlmError } from '../errors';
import { probeFile } from './download';
import { fetchHubRevision, withHubListing } from './hub-api';
import type { ProgressFn } from './progress';
import { StorageFullError, StorageQuotaError } from './quota';
import { cachedModelFiles, fileUrl, OCR_MODELS_ID, type CachedModel, type ModelPlan, type WeightCache } from './weight-cache';

/** A zoo entry as the picker shows it on this device. */
export interface ModelListing extends ZooEntry {
  /** Only the dtypes this adapter can run; the bundled model's sizes measured from its files. */
  engines: ZooEngineChoice[];
  /** Bytes of this model's complete files in the cache. */
  cachedBytes: number;
  /** Engine (and dtype) whose every file is cached: these load without the network. */
  cachedFor: { engine: ZooEngine; dtype?: ZooDtype }[];
}

export interface DownloadRequest {
  /** Default: the first engine that runs the model here, else the first listed. */
  engine?: ZooEngine;
  dtype?: ZooDtype;
  /** Hub root; default https://huggingface.co (tests and mirrors pass another). */
  hubUrl?: string;
}

/** Any id without an org is a folder under /models/ (the bundled model's layout); any org/name a hub repo. */
export function resolveEntry(id: string): ZooEntry {
  const known = zooEntry(id);
  if (known) return known;
  if (id.includes('/')) return llavaRepoEntry(id);
  return { ...(zooEntry(BUNDLED_MODEL) as ZooEntry), id, label: id, isDefault: false, note: 'A model folder served with the app.' };
}

/** Failures of the cache layer as the typed errors the page acts on. */
export function asCacheError(err: unknown): unknown {
  if (err instanceof ModelFileError) return new VlmError('model-file', err.message);
  if (err instanceof StorageQuotaError) return new VlmError('storage-quota', err.message);
  if (err instanceof StorageFullError) return new VlmError('storage-quota', err.message);
  return err;
}

export class ModelLibrary {
  private readonly measured = new Map<string, number>();

  constructor(
    readonly cache: WeightCache,
    private readonly features: () => Promise<ReadonlySet<string>>,
    /** Where model folders are served with the app, e.g. "/models/". */
    private readonly modelsBase: string,
  ) {}

  baseUrl(entry: ZooEntry, hubUrl?: string): string {
    return entry.source === 'bundled' ? `${this.modelsBase}${entry.id}/` : hubBaseUrl(entry.id, hubUrl);
  }

  /** The files to fetch; for a hub model with the sizes, sha256s and commit the hub lists, when it can be asked. */
  private async plan(entry: ZooEntry, engine: ZooEngine, dtype: ZooDtype | undefined, hubUrl?: string): Promise<ModelPlan> {
    const plan = { model: entry.id, baseUrl: this.baseUrl(entry, hubUrl), files: zooFiles(entry, engine, dtype) };
    if (entry.source === 'bundled') return plan;
    const listing = await fetchHubRevision(this.cache.fetchFn, hubUrl ?? DEFAULT_HUB, entry.id);
    return listing ? withHubListing(plan, listing) : plan;
  }

  async listModels(): Promise<ModelListing[]> {
    const features = await this.features().catch(() => new Set<string>());
    const manifests = await this.cache.store.manifests();
    // Models loaded by id (not in the zoo) are listed too once an engine's files are all cached, so the picker
    // can offer them offline; a failed or half-done download of a mistyped id is never offered.
    const extra = [...new Set(manifests.map((m) => m.model))].filter((id) => id !== OCR_MODELS_ID && !zooEntry(id)).map(resolveEntry);
    const listed = await Promise.all(
      [...ZOO, ...extra].map(async (entry) => {
        const mine = manifests.filter((m) => m.model === entry.id);
        const names = new Set(mine.map((m) => m.name));
        const cachedFor: ModelListing['cachedFor'] = [];
        const engines: ZooEngineChoice[] = [];
        for (const choice of entry.engines) {
          const dtypes = [];
          for (const d of dtypeChoices(choice, features)) {
            const files = zooFiles(entry, choice.engine, choice.engine === 'transformers.js' ? d.dtype : undefined);
            if (files.every((f) => f.optional || names.has(f.name))) cachedFor.push(choice.engine === 'transformers.js' ? { engine: choice.engine, dtype: d.dtype } : { engine: choice.engine });
            dtypes.push(d.approxBytes === null ? { ...d, approxBytes: await this.measure(entry, choice.engine) } : d);
          }
          engines.push({ ...choice, dtypes });
        }
        // Native dtypes share one file set: report it once.
        const unique = cachedFor.filter((c, i) => cachedFor.findIndex((o) => o.engine === c.engine && o.dtype === c.dtype) === i);
        return { ...entry, engines, cachedBytes: mine.reduce((s, m) => s + m.size, 0), cachedFor: unique };
      }),
    );
    return listed.filter((m, i) => i < ZOO.length || m.cachedFor.length > 0);
  }

  /** The bundled model's download size, from cached manifests or HEAD requests; null when unknown (offline). */
  private async measure(entry: ZooEntry, engine: ZooEngine): Promise<number | null> {
    const key = `${entry.id} ${engine}`;
    const known = this.measured.get(key);
    if (known !== undefined) return known;
    const base = this.baseUrl(entry);
    let total = 0;
    for (const f of zooFiles(entry, engine)) {
      const m = await this.cache.store.manifest({ model: entry.id, name: f.name });
      // Only the app's own files are asked about: a repo loaded by id came from a hub root this listing does not know.
      const probe = () => probeFile(this.cache.fetchFn, { model: entry.id, name: f.name }, fileUrl(base, f.name)).then((r) => r.size, () => null);
      const size = m?.size ?? (entry.source === 'bundled' ? await probe() : null);
      if (size === null && !f.optional) return null;
      total += size ?? 0;
    }
    this.measured.set(key, total);
    return total;
  }

  cacheList(): Promise<CachedModel[]> {
    return this.cache.list();
  }

  async cacheDelete(id: string): Promise<number> {
    for (const k of this.measured.keys()) if (k.startsWith(`${id} `)) this.measured.delete(k);
    return this.cache.delete(id);
  }

  /** Downloads a model's files for an engine and dtype (any zoo model, also those only transformers.js runs). */
  async download(id: string, request: DownloadRequest = {}, onProgress?: ProgressFn): Promise<CachedModel> {
    const entry = resolveEntry(id);
    const engine = request.engine ?? (entry.engines.find((e) => e.runsHere) ?? entry.engines[0])?.engine ?? 'native';
    const choice = entry.engines.find((e) => e.engine === engine);
    if (!choice) throw new VlmError('unsupported-model', `${entry.label} has no files for the ${engine} engine; it offers ${entry.engines.map((e) => e.engine).join(', ')}.`);
    const dtype = engine === 'transformers.js' ? (request.dtype ?? choice.dtypes[0]?.dtype) : undefined;
    try {
      await this.cache.ensure(await this.plan(entry, engine, dtype, request.hubUrl), onProgress);
    } catch (err) {
      throw asCacheError(err);
    }
    const listed = (await this.cache.list()).find((m) => m.id === id);
    return listed ?? { id, files: 0, bytes: 0, partialBytes: 0 };
  }

  /**
   * The files a load reads, downloaded first when missing (quota checked for
   * the whole model). Refuses a model our engines cannot run before any byte.
   */
  async filesFor(id: string, engine: Exclude<EngineKind, 'transformers'>, hubUrl?: string, onProgress?: ProgressFn): Promise<ModelFiles> {
    const entry = resolveEntry(id);
    if (!entry.engines.some((e) => e.engine === engine && e.runsHere)) {
      const runs = entry.engines.filter((e) => e.runsHere || e.engine === 'transformers.js').map((e) => e.engine);
      throw new VlmError(
        'unsupported-model',
        `${entry.label} (${entry.modelType}) cannot run on the ${engine} engine: our engines run llava-family models (the native one SmolVLM too); it is made for ${runs.join(', ')}.`,
      );
    }
    const plan = await this.plan(entry, engine, undefined, hubUrl);
    try {
      // A cached file the server now serves differently is fetched again; offline, the cache is used as it is.
      await this.cache.revalidate(plan);
      await this.cache.ensure(plan, onProgress);
    } catch (err) {
      // The app's own model must load even where the cache cannot hold it (private mode, a full disk).
      if (entry.source === 'bundled' && !(err instanceof ModelFileError)) return urlModelFiles(id, plan.baseUrl);
      throw asCacheError(err);
    }
    return cachedModelFiles(id, plan.baseUrl, this.cache, onProgress);
  }
}
