import { describe, expect, it } from 'vitest';
import type { BenchRow } from '../../src/bench/bench-case';
import { benchJson, formatBenchTable } from '../../src/bench/bench-table';
import { kernelTable } from '../../src/bench/kernel-bench';
import { kernelCases } from '../../src/bench/kernel-suite';
import { modelTable, runModelBench, type EngineFigures, type ModelBenchResult } from '../../src/bench/model-bench';
import type { ChatReply, EngineKind } from '../../src/worker/api';

const figures = (encodeMs: number, ttftMs: number, tps: number, mib: number | null, device = 'native'): EngineFigures => ({
  encodeMs,
  ttftMs,
  decodeTokensPerSecond: tps,
  peakGpuBytes: mib === null ? null : mib * 2 ** 20,
  runs: 3,
  newTokens: 24,
  device,
});

const CANNED: ModelBenchResult = {
  model: 'webvlm-tiny',
  engines: { native: figures(12.5, 40, 80, 20), onnx: figures(25, 60, 40, 30, 'webgpu'), transformers: figures(50, 120, 20, null, 'wasm') },
  encodeRatio: 2,
  ttftRatio: 1.5,
  decodeRatio: 2,
  transformersRatios: { encode: 4, ttft: 3, decode: 4 },
  cancelled: false,
};

describe('model table', () => {
  it('shows one row per engine with the figures and the ratios beneath, as bench:model prints them', () => {
    const t = modelTable(CANNED);
    expect(t.head).toEqual(['engine', 'encode ms', 'TTFT ms', 'decode tok/s', 'GPU MiB']);
    expect(t.body).toEqual([
      ['native', '12.5', '40.0', '80.00', '20.0'],
      ['onnx', '25.0', '60.0', '40.00', '30.0'],
      ['transformers (wasm)', '50.0', '120.0', '20.00', 'n/a'],
    ]);
    expect(t.notes).toEqual([
      'model webvlm-tiny, median of 3 runs, 24 new tokens each',
      'native/onnx: encode 2.00x, TTFT 1.50x, decode 2.00x (above 1: native faster)',
      'native/transformers: encode 4.00x, TTFT 3.00x, decode 4.00x (above 1: native faster)',
      'transformers.js does not report its GPU memory (n/a)',
    ]);
    const text = formatBenchTable(t).split('\n');
    expect(text[0]).toBe('engine               encode ms  TTFT ms  decode tok/s  GPU MiB');
    expect(text[1]).toBe('native                    12.5     40.0         80.00     20.0');
  });

  it('shows only the engines measured before a cancel, and no ratios', () => {
    const t = modelTable({ ...CANNED, engines: { native: CANNED.engines.native }, encodeRatio: NaN, ttftRatio: NaN, decodeRatio: NaN, transformersRatios: { encode: NaN, ttft: NaN, decode: NaN }, cancelled: true });
    expect(t.body.map((r) => r[0])).toEqual(['native']);
    expect(t.notes).toHaveLength(1);
  });
});

describe('runModelBench', () => {
  const reply = (engine: EngineKind): ChatReply => ({
    text: 'a red circle',
    finishReason: 'length',
    promptTokens: 10,
    newTokens: 24,
    reusedPositions: 0,
    ttftMs: { native: 40, onnx: 60, transformers: 120 }[engine],
    tokensPerSecond: { native: 80, onnx: 40, transformers: 20 }[engine],
    encodeMs: { native: 10, onnx: 20, transformers: 40 }[engine],
    peakGpuBytes: engine === 'transformers' ? 0 : 2 ** 20,
  });

  function fakeApi(onChat: (engine: EngineKind, call: number) => void = () => undefined) {
    let engine: EngineKind = 'native';
    let calls = 0;
    const log: string[] = [];
    return {
      log,
      api: {
        loadModel: (_id: string, opts?: { engine?: EngineKind }) => {
          engine = opts?.engine ?? 'native';
          log.push(`load ${engine}`);
          return Promise.resolve({ device: engine === 'transformers' ? 'wasm' : engine } as never);
        },
        chat: () => {
          onChat(engine, ++calls);
          return Promise.resolve(reply(engine));
        },
        unloadModel: () => {
          log.push(`unload ${engine}`);
          return Promise.resolve();
        },
      },
    };
  }

  it('measures every engine after a warm-up run and gives the native/onnx and native/transformers ratios', async () => {
    const { api, log } = fakeApi();
    const r = await runModelBench(api, 'webvlm-tiny', 2);
    expect(log).toEqual(['load native', 'unload native', 'load onnx', 'unload onnx', 'load transformers', 'unload transformers']);
    expect(r.cancelled).toBe(false);
    expect(r.engines.native?.encodeMs).toBe(10);
    expect([r.encodeRatio, r.ttftRatio, r.decodeRatio]).toEqual([2, 1.5, 2]);
    expect(r.transformersRatios).toEqual({ encode: 4, ttft: 3, decode: 4 });
    expect(r.engines.transformers).toMatchObject({ device: 'wasm', peakGpuBytes: null });
  });

  it('stops between runs on abort, unloads, and keeps the engines measured', async () => {
    const controller = new AbortController();
    // Calls 1-3 are native's warm-up and two runs; the abort lands during call 4, onnx's warm-up.
    const { api, log } = fakeApi((_engine, call) => call === 4 && controller.abort());
    const r = await runModelBench(api, 'webvlm-tiny', 2, { signal: controller.signal });
    expect(r.cancelled).toBe(true);
    expect(Object.keys(r.engines)).toEqual(['native']);
    expect(log).toEqual(['load native', 'unload native', 'load onnx', 'unload onnx']);
    expect(Number.isNaN(r.decodeRatio)).toBe(true);
    expect(JSON.parse(benchJson(r))).toMatchObject({ cancelled: true, decodeRatio: null });
  });
});

describe('kernel table and cases', () => {
  const row: BenchRow = { op: 'matmul', shape: 'decode 1x4x4', oursMs: 1, ortMs: 2, ratio: 2, oursGflops: 0.5, ortGflops: 0.25, maxDiff: 1e-6, oursErr: 1e-7, ortErr: NaN };

  it('prints the columns bench:kernels prints, the median ratio and the copy rate once measured', () => {
    const t = kernelTable([row], 4.5);
    expect(t.head[4]).toBe('ratio');
    expect(t.body[0]?.slice(0, 5)).toEqual(['matmul', 'decode 1x4x4', '1.00', '2.00', '2.00x']);
    expect(t.notes).toEqual(['median ratio (ORT ms / ours ms): 2.00x', 'buffer copy: 4.50 GB/s']);
    expect(kernelTable([row], NaN).notes).toHaveLength(1);
  });

  it('offers a quick set of three cases, filtered like --filter', () => {
    expect(kernelCases('', 'quick').map((c) => c.op)).toEqual(['matmul', 'matmul', 'attention']);
    expect(kernelCases('decode 1x1024').map((c) => c.shape)).toEqual(['decode 1x1024x1024']);
    expect(kernelCases('', 'all').length).toBeGreaterThan(kernelCases('', 'quick').length);
  });

  it("keeps SmolVLM's real shapes in a set of their own, out of the default run", () => {
    const names = kernelCases('', 'smolvlm').map((c) => `${c.op} ${c.shape}`);
    expect(names).toEqual([
      'matmul siglip mlp 1024x768x3072',
      'matmul smollm2 decode 1x576x1536',
      'attention siglip prefill T=1024 S=1024 H=12 D=64',
      'attention smollm2 decode T=1 S=1024 H=9 KV=3 D=64',
    ]);
    expect(kernelCases('siglip', 'all')).toEqual([]);
    expect(kernelCases('attention', 'smolvlm')).toHaveLength(2);
  });
});
