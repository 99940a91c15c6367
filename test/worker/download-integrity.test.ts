/**
 * A download is checked before the cache lists it: the kinds of body a file
 * name promises (JSON, safetensors, ONNX, text), an HTML page answered with
 * 200, a body that ends early without a Content-Length, a sha256 other than
 * the hub lists (also behind the hub's LFS redirect), and revalidation of a
 * cached hub model against the hub's commit and the files' ETags.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/models/model-files';
import { fetchHubRevision, withHubListing } from '../../src/worker/cache/hub-api';
import { memoryKv } from '../../src/worker/cache/kv';
import { ModelLibrary } from '../../src/worker/cache/model-library';
import { contentTypeProblem, validateFile } from '../../src/worker/cache/validate';
import { WeightCache, type ModelPlan } from '../../src/worker/cache/weight-cache';
import { useHubServer } from '../helpers/hub-fixture';
import { MODEL_DIR } from '../models/golden';

const MiB = 1024 * 1024;
const WEIGHTS = 'model.safetensors';
const hub = useHubServer(MODEL_DIR);
const disk = (name: string) => new Uint8Array(readFileSync(join(MODEL_DIR, name)));
const text = (s: string) => new TextEncoder().encode(s);

function makeCache(kv = memoryKv()) {
  return { kv, cache: new WeightCache({ kv, storage: undefined, chunkSize: MiB, retryDelayMs: 0, progressIntervalMs: 0, maxAttempts: 2 }) };
}

/** The plan as the app makes it for a hub model: with the sizes, sha256s and commit the hub's API lists. */
async function hubPlan(cache: WeightCache, ...names: string[]): Promise<ModelPlan> {
  const plan = { model: hub().repo, baseUrl: hub().baseUrl, files: names.map((name) => ({ name })) };
  const listing = await fetchHubRevision(cache.fetchFn, hub().url, hub().repo);
  expect(listing, 'the test hub answers its API').not.toBeNull();
  return withHubListing(plan, listing as NonNullable<typeof listing>);
}

async function failure(p: Promise<unknown>): Promise<ModelFileError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelFileError);
  return err as ModelFileError;
}

async function check(name: string, bytes: Uint8Array): Promise<string | null> {
  return validateFile(`m/${name}`, name, bytes.length, async (end) => bytes.subarray(0, end)).then(
    () => null,
    (e: unknown) => (e as Error).message,
  );
}

describe('what a file must look like', () => {
  it('accepts the bundled model files and refuses bodies of the wrong kind, naming what is wrong', async () => {
    for (const name of ['config.json', 'tokenizer.json', WEIGHTS, 'onnx/vision_encoder.onnx']) expect(await check(name, disk(name)), name).toBeNull();
    const html = text('<!DOCTYPE html><html><body>Sign in</body></html>');
    for (const name of ['config.json', WEIGHTS, 'onnx/embed_tokens.onnx', 'ppocr_keys_v1.txt']) expect(await check(name, html), name).toMatch(/HTML page/);
    expect(await check('config.json', text('{"hidden_size": 12'))).toMatch(/not valid JSON/);
    expect(await check('config.json', new Uint8Array(0))).toMatch(/empty/);
    // A safetensors header that promises more bytes than arrived: the body was cut short.
    const weights = disk(WEIGHTS);
    expect(await check(WEIGHTS, weights.subarray(0, weights.length - 100))).toMatch(/header describes \d+ bytes but the file has \d+/);
    const badLength = weights.slice(0, 4096);
    new DataView(badLength.buffer).setBigUint64(0, 1n << 40n, true);
    expect(await check(WEIGHTS, badLength)).toMatch(/header length/);
    expect(await check('onnx/decoder_model_merged.onnx', text('{"error":"Repository not found"}'))).toMatch(/ONNX/);
    expect(await check('ppocr_keys_v1.txt', new Uint8Array([0xff, 0xfe, 0x00, 0xc3]))).toMatch(/UTF-8/);
    expect(contentTypeProblem('config.json', 'text/html; charset=utf-8')).toMatch(/HTML page/);
    expect(contentTypeProblem(WEIGHTS, 'application/json')).toMatch(/JSON/);
    expect(contentTypeProblem('config.json', 'application/json')).toBeNull();
    expect(contentTypeProblem(WEIGHTS, 'application/octet-stream')).toBeNull();
  });
});

describe('downloads that are not the file', () => {
  it('a hub answering 200 text/html (a captive portal) stores nothing; the healthy hub then downloads', async () => {
    const { kv, cache } = makeCache();
    hub().html = true;
    // The portal answers the API with HTML too: the app falls back to the plain file list.
    expect(await fetchHubRevision(cache.fetchFn, hub().url, hub().repo)).toBeNull();
    const err = await failure(cache.ensure({ model: hub().repo, baseUrl: hub().baseUrl, files: [{ name: 'config.json' }, { name: WEIGHTS }] }));
    expect(err.file).toBe(`${hub().repo}/config.json`);
    expect(err.problem).toBe('malformed');
    expect(err.message).toMatch(/HTML page \(text\/html\)/);
    expect(kv.map.size).toBe(0);
    expect(await cache.list()).toEqual([]);
    hub().html = false;
    await cache.ensure(await hubPlan(cache, 'config.json', WEIGHTS));
    expect([...(await cache.cachedNames(hub().repo))].sort()).toEqual(['config.json', WEIGHTS]);
  });

  it('a body that ends early without a Content-Length is not stored: the size the hub lists tells', async () => {
    const { kv, cache } = makeCache();
    hub().truncate.set(WEIGHTS, 2.5 * MiB);
    const plan = await hubPlan(cache, WEIGHTS);
    const err = await failure(cache.ensure(plan));
    console.log(`truncated: ${err.message}`);
    expect(err.file).toBe(`${hub().repo}/${WEIGHTS}`);
    expect(err.message).toMatch(new RegExp(`ended at byte ${2.5 * MiB} of the ${disk(WEIGHTS).length} bytes`));
    expect(hub().gets(WEIGHTS).every((r) => r.status === 200)).toBe(true);
    expect(kv.map.size).toBe(0);
    hub().truncate.clear();
    await cache.ensure(plan);
    expect((await cache.store.manifest({ model: hub().repo, name: WEIGHTS }))?.size).toBe(disk(WEIGHTS).length);
  });

  it('a sha256 other than the hub lists is refused, also behind the LFS redirect; a good file keeps the hub revision', async () => {
    const { kv, cache } = makeCache();
    hub().lfsRedirect = true;
    hub().wrongSha256.add(WEIGHTS);
    const err = await failure(cache.ensure(await hubPlan(cache, WEIGHTS)));
    console.log(`wrong sha256: ${err.message}`);
    expect(err.problem).toBe('malformed');
    expect(err.message).toMatch(/do not match the sha256 the hub lists \(ffffffffffff…\), 2 times/);
    expect(kv.map.size).toBe(0);
    hub().wrongSha256.clear();
    const plan = await hubPlan(cache, WEIGHTS);
    await cache.ensure(plan);
    const m = await cache.store.manifest({ model: hub().repo, name: WEIGHTS });
    // The bytes came from the redirect's target, whose ETag is not the sha256: the hub's listing gave it.
    expect(m?.etag).toMatch(/^"cdn-/);
    expect(m?.sha256).toBe(plan.files[0]?.sha256);
    expect(m?.revision).toBe(plan.revision);
    expect(await cache.list()).toEqual([expect.objectContaining({ id: hub().repo, files: 1, revision: plan.revision })]);
  });

  it('a response transformers.js hands to the cache is checked the same way', async () => {
    const { kv, cache } = makeCache();
    const put = (name: string, body: string, type: string) =>
      failure(cache.put({ model: hub().repo, name }, `${hub().baseUrl}${name}`, new Response(body, { headers: { 'content-type': type } })));
    expect((await put('config.json', '<!DOCTYPE html><html><body>Sign in</body></html>', 'text/html')).message).toMatch(/HTML page \(text\/html\)/);
    expect((await put('onnx/embed_tokens.onnx', '{"error":"Repository not found"}', 'text/plain')).message).toMatch(/ONNX/);
    expect(kv.map.size).toBe(0);
  });

  it('a mistyped or broken hub model is not offered by the picker; a complete one is', async () => {
    const { cache } = makeCache();
    const library = new ModelLibrary(cache, async () => new Set(), '/models/');
    hub().notFound.add(WEIGHTS);
    await expect(library.filesFor(hub().repo, 'native', hub().url)).rejects.toMatchObject({ code: 'model-file' });
    expect((await library.listModels()).map((m) => m.id)).not.toContain(hub().repo);
    hub().notFound.clear();
    await library.filesFor(hub().repo, 'native', hub().url);
    expect((await library.listModels()).find((m) => m.id === hub().repo)?.cachedFor).toEqual([{ engine: 'native' }]);
  });
});

describe('revalidation of a cached hub model', () => {
  it('with the API: an unchanged commit costs one request; a changed ETag fetches that file again, the rest stay', async () => {
    const { cache } = makeCache();
    const library = new ModelLibrary(cache, async () => new Set(), '/models/');
    await library.filesFor(hub().repo, 'native', hub().url);
    hub().log.length = 0;
    hub().apiLog.length = 0;
    await library.filesFor(hub().repo, 'native', hub().url);
    expect(hub().log).toEqual([]);
    expect(hub().apiLog).toHaveLength(1);
    hub().etagOverride.set('config.json', '"v2"');
    await library.filesFor(hub().repo, 'native', hub().url);
    expect(hub().gets().map((r) => r.file)).toEqual(['config.json']);
    expect((await cache.store.manifest({ model: hub().repo, name: 'config.json' }))?.etag).toBe('"v2"');
    // The files found current are recorded at the new commit: the next load asks nothing but the API.
    hub().log.length = 0;
    await library.filesFor(hub().repo, 'native', hub().url);
    expect(hub().log).toEqual([]);
  });

  it('a captive portal answering for a cached model leaves the cache as it is: the model loads from it', async () => {
    const { cache } = makeCache();
    const library = new ModelLibrary(cache, async () => new Set(), '/models/');
    await library.filesFor(hub().repo, 'native', hub().url);
    const before = await cache.list();
    hub().html = true;
    hub().log.length = 0;
    const files = await library.filesFor(hub().repo, 'native', hub().url);
    expect(JSON.parse(new TextDecoder().decode(await files.bytes('config.json')))).toHaveProperty('model_type');
    expect(hub().gets()).toEqual([]);
    expect(await cache.list()).toEqual(before);
  });

  it('without the API (a mirror): HEAD requests compare ETags, and only a changed file is fetched again', async () => {
    const { cache } = makeCache();
    const library = new ModelLibrary(cache, async () => new Set(), '/models/');
    hub().api = false;
    await library.filesFor(hub().repo, 'native', hub().url);
    hub().log.length = 0;
    await library.filesFor(hub().repo, 'native', hub().url);
    expect(hub().gets()).toEqual([]);
    expect(hub().log.every((r) => r.method === 'HEAD')).toBe(true);
    hub().etagOverride.set(WEIGHTS, '"v3"');
    hub().log.length = 0;
    await library.filesFor(hub().repo, 'native', hub().url);
    expect(hub().gets().map((r) => `${r.file} ${r.range}`)).toEqual([`${WEIGHTS} null`]);
  });
});
