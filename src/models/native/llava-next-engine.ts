/**
 * The native WGSL engine for LLaVA-NeXT (llava_next) behind the VlmEngine
 * interface, as NativeEngine is for LLaVA: one KV cache reused across turns.
 * An image here is one ImageInput carrying all its views and its size (its
 * prompt tokens are one contiguous run, which the prompt cache keys and skips).
 */
import type { KvCache } from '../../webgpu/kv-cache';
import type { GpuRuntime } from '../../webgpu/runtime';
import type { Size } from '../anyres';
import type { LlavaConfig } from '../config';
import { imageKey, type EngineStats, type ImageInput, type VlmEngine } from '../engine';
import type { LoraAdapterData } from '../lora/types';
import { PromptCache } from '../prompt-cache';
import type { SafetensorsFile } from '../safetensors';
import { NativeLlavaNext } from './llava-next';
import type { WeightOptions } from './weights';

/** An image as this engine takes it: pixels is the global view, views all of them (global first). */
export interface AnyresImageInput extends ImageInput {
  views: readonly Float32Array[];
  size: Size;
}

/** The engine's input for one processed image; the key covers every view and the size. */
export function anyresInput(views: readonly Float32Array[], size: Size): AnyresImageInput {
  const all = new Float32Array(views.reduce((n, v) => n + v.length, 0) + 2);
  let at = 0;
  for (const v of views) {
    all.set(v, at);
    at += v.length;
  }
  all.set(size, at);
  return { pixels: views[0] ?? new Float32Array(0), views, size, key: imageKey(all) };
}

function asAnyres(image: ImageInput): AnyresImageInput {
  const views = (image as Partial<AnyresImageInput>).views;
  const size = (image as Partial<AnyresImageInput>).size;
  if (!views || !size) throw new RangeError('a llava_next image needs its AnyRes views and size (see anyresInput)');
  return image as AnyresImageInput;
}

export class NativeLlavaNextEngine implements VlmEngine {
  readonly kind = 'native';
  readonly contextLength: number;
  readonly model: NativeLlavaNext;
  private readonly cache: KvCache;
  private readonly prompt: PromptCache;
  private reused = 0;
  private encodeMs = 0;

  constructor(
    private readonly rt: GpuRuntime,
    config: LlavaConfig,
    file: SafetensorsFile,
    options: WeightOptions = {},
    contextLength = config.text.maxPositions,
  ) {
    this.model = new NativeLlavaNext(rt, config, file, options);
    this.contextLength = contextLength;
    this.cache = this.model.decoder.newCache(rt, contextLength);
    this.prompt = new PromptCache(config.imageTokenIndex);
  }

  get reusedPositions(): number {
    return this.reused;
  }

  async prefill(ids: Int32Array, images: readonly ImageInput[], signal?: AbortSignal): Promise<Float32Array> {
    const anyres = images.map(asAnyres);
    const keys = anyres.map((i) => i.key);
    this.cache.truncate(Math.min(this.prompt.reusable(ids, keys), this.cache.length));
    this.reused = this.cache.length;
    const skip = this.prompt.imagesBefore(ids, this.reused);
    const { logits, encodeMs } = await this.model.prefill(this.cache, ids.subarray(this.reused), anyres.slice(skip), signal);
    this.encodeMs = encodeMs;
    this.prompt.filled(ids, keys);
    return logits;
  }

  async decode(id: number): Promise<Float32Array> {
    const logits = await this.model.decodeStep(this.cache, id);
    this.prompt.appended(id);
    return logits;
  }

  /** Attach a LoRA adapter to the LLaVA parts unmerged, or detach it with null; the cached prompt, computed without it, is dropped. */
  setAdapter(adapter: LoraAdapterData | null): void {
    this.model.llava.setAdapter(adapter);
    this.cache.truncate(0);
  }

  /** Fold an adapter into the weights (it stays until the model is reloaded); the cached prompt is dropped. */
  async mergeAdapter(adapter: LoraAdapterData): Promise<void> {
    try {
      await this.model.llava.mergeAdapter(adapter);
    } finally {
      this.cache.truncate(0);
    }
  }

  stats(): EngineStats {
    return { encodeMs: this.encodeMs, peakGpuBytes: this.model.llava.weights.gpuBytes + this.rt.memory().peakBytes };
  }

  /** Gives back every GPU buffer the model owned (weights, constants, KV cache) and trims the pool. */
  async dispose(): Promise<void> {
    this.rt.discardStep();
    this.cache.release();
    this.model.release();
    this.rt.trim();
  }
}
