/**
 * The worker API's model zoo and weight cache over a MessageChannel, as the
 * page uses them: listModels, loadModel of a hub model from the hub-like
 * server (with progress through a Comlink proxy) on the native engine,
 * loading again from the cache with no request, refusals, cacheList and
 * cacheDelete.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as Comlink from 'comlink';
import { BUNDLED_MODEL } from '../../src/models/zoo';
import type { DownloadProgress } from '../../src/worker/api';
import { memoryKv } from '../../src/worker/cache/kv';
import type { StorageLike } from '../../src/worker/cache/quota';
import { WeightCache } from '../../src/worker/cache/weight-cache';
import { wrapEndpoint, type VlmClient } from '../../src/worker/client';
import { Engine } from '../../src/worker/engine';
import { VlmError } from '../../src/worker/errors';
import { nodeGpuEntry } from '../helpers/gpu';
import { useHubServer } from '../helpers/hub-fixture';
import { MODEL_DIR } from '../models/golden';

const hub = useHubServer(MODEL_DIR);
const channels: MessageChannel[] = [];

function api(storage?: StorageLike): VlmClient {
  const ch = new MessageChannel();
  channels.push(ch);
  const weights = new WeightCache({ kv: memoryKv(), storage, chunkSize: 1024 * 1024, retryDelayMs: 0, progressIntervalMs: 0 });
  Comlink.expose(new Engine(() => nodeGpuEntry(), weights), ch.port1);
  return wrapEndpoint(ch.port2);
}

const rejection = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VlmError);
  return err as VlmError;
};

afterAll(() => {
  for (const ch of channels) {
    ch.port1.close();
    ch.port2.close();
  }
});

describe('model zoo and weight cache through the worker API', () => {
  const client = api({ estimate: async () => ({ usage: 0, quota: 1e9 }) });

  it('lists the zoo: bundled default first, dtypes this adapter can run', async () => {
    const [models, info] = await Promise.all([client.listModels(), client.info()]);
    expect(models[0]?.id).toBe(BUNDLED_MODEL);
    expect(models[0]?.isDefault).toBe(true);
    expect(models[0]?.cachedFor).toEqual([]);
    const smol = models.find((m) => m.id === 'HuggingFaceTB/SmolVLM-256M-Instruct');
    const dtypes = smol?.engines[0]?.dtypes.map((d) => d.dtype) ?? [];
    expect(dtypes).toContain('q4');
    expect(dtypes.includes('fp16')).toBe(info.report.features['shader-f16']);
  });

  it('loads a hub model on the native engine through the cache, with progress; the second load fetches nothing', async () => {
    const events: DownloadProgress[] = [];
    const loaded = await client.loadModel(hub().repo, { engine: 'native', hubUrl: hub().url }, Comlink.proxy((p: DownloadProgress) => void events.push(p)));
    expect(loaded.id).toBe(hub().repo);
    expect(loaded.imageSize).toBeGreaterThan(0);
    expect(hub().gets().map((r) => r.file)).toEqual(expect.arrayContaining(['config.json', 'tokenizer.json', 'model.safetensors']));
    // Progress crosses the channel as messages: wait for the last one.
    await expect.poll(() => events.some((e) => e.file === 'model.safetensors' && e.fileDone)).toBe(true);
    const last = events[events.length - 1] as DownloadProgress;
    expect(last.modelLoaded).toBe(last.modelTotal);
    hub().log.length = 0;
    await client.loadModel(hub().repo, { engine: 'native', hubUrl: hub().url });
    expect(hub().log).toEqual([]);
    const cached = await client.cacheList();
    expect(cached).toEqual([expect.objectContaining({ id: hub().repo, files: 6, partialBytes: 0 })]);
    const listed = (await client.listModels()).find((m) => m.id === hub().repo);
    expect(listed?.cachedFor).toEqual([{ engine: 'native' }]);
  });

  it('refuses a model our engines cannot run before any request', async () => {
    const err = await rejection(client.loadModel('onnx-community/Florence-2-base', { engine: 'native', hubUrl: hub().url }));
    expect(err.code).toBe('unsupported-model');
    expect(err.message).toMatch(/llava/);
    expect(hub().log).toEqual([]);
  });

  it('deletes a cached model', async () => {
    const freed = await client.cacheDelete(hub().repo);
    expect(freed).toBeGreaterThan(6_000_000);
    expect(await client.cacheList()).toEqual([]);
  });
});

describe('download failures through the worker API', () => {
  it('refuses a model too big for the quota before any download, with the numbers', async () => {
    const client = api({ estimate: async () => ({ usage: 400_000, quota: 1_000_000 }) });
    const err = await rejection(client.loadModel(hub().repo, { engine: 'onnx', hubUrl: hub().url }));
    expect(err.code).toBe('storage-quota');
    expect(err.message).toMatch(/needs 12\.\d+ MB more storage but only 600\.0 KB is available/);
    expect(hub().gets()).toEqual([]);
  });

  it('names the missing file of a 404', async () => {
    const client = api();
    hub().notFound.add('model.safetensors');
    const err = await rejection(client.loadModel(hub().repo, { engine: 'native', hubUrl: hub().url }));
    expect(err.code).toBe('model-file');
    expect(err.message).toContain(`${hub().repo}/model.safetensors`);
    expect(err.message).toContain('404');
  });

  it('downloads without loading, for any engine the zoo lists', async () => {
    const client = api();
    const got = await client.downloadModel(hub().repo, { engine: 'onnx', hubUrl: hub().url });
    expect(got).toMatchObject({ id: hub().repo, files: 8 });
    expect(got.bytes).toBeGreaterThan(12_000_000);
  });
});
