/**
 * The @huggingface/transformers custom-cache hook: its match/put/delete over
 * the weight store, and transformers.js itself loading a tokenizer from the
 * local hub-like server through it, so a file fetched by either side is
 * never fetched again by the other.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryKv } from '../../src/worker/cache/kv';
import { hubFileKey, installTransformersCache, transformersCache } from '../../src/worker/cache/transformers-hook';
import { cachedModelFiles, WeightCache } from '../../src/worker/cache/weight-cache';
import { MODEL_DIR } from '../models/golden';
import { useHubServer } from '../helpers/hub-fixture';

const hub = useHubServer(MODEL_DIR);

const newCache = () => new WeightCache({ kv: memoryKv(), storage: undefined, chunkSize: 4096, retryDelayMs: 0 });
const onDisk = (name: string) => readFileSync(join(MODEL_DIR, name));

describe('hubFileKey', () => {
  it('maps hub URLs to the keys cachedModelFiles uses', () => {
    expect(hubFileKey('https://huggingface.co/HuggingFaceTB/SmolVLM-256M-Instruct/resolve/main/onnx/embed_tokens_q4.onnx')).toEqual({
      model: 'HuggingFaceTB/SmolVLM-256M-Instruct',
      name: 'onnx/embed_tokens_q4.onnx',
    });
    expect(hubFileKey('https://huggingface.co/org/name/resolve/v1.0/config.json')).toEqual({ model: 'org/name@v1.0', name: 'config.json' });
    expect(hubFileKey('/models/org/name/config.json')).toBeNull();
    expect(hubFileKey('https://example.com/org/name/config.json')).toBeNull();
  });
});

describe('custom cache hook', () => {
  it('serves a file cachedModelFiles downloaded, with no request', async () => {
    const cache = newCache();
    await cachedModelFiles(hub().repo, hub().baseUrl, cache).bytes('tokenizer.json');
    hub().log.length = 0;
    const hook = transformersCache(cache);
    const res = await hook.match(`${hub().baseUrl}tokenizer.json`);
    expect(res?.status).toBe(200);
    expect(Buffer.from(await (res as Response).arrayBuffer()).equals(onDisk('tokenizer.json'))).toBe(true);
    expect(await hook.match(`${hub().baseUrl}config.json`)).toBeUndefined();
    expect(hub().log).toEqual([]);
  });

  it('stores what transformers.js put, for cachedModelFiles to read with no request; delete removes it', async () => {
    const cache = newCache();
    const hook = transformersCache(cache);
    const body = onDisk('config.json');
    const seen: number[] = [];
    await hook.put(`${hub().baseUrl}config.json`, new Response(body, { headers: { 'content-length': String(body.length), etag: '"abc"' } }), (p) => seen.push(p.progress));
    expect(seen[seen.length - 1]).toBe(100);
    const got = await cachedModelFiles(hub().repo, hub().baseUrl, cache).bytes('config.json');
    expect(Buffer.from(got).equals(body)).toBe(true);
    expect(hub().log).toEqual([]);
    expect(await hook.delete(`${hub().baseUrl}config.json`)).toBe(true);
    expect(await hook.match(`${hub().baseUrl}config.json`)).toBeUndefined();
    expect(await hook.delete(`${hub().baseUrl}config.json`)).toBe(false);
  });

  it('ignores keys that are not hub URLs', async () => {
    const cache = newCache();
    const hook = transformersCache(cache);
    await hook.put('/models/x/config.json', new Response('{}'));
    expect(await hook.match('/models/x/config.json')).toBeUndefined();
    expect(await cache.list()).toEqual([]);
  });
});

describe('transformers.js through the hook', () => {
  const saved = { ...env };
  beforeAll(() => {
    // The hub-like server stands in for huggingface.co; no local folder, no file-system cache.
    Object.assign(env, { remoteHost: `${hub().url}/`, allowLocalModels: false, allowRemoteModels: true, useFSCache: false });
  });
  afterAll(() => {
    Object.assign(env, saved);
  });

  it('loads a tokenizer from the hub-like server once; the next load and our loader fetch nothing', async () => {
    const cache = newCache();
    installTransformersCache(env, transformersCache(cache));
    expect(env.useCustomCache).toBe(true);
    const first = await AutoTokenizer.from_pretrained(hub().repo);
    const fetched = hub().gets().map((r) => r.file);
    expect(fetched).toContain('tokenizer.json');
    expect((await cache.cachedNames(hub().repo)).has('tokenizer.json')).toBe(true);
    hub().log.length = 0;
    const second = await AutoTokenizer.from_pretrained(hub().repo);
    expect(second.encode('a red circle')).toEqual(first.encode('a red circle'));
    await cachedModelFiles(hub().repo, hub().baseUrl, cache).bytes('tokenizer.json');
    expect(hub().gets()).toEqual([]);
    console.log(`transformers.js fetched ${JSON.stringify(fetched)} once; second load and cachedModelFiles: 0 requests`);
  });

  it('loads a tokenizer our loader already cached without a request', async () => {
    const cache = newCache();
    const files = cachedModelFiles(hub().repo, hub().baseUrl, cache);
    await files.bytes('tokenizer.json');
    await files.bytes('tokenizer_config.json');
    hub().log.length = 0;
    installTransformersCache(env, transformersCache(cache));
    const tok = await AutoTokenizer.from_pretrained(hub().repo);
    expect(tok.encode('a red circle').length).toBeGreaterThan(0);
    expect(hub().log).toEqual([]);
  });
});
