/**
 * The store the app really uses: idb-keyval on IndexedDB, here on
 * fake-indexeddb (an in-memory IndexedDB with structured cloning), so the
 * browser's code path (ArrayBuffer chunks cloned in and out, keys() listing)
 * runs in Node too.
 */
import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultKv, idbKv, type KvStore } from '../../src/worker/cache/kv';
import { cachedModelFiles, WeightCache } from '../../src/worker/cache/weight-cache';
import { useHubServer } from '../helpers/hub-fixture';
import { MODEL_DIR } from '../models/golden';

const MiB = 1024 * 1024;
const hub = useHubServer(MODEL_DIR);

describe('idb-keyval store', () => {
  it('keeps values as structured clones: a buffer changed after set or get leaves the stored one alone', async () => {
    const kv: KvStore = idbKv('test-kv', 'files');
    const buf = new Uint8Array([1, 2, 3]).buffer;
    await kv.set('c:a#0', buf);
    new Uint8Array(buf)[0] = 9;
    const got = (await kv.get('c:a#0')) as ArrayBuffer;
    expect([...new Uint8Array(got)]).toEqual([1, 2, 3]);
    new Uint8Array(got)[1] = 9;
    expect([...new Uint8Array((await kv.get('c:a#0')) as ArrayBuffer)]).toEqual([1, 2, 3]);
    await kv.set('m:a', { size: 3, chunks: [{ sha256: 'x' }] });
    expect((await kv.keys()).sort()).toEqual(['c:a#0', 'm:a']);
    await kv.del('c:a#0');
    expect(await kv.get('c:a#0')).toBeUndefined();
  });

  it('is the default where indexedDB exists', async () => {
    const kv = defaultKv();
    await kv.set('probe', 1);
    expect(await idbKv().get('probe')).toBe(1);
    await kv.del('probe');
  });

  it('downloads, detects a damaged chunk and repairs it by range, on IndexedDB', async () => {
    const kv = idbKv('test-weights', 'files');
    const cache = new WeightCache({ kv, storage: undefined, chunkSize: MiB, retryDelayMs: 0 });
    const files = cachedModelFiles(hub().repo, hub().baseUrl, cache);
    const want = readFileSync(join(MODEL_DIR, 'model.safetensors'));
    expect(Buffer.from(await files.bytes('model.safetensors')).equals(want)).toBe(true);
    const key = `c:${hub().repo}/model.safetensors#2`;
    const chunk = new Uint8Array((await kv.get(key)) as ArrayBuffer);
    chunk[7] = (chunk[7] as number) ^ 0x80;
    await kv.set(key, chunk.buffer);
    hub().log.length = 0;
    expect(Buffer.from(await files.bytes('model.safetensors')).equals(want)).toBe(true);
    expect(hub().log.map((r) => r.range)).toEqual([`bytes=${2 * MiB}-${3 * MiB - 1}`]);
    expect(await cache.list()).toEqual([{ id: hub().repo, files: 1, bytes: want.length, partialBytes: 0 }]);
  });
});
