/** The native WGSL engine behind the VlmEngine interface: one KV cache, reused across turns. */
import type { KvCache } from '../../webgpu/kv-cache';
import type { GpuRuntime } from '../../webgpu/runtime';
import type { LlavaConfig } from '../config';
import { reusablePrefix, type EngineStats, type ImageInput, type VlmEngine } from '../engine';
import type { SafetensorsFile } from '../safetensors';
import { NativeLlava } from './llava';
import type { WeightOptions } from './weights';

/** Image runs (contiguous image tokens) that start before position n. */
function imagesBefore(ids: Int32Array, n: number, imageToken: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) if (ids[i] === imageToken && (i === 0 || ids[i - 1] !== imageToken)) count++;
  return count;
}

export class NativeEngine implements VlmEngine {
  readonly kind = 'native';
  readonly contextLength: number;
  private readonly model: NativeLlava;
  private readonly cache: KvCache;
  private cachedIds: number[] = [];
  private cachedImages: string[] = [];
  private reused = 0;
  private encodeMs = 0;

  constructor(
    private readonly rt: GpuRuntime,
    config: LlavaConfig,
    file: SafetensorsFile,
    options: WeightOptions = {},
    contextLength = config.text.maxPositions,
  ) {
    this.model = new NativeLlava(rt, config, file, options);
    this.contextLength = contextLength;
    this.cache = this.model.decoder.newCache(rt, contextLength);
  }

  get reusedPositions(): number {
    return this.reused;
  }

  async prefill(ids: Int32Array, images: readonly ImageInput[]): Promise<Float32Array> {
    const imageToken = this.model.config.imageTokenIndex;
    const keys = images.map((i) => i.key);
    const keep = reusablePrefix(this.cachedIds, this.cachedImages, ids, keys, imageToken);
    this.cache.truncate(Math.min(keep, this.cache.length));
    this.reused = this.cache.length;
    const skipImages = imagesBefore(ids, this.reused, imageToken);
    const { logits, encodeMs } = await this.model.prefill(this.cache, ids.subarray(this.reused), images.slice(skipImages).map((i) => i.pixels));
    this.encodeMs = encodeMs;
    this.cachedIds = Array.from(ids);
    this.cachedImages = keys;
    return logits;
  }

  async decode(id: number): Promise<Float32Array> {
    const logits = await this.model.decodeStep(this.cache, id);
    this.cachedIds.push(id);
    return logits;
  }

  stats(): EngineStats {
    return { encodeMs: this.encodeMs, peakGpuBytes: this.model.weights.gpuBytes + this.rt.memory().peakBytes };
  }

  async dispose(): Promise<void> {
    this.cache.release();
    this.rt.trim();
  }
}
