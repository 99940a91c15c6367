/**
 * The transformers engine through the worker API, as the page uses it: the
 * tiny SmolVLM fixture served by the hub-like server under the real repo id,
 * loaded on engine 'transformers' (files fetched into the weight cache with
 * progress, then read by transformers.js through the cache hook), a chat
 * that gives the fixture's golden answer, a reload that fetches no file,
 * unload, and the refusals: a family we do not run, a dtype whose files the
 * repo lacks.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web';
import { AutoTokenizer } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { withModelSource } from '../../src/models/transformers/model-source';
import type { ChatMessage, DownloadProgress } from '../../src/worker/api';
import { fixtureRgba, rejection, useHubClient } from '../helpers/hub-client';
import { startHubServer } from '../helpers/hub-server';

ort.env.wasm.numThreads = 1;

const HUB_DIR = fileURLToPath(new URL('../fixtures/hub', import.meta.url));
const SMOL = 'HuggingFaceTB-tiny-smolvlm';
const REPO = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const golden = JSON.parse(readFileSync(join(HUB_DIR, SMOL, 'golden.json'), 'utf8')) as { messages: ChatMessage[]; greedy_ids: number[]; max_new_tokens: number };
const WEIGHTS = ['onnx/vision_encoder.onnx', 'onnx/embed_tokens.onnx', 'onnx/decoder_model_merged.onnx'];

const SMOL_FIXTURE = { dir: SMOL, repo: REPO };
const { client, hub: hubOf } = useHubClient([SMOL_FIXTURE]);
const hub = () => hubOf(SMOL_FIXTURE);
let expectedText = '';

beforeAll(async () => {
  const tokenizer = await withModelSource({ kind: 'local', path: HUB_DIR }, () => AutoTokenizer.from_pretrained(SMOL));
  expectedText = tokenizer.decode(golden.greedy_ids, { skip_special_tokens: true });
}, 60_000);

describe('the transformers engine in the worker', () => {
  it('loads the SmolVLM fixture from the hub through the cache with progress, answers the golden, reloads without the network, unloads', async () => {
    const events: DownloadProgress[] = [];
    const loaded = await client.loadModel(REPO, { engine: 'transformers', dtype: 'fp32', hubUrl: hub().url }, Comlink.proxy((p: DownloadProgress) => void events.push(p)));
    expect(loaded).toMatchObject({ id: REPO, engine: 'transformers', dtype: 'fp32', device: 'cpu' });
    expect(hub().gets().map((r) => r.file)).toEqual(expect.arrayContaining(['config.json', 'tokenizer.json', ...WEIGHTS]));
    await expect.poll(() => events.some((e) => e.file === 'onnx/decoder_model_merged.onnx' && e.fileDone)).toBe(true);

    let streamed = '';
    const reply = await client.chat({ messages: golden.messages, images: [fixtureRgba(SMOL)], options: { maxNewTokens: golden.max_new_tokens } }, Comlink.proxy((p: string) => void (streamed += p)));
    expect(reply.newTokens).toBe(golden.greedy_ids.length);
    expect(reply.text).toBe(expectedText);
    await expect.poll(() => streamed).toBe(expectedText);
    expect(reply.promptRecomputed).toBe(false);

    hub().log.length = 0;
    await client.unloadModel();
    expect(await client.loadedModel()).toBeNull();
    await rejection(client.chat({ messages: golden.messages, images: [fixtureRgba(SMOL)] }));
    const again = await client.loadModel(REPO, { engine: 'transformers', dtype: 'fp32', hubUrl: hub().url });
    expect(again.engine).toBe('transformers');
    // Only the hub's API is asked whether the commit moved; no file is fetched again.
    expect(hub().gets()).toEqual([]);
    await client.unloadModel();
  }, 120_000);

  it('names a missing dtype file and the dtypes present, before any weight is fetched', async () => {
    hub().log.length = 0;
    const err = await rejection(client.loadModel(REPO, { engine: 'transformers', dtype: 'q4', hubUrl: hub().url }));
    expect(err.code).toBe('model-file');
    expect(err.message).toContain('onnx/vision_encoder_q4.onnx');
    expect(err.message).toContain('fp32');
    expect(hub().gets().filter((r) => r.file.endsWith('.onnx'))).toEqual([]);
  });

  it("refuses a repo whose config names a family it does not run, naming its model_type and the supported list, before any weight", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tjs-unsupported-'));
    cpSync(join(HUB_DIR, SMOL), dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, model_type: 'mllama' }));
    const other = await startHubServer(dir, 'someone/unknown-vlm');
    try {
      const err = await rejection(client.loadModel('someone/unknown-vlm', { engine: 'transformers', dtype: 'fp32', hubUrl: other.url }));
      expect(err.code).toBe('unsupported-model');
      expect(err.message).toContain('"mllama"');
      expect(err.message).toMatch(/idefics3.*qwen2_vl.*florence2/);
      expect(other.gets().filter((r) => r.file.endsWith('.onnx'))).toEqual([]);
    } finally {
      await other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
