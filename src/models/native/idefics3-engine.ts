/**
 * The native WGSL engine for Idefics3 (SmolVLM) behind the VlmEngine
 * interface, as NativeEngine is for LLaVA: one KV cache reused across turns.
 * An ImageInput here is one tile (a crop or the global view): each tile's
 * run of image tokens is what the prompt cache keys and skips.
 */
import type { KvCache } from '../../webgpu/kv-cache';
import type { GpuRuntime } from '../../webgpu/runtime';
import type { Idefics3Config } from '../config';
import type { EngineStats, ImageInput, VlmEngine } from '../engine';
import { PromptCache } from '../prompt-cache';
import type { SafetensorsFile } from '../safetensors';
import { NativeIdefics3 } from './idefics3';
import type { WeightOptions } from './weights';

export class NativeIdefics3Engine implements VlmEngine {
  readonly kind = 'native';
  readonly contextLength: number;
  readonly model: NativeIdefics3;
  private readonly cache: KvCache;
  private readonly prompt: PromptCache;
  private reused = 0;
  private encodeMs = 0;

  constructor(
    private readonly rt: GpuRuntime,
    config: Idefics3Config,
    file: SafetensorsFile,
    options: WeightOptions = {},
    contextLength = config.text.maxPositions,
  ) {
    this.model = new NativeIdefics3(rt, config, file, options);
    this.contextLength = contextLength;
    this.cache = this.model.decoder.newCache(rt, contextLength);
    this.prompt = new PromptCache(config.imageTokenId);
  }

  get reusedPositions(): number {
    return this.reused;
  }

  async prefill(ids: Int32Array, tiles: readonly ImageInput[], signal?: AbortSignal): Promise<Float32Array> {
    const keys = tiles.map((t) => t.key);
    this.cache.truncate(Math.min(this.prompt.reusable(ids, keys), this.cache.length));
    this.reused = this.cache.length;
    const skip = this.prompt.imagesBefore(ids, this.reused);
    const { logits, encodeMs } = await this.model.prefill(this.cache, ids.subarray(this.reused), tiles.slice(skip).map((t) => t.pixels), signal);
    this.encodeMs = encodeMs;
    this.prompt.filled(ids, keys);
    return logits;
  }

  async decode(id: number): Promise<Float32Array> {
    const logits = await this.model.decodeStep(this.cache, id);
    this.prompt.appended(id);
    return logits;
  }

  stats(): EngineStats {
    return { encodeMs: this.encodeMs, peakGpuBytes: this.model.weights.gpuBytes + this.rt.memory().peakBytes };
  }

  /** Gives back every GPU buffer the model owned (weights, constants, KV cache) and trims the pool. */
  async dispose(): Promise<void> {
    this.rt.discardStep();
    this.cache.release();
    this.model.release();
    this.rt.trim();
  }
}
