/**
 * Where the native engine's time goes on a SmolVLM checkpoint, per kernel, in
 * Node through Dawn (`npm run bench:model -- --model ... --profile`). Every
 * compute pass the runtime records gets GPU timestamps (timestamp-query),
 * grouped by its pipeline key and by phase: encode (the SigLIP tower and the
 * connector over every tile), prefill (the decoder over the prompt) and decode
 * (the tokens after it). The passes are the ones the app records; only the
 * timestamp writes are added.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create, globals } from 'webgpu';
import { argmax } from '../models/generation';
import type { ModelFiles } from '../models/model-files';
import { NativeIdefics3Engine } from '../models/native/idefics3-engine';
import { SafetensorsFile } from '../models/safetensors';
import { loadSmolVlmAssets, SmolVlmChatModel } from '../models/smolvlm';
import { acquireGpu, adapterName } from '../webgpu/device';
import { GpuRuntime } from '../webgpu/runtime';
import { wideImage } from './model-hub';

type Phase = 'encode' | 'prefill' | 'decode';

export interface KernelTime {
  phase: Phase;
  /** The pipeline key: kernel name and variant. */
  kernel: string;
  passes: number;
  ms: number;
}

interface Pending {
  set: GPUQuerySet;
  labels: { phase: Phase; kernel: string }[];
  read: GPUBuffer;
}

const SET_SIZE = 512;

/** Wraps device.createCommandEncoder so every compute pass writes its start and end time, labelled with the phase of the moment. */
function timestamps(device: GPUDevice, phase: () => Phase): () => Promise<KernelTime[]> {
  const pending: Pending[] = [];
  const make = device.createCommandEncoder.bind(device);
  device.createCommandEncoder = (desc) => {
    const enc = make(desc);
    const mine: Pending[] = [];
    const begin = enc.beginComputePass.bind(enc);
    enc.beginComputePass = (pass) => {
      let cur = mine[mine.length - 1];
      if (!cur || cur.labels.length === SET_SIZE / 2) {
        const set = device.createQuerySet({ type: 'timestamp', count: SET_SIZE });
        const read = device.createBuffer({ size: SET_SIZE * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        mine.push((cur = { set, labels: [], read }));
      }
      const i = cur.labels.length;
      cur.labels.push({ phase: phase(), kernel: (pass?.label ?? '?').replace(/\.pass$/, '') });
      return begin({ ...pass, timestampWrites: { querySet: cur.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
    };
    const finish = enc.finish.bind(enc);
    enc.finish = (d) => {
      for (const p of mine) {
        const resolve = device.createBuffer({ size: SET_SIZE * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
        enc.resolveQuerySet(p.set, 0, 2 * p.labels.length, resolve, 0);
        enc.copyBufferToBuffer(resolve, 0, p.read, 0, 2 * p.labels.length * 8);
        pending.push(p);
      }
      return finish(d);
    };
    return enc;
  };
  return async () => {
    const totals = new Map<string, KernelTime>();
    for (const p of pending) {
      await p.read.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(p.read.getMappedRange());
      p.labels.forEach((l, i) => {
        const key = `${l.phase} ${l.kernel}`;
        const row = totals.get(key) ?? { ...l, passes: 0, ms: 0 };
        row.passes++;
        row.ms += Number((t[2 * i + 1] as bigint) - (t[2 * i] as bigint)) / 1e6;
        totals.set(key, row);
      });
      p.read.unmap();
    }
    return [...totals.values()].sort((a, b) => b.ms - a.ms);
  };
}

function folderFiles(folder: string): ModelFiles {
  return {
    id: folder,
    bytes: (name) => {
      const b = readFileSync(join(folder, name));
      return Promise.resolve(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    },
  };
}

export interface ProfileResult {
  adapter: string;
  tiles: number;
  promptTokens: number;
  decodeTokens: number;
  rows: KernelTime[];
}

/** One prompt with the bench's wide image (every tile encoded), then `decodeTokens` greedy tokens, timed per kernel. */
export async function profileSmolVlm(folder: string, decodeTokens = 8): Promise<ProfileResult> {
  Object.assign(globalThis, globals);
  const entry = create([]);
  const gpu = await acquireGpu(entry);
  let phase: Phase = 'prefill';
  const collect = timestamps(gpu.device, () => phase);
  const rt = new GpuRuntime(gpu);
  const files = folderFiles(folder);
  const assets = await loadSmolVlmAssets(files);
  const file = new SafetensorsFile(await files.bytes('model.safetensors'), 'model.safetensors');
  const engine = new NativeIdefics3Engine(rt, assets.config, file);
  const encode = engine.model.encodeImages.bind(engine.model);
  engine.model.encodeImages = async (...args) => {
    phase = 'encode';
    try {
      return await encode(...args);
    } finally {
      phase = 'prefill';
    }
  };
  const chat = new SmolVlmChatModel(assets, engine, 'f32');
  const image = wideImage(0);
  const { ids, tiles } = chat.encode([{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'Describe this image in detail.' }] }], [{ ...image, channels: 4 }]);
  let logits = await engine.prefill(ids, tiles);
  phase = 'decode';
  for (let i = 0; i < decodeTokens; i++) logits = await engine.decode(argmax(logits));
  const rows = await collect();
  await engine.dispose();
  // `entry` must outlive the device: Dawn's instance goes with it.
  void entry;
  return { adapter: adapterName(gpu.report), tiles: tiles.length, promptTokens: ids.length, decodeTokens, rows };
}

/** The profile as text: per phase, its total and the kernels that take at least 1% of it. */
export function formatProfile(p: ProfileResult): string {
  const lines = [`native engine in Node on ${p.adapter}: ${p.tiles} tiles, ${p.promptTokens} prompt tokens, ${p.decodeTokens} decode tokens (GPU timestamps per pass)`];
  for (const phase of ['encode', 'prefill', 'decode'] as const) {
    const rows = p.rows.filter((r) => r.phase === phase);
    const total = rows.reduce((s, r) => s + r.ms, 0);
    const per = phase === 'encode' ? `, ${(total / p.tiles).toFixed(1)} ms per tile` : phase === 'decode' ? `, ${(total / p.decodeTokens).toFixed(2)} ms per token` : '';
    lines.push('', `${phase}: ${total.toFixed(1)} ms in ${rows.reduce((s, r) => s + r.passes, 0)} passes${per}`);
    for (const r of rows.filter((r) => r.ms >= total / 100)) {
      lines.push(`  ${r.kernel.padEnd(48)} ${String(r.passes).padStart(6)} passes ${r.ms.toFixed(1).padStart(10)} ms ${((100 * r.ms) / total).toFixed(1).padStart(5)}%`);
    }
  }
  return lines.join('\n');
}
