/**
 * The weight cache against a hub-like server on 127.0.0.1 serving the bundled
 * model: full download with progress, resume after a broken transfer, repair
 * of a damaged chunk, 404s, the quota check, and byte-identical loading.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/models/model-files';
import { SafetensorsFile } from '../../src/models/safetensors';
import { ZOO, zooFiles } from '../../src/models/zoo';
import { memoryKv, type KvStore } from '../../src/worker/cache/kv';
import type { DownloadProgress } from '../../src/worker/cache/progress';
import { StorageQuotaError, type StorageLike } from '../../src/worker/cache/quota';
import { cachedModelFiles, WeightCache, type ModelPlan, type WeightCacheOptions } from '../../src/worker/cache/weight-cache';
import { MODEL_DIR } from '../models/golden';
import { useHubServer } from '../helpers/hub-fixture';

const MiB = 1024 * 1024;
const WEIGHTS = 'model.safetensors';
const weightsSize = statSync(join(MODEL_DIR, WEIGHTS)).size;

/** Buffer.equals, not toEqual: vitest's element-by-element diff of megabytes takes minutes. */
function expectSameBytes(got: ArrayBuffer, name: string): void {
  const want = readFileSync(join(MODEL_DIR, name));
  expect(got.byteLength, name).toBe(want.length);
  expect(Buffer.from(got).equals(want), `${name} differs from the file on disk`).toBe(true);
}

const hub = useHubServer(MODEL_DIR);

function makeCache(options: WeightCacheOptions = {}, kv: KvStore = memoryKv()) {
  // 1 MiB chunks give the 6 MB weights file several chunks; no storage (Node has none) unless a test fakes one.
  return new WeightCache({ kv, storage: undefined, chunkSize: MiB, retryDelayMs: 0, progressIntervalMs: 0, ...options });
}

const plan = (...names: string[]): ModelPlan => ({ model: hub().repo, baseUrl: hub().baseUrl, files: names.map((name) => ({ name })) });

describe('download', () => {
  it('downloads a model with progress: bytes, rate and time left', async () => {
    const cache = makeCache();
    const events: DownloadProgress[] = [];
    await cache.ensure(plan('config.json', WEIGHTS), (p) => events.push(p));
    const total = weightsSize + statSync(join(MODEL_DIR, 'config.json')).size;
    const last = events[events.length - 1] as DownloadProgress;
    expect(last.modelLoaded).toBe(total);
    expect(last.modelTotal).toBe(total);
    expect(last.secondsLeft).toBe(0);
    const weights = events.filter((e) => e.file === WEIGHTS);
    expect(weights.length).toBeGreaterThan(3);
    for (let i = 1; i < weights.length; i++) expect((weights[i] as DownloadProgress).loaded).toBeGreaterThanOrEqual((weights[i - 1] as DownloadProgress).loaded);
    expect(weights.every((e) => e.total === weightsSize)).toBe(true);
    const mid = weights.filter((e) => !e.fileDone && e.bytesPerSecond > 0);
    expect(mid.length).toBeGreaterThan(0);
    expect(mid.every((e) => e.secondsLeft !== null && e.secondsLeft >= 0 && Number.isFinite(e.secondsLeft))).toBe(true);
    const sample = mid[Math.floor(mid.length / 2)] as DownloadProgress;
    console.log(`progress: ${events.length} events; mid-download ${sample.loaded}/${sample.total} B at ${(sample.bytesPerSecond / MiB).toFixed(1)} MiB/s, ${sample.secondsLeft?.toFixed(3)} s left`);
    expect(hub().gets().map((r) => r.range)).toEqual([null, null]);
    const m = await cache.store.manifest({ model: hub().repo, name: WEIGHTS });
    expect(m?.chunks).toHaveLength(Math.ceil(weightsSize / MiB));
    expect(m?.etag).toMatch(/^"[0-9a-f]{64}"$/);
  });

  it('resumes an interrupted transfer from the last complete chunk, not from zero', async () => {
    const cache = makeCache();
    hub().cutNext(WEIGHTS, 2.5 * MiB);
    await cache.ensure(plan(WEIGHTS));
    const ranges = hub().gets(WEIGHTS).map((r) => r.range);
    console.log(`resume: requests for ${WEIGHTS}: ${JSON.stringify(ranges)}`);
    expect(ranges).toEqual([null, `bytes=${2 * MiB}-`]);
    expectSameBytes(await cachedModelFiles(hub().repo, hub().baseUrl, cache).bytes(WEIGHTS), WEIGHTS);
  });

  it('resumes in a later session (a new cache on the same store) from the stored chunks', async () => {
    const kv = memoryKv();
    hub().cutNext(WEIGHTS, 3.3 * MiB);
    const err = await makeCache({ maxAttempts: 1 }, kv).ensure(plan(WEIGHTS)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).problem).toBe('unreachable');
    expect((err as Error).message).toContain(`${3 * MiB} bytes are kept`);
    const events: DownloadProgress[] = [];
    await makeCache({}, kv).ensure(plan(WEIGHTS), (p) => events.push(p));
    expect(hub().gets(WEIGHTS).map((r) => r.range)).toEqual([null, `bytes=${3 * MiB}-`]);
    // The bar starts where the stored chunks end.
    expect((events[0] as DownloadProgress).modelLoaded).toBeGreaterThan(3 * MiB);
    expectSameBytes(await cachedModelFiles(hub().repo, hub().baseUrl, makeCache({}, kv)).bytes(WEIGHTS), WEIGHTS);
  });

  it('restarts a file whose ETag changed between the break and the resume', async () => {
    const kv = memoryKv();
    hub().cutNext(WEIGHTS, 2.2 * MiB);
    await makeCache({ maxAttempts: 1 }, kv).ensure(plan(WEIGHTS)).catch(() => undefined);
    hub().etagOverride.set(WEIGHTS, '"v2"');
    const cache = makeCache({}, kv);
    await cache.ensure(plan(WEIGHTS));
    expect(hub().gets(WEIGHTS).map((r) => r.range)).toEqual([null, `bytes=${2 * MiB}-`, null]);
    expect((await cache.store.manifest({ model: hub().repo, name: WEIGHTS }))?.etag).toBe('"v2"');
    expectSameBytes(await cachedModelFiles(hub().repo, hub().baseUrl, cache).bytes(WEIGHTS), WEIGHTS);
  });

  it('fetches a file again when a byte was damaged in transit (checked against the sha256 ETag)', async () => {
    const cache = makeCache();
    hub().corruptNext(WEIGHTS, 1234567);
    await cache.ensure(plan(WEIGHTS));
    expect(hub().gets(WEIGHTS)).toHaveLength(2);
    expectSameBytes(await cachedModelFiles(hub().repo, hub().baseUrl, cache).bytes(WEIGHTS), WEIGHTS);
    hub().corrupt.set('config.json', 10);
    const err = await cache.ensure(plan('config.json')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).problem).toBe('malformed');
    expect((err as Error).message).toMatch(/sha256/);
  });
});

describe('integrity on read', () => {
  it('detects a corrupt cached chunk and re-fetches that chunk only, with a Range request', async () => {
    const kv = memoryKv();
    const cache = makeCache({}, kv);
    await cache.ensure(plan(WEIGHTS));
    hub().log.length = 0;
    const key = `c:${hub().repo}/${WEIGHTS}#3`;
    const chunk = new Uint8Array(kv.map.get(key) as ArrayBuffer);
    chunk[100] = (chunk[100] as number) ^ 1;
    const files = cachedModelFiles(hub().repo, hub().baseUrl, cache);
    expectSameBytes(await files.bytes(WEIGHTS), WEIGHTS);
    expect(hub().log.map((r) => `${r.method} ${r.file} ${r.range}`)).toEqual([`GET ${WEIGHTS} bytes=${3 * MiB}-${4 * MiB - 1}`]);
    console.log(`repair: ${JSON.stringify(hub().log)}`);
    // Repaired in place: the next read needs no request.
    await files.bytes(WEIGHTS);
    expect(hub().log).toHaveLength(1);
  });

  it('re-fetches a missing chunk (the short last one) and keeps the others', async () => {
    const kv = memoryKv();
    const cache = makeCache({}, kv);
    await cache.ensure(plan(WEIGHTS));
    hub().log.length = 0;
    const last = Math.ceil(weightsSize / MiB) - 1;
    kv.map.delete(`c:${hub().repo}/${WEIGHTS}#${last}`);
    expectSameBytes(await cachedModelFiles(hub().repo, hub().baseUrl, cache).bytes(WEIGHTS), WEIGHTS);
    expect(hub().gets().map((r) => r.range)).toEqual([`bytes=${last * MiB}-${weightsSize - 1}`]);
  });

  it('downloads the whole file again when the server now has another version', async () => {
    const kv = memoryKv();
    const cache = makeCache({}, kv);
    await cache.ensure(plan(WEIGHTS));
    hub().etagOverride.set(WEIGHTS, '"v3"');
    hub().log.length = 0;
    const chunk = new Uint8Array(kv.map.get(`c:${hub().repo}/${WEIGHTS}#1`) as ArrayBuffer);
    chunk[0] = (chunk[0] as number) ^ 1;
    expectSameBytes(await cachedModelFiles(hub().repo, hub().baseUrl, cache).bytes(WEIGHTS), WEIGHTS);
    expect(hub().gets().map((r) => r.range)).toEqual([`bytes=${MiB}-${2 * MiB - 1}`, null]);
  });
});

describe('failures name the file', () => {
  it('turns a 404 into a ModelFileError naming the file', async () => {
    hub().notFound.add(WEIGHTS);
    const err = await cachedModelFiles(hub().repo, hub().baseUrl, makeCache()).bytes(WEIGHTS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).file).toBe(`${hub().repo}/${WEIGHTS}`);
    expect((err as ModelFileError).problem).toBe('missing');
    expect((err as Error).message).toContain('HTTP 404');
  });

  it('skips an optional file the repo lacks and fails on a required one', async () => {
    const cache = makeCache();
    hub().notFound.add('generation_config.json');
    await cache.ensure({ ...plan('config.json'), files: [{ name: 'config.json' }, { name: 'generation_config.json', optional: true }] });
    expect([...(await cache.cachedNames(hub().repo))]).toEqual(['config.json']);
    const err = await cache.ensure(plan('generation_config.json')).catch((e: unknown) => e);
    expect((err as ModelFileError).file).toBe(`${hub().repo}/generation_config.json`);
  });

  it('turns a network failure into an unreachable ModelFileError naming the file', async () => {
    const cache = makeCache({ maxAttempts: 2 });
    const err = await cachedModelFiles('x/y', 'http://127.0.0.1:9/x/y/resolve/main/', cache).bytes('config.json').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).file).toBe('x/y/config.json');
    expect((err as ModelFileError).problem).toBe('unreachable');
  });
});

describe('storage quota', () => {
  const storage = (usage: number, quota: number, persist?: () => Promise<boolean>): StorageLike => ({
    estimate: async () => ({ usage, quota }),
    ...(persist ? { persist } : {}),
  });

  it('refuses a model too big for the quota before any request, with the numbers', async () => {
    const cache = makeCache({ storage: storage(900_000, 1_000_000) });
    const files = zooFiles(ZOO[0] as (typeof ZOO)[number], 'native').map((f) => ({ ...f, size: statSync(join(MODEL_DIR, f.name)).size }));
    const err = await cache.ensure({ model: hub().repo, baseUrl: hub().baseUrl, files }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageQuotaError);
    const q = err as StorageQuotaError;
    expect(q.needed).toBe(files.reduce((s, f) => s + f.size, 0));
    expect(q.available).toBe(100_000);
    expect(q.message).toMatch(/needs 6\.\d+ MB more storage but only 100\.0 KB is available/);
    console.log(`quota: ${q.message}`);
    expect(hub().log).toEqual([]);
  });

  it('with sizes unknown, asks only for headers (HEAD) before refusing', async () => {
    const cache = makeCache({ storage: storage(0, 1000) });
    const err = await cache.ensure(plan('config.json', WEIGHTS)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageQuotaError);
    expect(hub().log.map((r) => r.method)).toEqual(['HEAD', 'HEAD']);
  });

  it('requests persistent storage once', async () => {
    let asked = 0;
    const cache = makeCache({
      storage: storage(0, 1e9, async () => {
        asked++;
        return true;
      }),
    });
    await cache.ensure(plan('config.json'));
    await cache.ensure(plan('tokenizer.json'));
    expect(asked).toBe(1);
  });
});

describe('loading through the cache', () => {
  it('gives byte-identical files: every file of both engines, and the same safetensors tensors', async () => {
    const cache = makeCache();
    const bundled = ZOO[0] as (typeof ZOO)[number];
    const names = [...new Set([...zooFiles(bundled, 'native'), ...zooFiles(bundled, 'onnx')].map((f) => f.name))];
    await cache.ensure({ model: hub().repo, baseUrl: hub().baseUrl, files: names.map((name) => ({ name })) });
    hub().log.length = 0;
    const files = cachedModelFiles(hub().repo, hub().baseUrl, cache);
    for (const name of names) expectSameBytes(await files.bytes(name), name);
    expect(hub().log).toEqual([]);
    const cached = new SafetensorsFile(await files.bytes(WEIGHTS), `${hub().repo}/${WEIGHTS}`);
    const onDisk = readFileSync(join(MODEL_DIR, WEIGHTS));
    const local = new SafetensorsFile(onDisk.buffer.slice(onDisk.byteOffset, onDisk.byteOffset + onDisk.length) as ArrayBuffer);
    expect([...cached.tensors.keys()]).toEqual([...local.tensors.keys()]);
    for (const name of local.tensors.keys()) {
      expect(cached.info(name).shape).toEqual(local.info(name).shape);
      expect(Buffer.from(cached.raw(name)).equals(Buffer.from(local.raw(name))), name).toBe(true);
      expect(Buffer.from(cached.float32(name).buffer).equals(Buffer.from(local.float32(name).buffer)), name).toBe(true);
    }
  });

  it('lists cached models, revalidates with HEAD only, and deletes everything of a model', async () => {
    const kv = memoryKv();
    const cache = makeCache({ maxAttempts: 1 }, kv);
    await cache.ensure(plan('config.json', 'tokenizer.json'));
    hub().cutNext(WEIGHTS, 1.5 * MiB);
    await cache.ensure(plan(WEIGHTS)).catch(() => undefined);
    const [entry] = await cache.list();
    expect(entry).toMatchObject({ id: hub().repo, files: 2, partialBytes: MiB });
    hub().log.length = 0;
    hub().etagOverride.set('config.json', '"changed"');
    expect(await cache.revalidate(plan('config.json', 'tokenizer.json'))).toEqual(['config.json']);
    expect(hub().log.every((r) => r.method === 'HEAD')).toBe(true);
    expect(await cache.delete(hub().repo)).toBeGreaterThan(MiB);
    expect(await cache.list()).toEqual([]);
    expect(kv.map.size).toBe(0);
  });
});
