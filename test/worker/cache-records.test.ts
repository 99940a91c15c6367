/**
 * The weight cache's records on IndexedDB (fake-indexeddb): a write refused
 * for lack of room in the middle of a download, a damaged manifest record, and
 * records of an older or unknown format version. None of them may surface as
 * 'internal', and nothing half-written or damaged is ever listed.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { CACHE_FORMAT } from '../../src/worker/cache/chunk-store';
import { idbKv, type KvStore } from '../../src/worker/cache/kv';
import { asCacheError, ModelLibrary } from '../../src/worker/cache/model-library';
import { cachedModelFiles, WeightCache } from '../../src/worker/cache/weight-cache';
import { VlmError } from '../../src/worker/errors';
import { useHubServer } from '../helpers/hub-fixture';
import { MODEL_DIR } from '../models/golden';

const MiB = 1024 * 1024;
const WEIGHTS = 'model.safetensors';
const hub = useHubServer(MODEL_DIR);
let dbs = 0;

/** A fresh IndexedDB database per test; `refuseChunksAfter` chunks stored, the next chunk write fails as a full disk does. */
function store(refuseChunksAfter = Infinity): KvStore {
  const kv = idbKv(`weights-${++dbs}`, 'files');
  let chunks = 0;
  return {
    ...kv,
    set: async (key, value) => {
      if (key.startsWith('c:') && ++chunks > refuseChunksAfter) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return kv.set(key, value);
    },
  };
}

const makeCache = (kv: KvStore) => new WeightCache({ kv, storage: undefined, chunkSize: MiB, retryDelayMs: 0, progressIntervalMs: 0, maxAttempts: 1 });
const library = (cache: WeightCache) => new ModelLibrary(cache, async () => new Set(), '/models/');
const keysOf = async (kv: KvStore, file: string) => (await kv.keys()).filter((k) => k.slice(2).startsWith(file));

describe('a full disk in the middle of a download', () => {
  it("is 'storage-quota' naming what to delete, and leaves nothing of the file behind", async () => {
    // The other model and the five small files take one chunk each; the third chunk of the weights is refused.
    const kv = store(8);
    const cache = makeCache(kv);
    await cache.ensure({ model: 'other/model', baseUrl: hub().baseUrl, files: [{ name: 'config.json' }] });
    const err = asCacheError(await library(cache).filesFor(hub().repo, 'native', hub().url).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(VlmError);
    const v = err as VlmError;
    console.log(`quota mid-write: ${v.message}`);
    expect(v.code).toBe('storage-quota');
    expect(v.message).toContain(`${hub().repo}/${WEIGHTS}`);
    expect(v.message).toMatch(/QuotaExceededError/);
    expect(v.message).toMatch(/delete cached models to make room \(other\/model: [\d.]+ (B|KB)\)/);
    expect(await keysOf(kv, `${hub().repo}/${WEIGHTS}`)).toEqual([]);
    const listed = (await cache.list()).find((m) => m.id === hub().repo);
    expect(listed?.partialBytes ?? 0).toBe(0);
    expect((await library(cache).listModels()).map((m) => m.id)).not.toContain(hub().repo);
  });
});

describe('damaged records', () => {
  it('a damaged manifest is dropped with its chunks, never listed, and the file is fetched again on the next read', async () => {
    const kv = store();
    const cache = makeCache(kv);
    await cache.ensure({ model: hub().repo, baseUrl: hub().baseUrl, files: [{ name: 'config.json' }, { name: WEIGHTS }] });
    const key = `m:${hub().repo}/${WEIGHTS}`;
    const good = (await kv.get(key)) as Record<string, unknown>;
    // A record that lost its identity (as the review found: an id-less entry in Cached models) and one with garbage chunks.
    await kv.set(key, { ...good, model: undefined, name: undefined });
    await kv.set(`m:${hub().repo}/tokenizer.json`, 'not a record');
    const listed = await cache.list();
    expect(listed).toEqual([expect.objectContaining({ id: hub().repo, files: 1 })]);
    expect(listed.every((m) => typeof m.id === 'string' && m.id.length > 0)).toBe(true);
    expect(await keysOf(kv, `${hub().repo}/${WEIGHTS}`)).toEqual([]);
    expect(await kv.get(`m:${hub().repo}/tokenizer.json`)).toBeUndefined();
    hub().log.length = 0;
    const bytes = await cachedModelFiles(hub().repo, hub().baseUrl, cache).bytes(WEIGHTS);
    expect(bytes.byteLength).toBe(good.size);
    expect(hub().gets(WEIGHTS)).toHaveLength(1);
    await kv.set(key, { ...good, chunks: [{ sha256: 42 }] });
    expect((await library(cache).listModels()).find((m) => m.id === hub().repo)).toBeUndefined();
  });
});

describe('format versions', () => {
  it('a record written before versioning is migrated in place; one of an unknown version is discarded cleanly', async () => {
    const kv = store();
    const cache = makeCache(kv);
    await cache.ensure({ model: hub().repo, baseUrl: hub().baseUrl, files: [{ name: 'config.json' }, { name: WEIGHTS }] });
    const configKey = `m:${hub().repo}/config.json`;
    const weightsKey = `m:${hub().repo}/${WEIGHTS}`;
    expect(((await kv.get(configKey)) as { format: number }).format).toBe(CACHE_FORMAT);
    const unversioned = { ...((await kv.get(configKey)) as Record<string, unknown>) };
    delete unversioned.format;
    await kv.set(configKey, unversioned);
    await kv.set(weightsKey, { ...((await kv.get(weightsKey)) as object), format: CACHE_FORMAT + 1 });
    hub().log.length = 0;
    const files = cachedModelFiles(hub().repo, hub().baseUrl, cache);
    await files.bytes('config.json');
    expect(hub().log).toEqual([]);
    expect(((await kv.get(configKey)) as { format: number }).format).toBe(CACHE_FORMAT);
    expect(await cache.list()).toEqual([expect.objectContaining({ id: hub().repo, files: 1, partialBytes: 0 })]);
    expect(await keysOf(kv, `${hub().repo}/${WEIGHTS}`)).toEqual([]);
    await files.bytes(WEIGHTS);
    expect(hub().gets(WEIGHTS)).toHaveLength(1);
    expect(((await kv.get(weightsKey)) as { format: number }).format).toBe(CACHE_FORMAT);
  });
});
