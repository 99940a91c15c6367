/**
 * A hub model for the transformers engine, fetched into the weight cache
 * before transformers.js reads it (it then finds every file through the cache
 * hook and asks the network for none). The config comes first, so a family we
 * do not run is refused before any weight; the session files for the chosen
 * dtype are checked against the hub's listing, then everything is downloaded
 * with our progress, quota check, resume and integrity checks.
 */
import { familyOf, MissingDtypeFileError, sessionFiles, TJS_DTYPES, UnsupportedModelError, checkDtypeFiles, type TjsDtype } from '../../models/transformers/families';
import type { ModelSource } from '../../models/transformers/model-source';
import { DEFAULT_HUB, dtypeChoices, hubBaseUrl, TJS_CONFIGS, zooEntry, type ZooFile } from '../../models/zoo';
import { VlmError } from '../errors';
import { fetchHubRevision, withHubListing } from './hub-api';
import { asCacheError } from './model-library';
import type { ProgressFn } from './progress';
import { fileUrl, type ModelPlan, type WeightCache } from './weight-cache';

export interface TransformersFiles {
  source: ModelSource;
  dtype: TjsDtype;
  /** The repo's file names (the hub's listing, else those fetched), for the engine's own dtype check. */
  files: string[];
}

export interface TransformersFilesRequest {
  dtype?: TjsDtype;
  hubUrl?: string;
  /** Adapter features: fp16 kinds need shader-f16. */
  features: ReadonlySet<string>;
}

/** The dtypes offered for `id` on this adapter: the zoo entry's, or every dtype for a repo loaded by id. */
export function offeredDtypes(id: string, features: ReadonlySet<string>): TjsDtype[] {
  const choice = zooEntry(id)?.engines.find((e) => e.engine === 'transformers.js');
  if (choice) return dtypeChoices(choice, features).map((d) => d.dtype as TjsDtype);
  return TJS_DTYPES.filter((d) => !d.includes('16') || features.has('shader-f16'));
}

function chooseDtype(id: string, request: TransformersFilesRequest): TjsDtype {
  const entry = zooEntry(id);
  if (entry && !entry.engines.some((e) => e.engine === 'transformers.js')) {
    throw new VlmError('unsupported-model', `${entry.label} is not run by the transformers engine; it runs on ${entry.engines.map((e) => e.engine).join(', ')}.`);
  }
  const offered = offeredDtypes(id, request.features);
  const dtype = request.dtype ?? offered[0];
  if (!dtype || !offered.includes(dtype)) {
    const f16 = request.dtype?.includes('16') && !request.features.has('shader-f16') ? ' (fp16 kinds need a GPU with shader-f16)' : '';
    throw new VlmError('bad-input', `${id} cannot load as ${request.dtype ?? 'any dtype'} here${f16}; choose ${offered.join(', ') || 'another model'}.`);
  }
  return dtype;
}

function asTransformersError(err: unknown): unknown {
  if (err instanceof UnsupportedModelError) return new VlmError('unsupported-model', `${err.message}.`);
  if (err instanceof MissingDtypeFileError) return new VlmError('model-file', `${err.message}.`);
  if (err instanceof SyntaxError) return new VlmError('model-file', `config.json is not JSON: ${err.message}`);
  return asCacheError(err);
}

/** Fetches what transformers.js will read for `id` in the chosen dtype; refuses an unknown family before any weight. */
export async function prepareTransformersFiles(cache: WeightCache, id: string, request: TransformersFilesRequest, onProgress?: ProgressFn): Promise<TransformersFiles> {
  if (!id.includes('/')) throw new VlmError('unsupported-model', `${id} is not a hub repository (org/name): the transformers engine runs hub models.`);
  const dtype = chooseDtype(id, request);
  const hub = request.hubUrl ?? DEFAULT_HUB;
  const baseUrl = hubBaseUrl(id, hub);
  const listing = await fetchHubRevision(cache.fetchFn, hub, id);
  const planOf = (files: readonly ZooFile[]): ModelPlan => {
    const plan = { model: id, baseUrl, files: [...files] };
    return listing ? withHubListing(plan, listing) : plan;
  };
  try {
    const configs = planOf(TJS_CONFIGS);
    await cache.revalidate(configs);
    await cache.ensure(configs, onProgress);
    const config = JSON.parse(new TextDecoder().decode(await cache.read({ model: id, name: 'config.json' }, fileUrl(baseUrl, 'config.json')))) as { model_type?: unknown };
    const family = familyOf(config.model_type);
    if (listing) checkDtypeFiles(family, dtype, listing.files.keys());
    const full = planOf([...TJS_CONFIGS, ...sessionFiles(family, dtype).map((name) => ({ name }))]);
    await cache.revalidate(full);
    await cache.ensure(full, onProgress);
    return { source: { kind: 'remote', host: hub }, dtype, files: listing ? [...listing.files.keys()] : full.files.map((f) => f.name) };
  } catch (err) {
    throw asTransformersError(err);
  }
}
