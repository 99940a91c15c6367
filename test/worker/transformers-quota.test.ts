/**
 * A hub model too big for this site's storage is refused on the transformers
 * engine before the first byte of its weights: the hub API's listing gives
 * the session files' sizes, navigator.storage.estimate() the room left, and
 * the error ('storage-quota') names the bytes needed, the bytes free and the
 * cached models whose deletion would make room.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryKv } from '../../src/worker/cache/kv';
import { formatBytes } from '../../src/worker/cache/quota';
import { prepareTransformersFiles } from '../../src/worker/cache/transformers-files';
import { WeightCache } from '../../src/worker/cache/weight-cache';
import { VlmError } from '../../src/worker/errors';
import { HUB_DIR } from '../helpers/family-golden';
import { startHubServer, type HubServer } from '../helpers/hub-server';

const SMOL = { dir: 'HuggingFaceTB-tiny-smolvlm', repo: 'HuggingFaceTB/SmolVLM-256M-Instruct' };
const QWEN = { dir: 'Qwen-tiny-qwen2-vl-grounding', repo: 'Qwen/Qwen2-VL-2B-Instruct' };
const SESSIONS = ['onnx/vision_encoder.onnx', 'onnx/embed_tokens.onnx', 'onnx/decoder_model_merged.onnx'];
const sessionBytes = (dir: string) => SESSIONS.reduce((sum, f) => sum + statSync(join(HUB_DIR, dir, f)).size, 0);

describe('the storage quota on the transformers engine', () => {
  let smol: HubServer;
  let qwen: HubServer;
  const estimate = { usage: 0, quota: 1e9 };
  const cache = new WeightCache({ kv: memoryKv(), storage: { estimate: async () => ({ ...estimate }) }, retryDelayMs: 0, progressIntervalMs: 0 });
  const request = (hubUrl: string) => ({ dtype: 'fp32' as const, hubUrl, features: new Set<string>() });

  beforeAll(async () => {
    smol = await startHubServer(join(HUB_DIR, SMOL.dir), SMOL.repo);
    qwen = await startHubServer(join(HUB_DIR, QWEN.dir), QWEN.repo);
  });
  afterAll(async () => {
    await smol?.close();
    await qwen?.close();
  });

  it('refuses a model whose session files do not fit, before any ONNX byte, naming the sizes and the cached models to delete', async () => {
    await prepareTransformersFiles(cache, SMOL.repo, request(smol.url));
    const smolBytes = (await cache.list()).find((m) => m.id === SMOL.repo)?.bytes ?? 0;
    expect(smolBytes).toBeGreaterThan(sessionBytes(SMOL.dir));

    // Room for the configs, not for the weights.
    const needed = sessionBytes(QWEN.dir);
    Object.assign(estimate, { usage: 2_000_000, quota: 2_000_000 + Math.floor(needed / 2) });
    const err = await prepareTransformersFiles(cache, QWEN.repo, request(qwen.url)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VlmError);
    const { code, message } = err as VlmError;
    expect(code).toBe('storage-quota');
    expect(message).toContain(`needs ${formatBytes(needed)} more storage`);
    expect(message).toContain(`only ${formatBytes(Math.floor(needed / 2))} is available`);
    expect(message).toContain(`${SMOL.repo}: ${formatBytes(smolBytes)}`);
    // The hub API listed the sizes; no session file was requested.
    expect(qwen.gets().filter((r) => r.file.endsWith('.onnx'))).toEqual([]);
    expect(qwen.apiLog.length).toBeGreaterThan(0);
  });

  it('refuses it the same way from a mirror without the hub API (sizes from HEAD requests)', async () => {
    const needed = sessionBytes(QWEN.dir);
    Object.assign(estimate, { usage: 0, quota: Math.floor(needed / 2) });
    qwen.api = false;
    qwen.log.length = 0;
    try {
      const err = await prepareTransformersFiles(cache, QWEN.repo, request(qwen.url)).then(
        () => null,
        (e: unknown) => e,
      );
      expect((err as VlmError).code).toBe('storage-quota');
      expect((err as VlmError).message).toContain(`needs ${formatBytes(needed)} more storage`);
      expect(qwen.gets().filter((r) => r.file.endsWith('.onnx'))).toEqual([]);
    } finally {
      qwen.api = true;
    }
  });

  it('loads the same model once the room is there', async () => {
    Object.assign(estimate, { usage: 0, quota: 1e9 });
    const files = await prepareTransformersFiles(cache, QWEN.repo, request(qwen.url));
    expect(files.dtype).toBe('fp32');
    expect(qwen.gets().filter((r) => r.file.endsWith('.onnx')).map((r) => r.file).sort()).toEqual([...SESSIONS].sort());
  });
});
