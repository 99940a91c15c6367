/**
 * A native model behind the VlmEngine interface: one KV cache reused across
 * turns, the prompt cache deciding how much of it a new prompt keeps (each
 * image input's run of image tokens is keyed by the input), and dispose
 * giving back every GPU buffer the model owned. An adapter attached,
 * detached or merged drops the cached prompt, computed with other weights.
 * The cache holds what the turn needs, not contextLength positions: a prompt
 * reserves its length plus DECODE_ROOM, decode grows it by CACHE_STEP rows
 * when it fills, never past contextLength.
 */
import type { KvCache } from '../../webgpu/kv-cache';
import type { GpuRuntime } from '../../webgpu/runtime';
import type { EngineStats, ImageInput, VlmEngine } from '../engine';
import type { LoraAdapterData } from '../lora/types';
import { PromptCache } from '../prompt-cache';
import type { LlamaDecoder } from './llama-decoder';
import type { AdapterHost } from './lora-adapter';
import type { NativeVlm } from './vlm-generation';

/** Rows reserved past a prompt for its reply (the chat's default token budget). */
export const DECODE_ROOM = 128;
/** The cache's capacity is a multiple of this, and grows by it when decode fills it. */
export const CACHE_STEP = 256;

/** What the engine needs of a model: NativeVlm's generation steps (prefill from the engine's image inputs), its weights and adapters. */
export type EngineModel = Pick<NativeVlm, 'prefillInputs' | 'decodeStep' | 'decodeArgmax' | 'imageTokenId' | 'release'> &
  AdapterHost & {
    readonly decoder: LlamaDecoder;
    readonly weights: { readonly gpuBytes: number };
  };

export class NativeVlmEngine<M extends EngineModel> implements VlmEngine {
  readonly kind = 'native';
  protected readonly cache: KvCache;
  private readonly prompt: PromptCache;
  private reused = 0;
  private encodeMs = 0;

  constructor(
    protected readonly rt: GpuRuntime,
    readonly model: M,
    readonly contextLength: number,
  ) {
    this.cache = model.decoder.newCache(rt, Math.min(contextLength, CACHE_STEP));
    this.prompt = new PromptCache(model.imageTokenId);
  }

  get reusedPositions(): number {
    return this.reused;
  }

  async prefill(ids: Int32Array, images: readonly ImageInput[], signal?: AbortSignal): Promise<Float32Array> {
    const keys = images.map((i) => i.key);
    this.cache.truncate(Math.min(this.prompt.reusable(ids, keys), this.cache.length));
    this.reused = this.cache.length;
    this.reserve(ids.length + DECODE_ROOM);
    const skip = this.prompt.imagesBefore(ids, this.reused);
    const { logits, encodeMs } = await this.model.prefillInputs(this.cache, ids.subarray(this.reused), images.slice(skip), signal);
    this.encodeMs = encodeMs;
    this.prompt.filled(ids, keys);
    return logits;
  }

  async decode(id: number): Promise<Float32Array> {
    this.reserve(this.cache.length + 1);
    const logits = await this.model.decodeStep(this.cache, id);
    this.prompt.appended(id);
    return logits;
  }

  /** decode() for greedy search: the argmax is taken on the GPU and only the id (4 bytes) is read back. */
  async decodeGreedy(id: number): Promise<number> {
    this.reserve(this.cache.length + 1);
    const next = await this.model.decodeArgmax(this.cache, id);
    this.prompt.appended(id);
    return next;
  }

  /** KV cache rows allocated now (the capacity follows the requests, up to contextLength). */
  get cacheCapacity(): number {
    return this.cache.shape.capacity;
  }

  /** Grow the cache to hold `positions` rows, in whole CACHE_STEPs, at most contextLength (a longer prompt is refused by the cache). */
  private reserve(positions: number): void {
    if (positions <= this.cache.shape.capacity) return;
    this.cache.reserve(Math.min(this.contextLength, Math.ceil(positions / CACHE_STEP) * CACHE_STEP));
  }

  /** Forgets the prompt in the KV cache: it was computed with weights that changed (an adapter attached, removed or merged). */
  forgetPrompt(): void {
    this.cache.truncate(0);
  }

  /** Attach an adapter unmerged, or detach it with null; the cached prompt no longer matches, so it is dropped. */
  setAdapter(adapter: LoraAdapterData | null): void {
    this.model.setAdapter(adapter);
    this.forgetPrompt();
  }

  /** Fold an adapter into the weights (it stays until the model is reloaded); the cached prompt is dropped. */
  async mergeAdapter(adapter: LoraAdapterData): Promise<void> {
    try {
      await this.model.mergeAdapter(adapter);
    } finally {
      this.forgetPrompt();
    }
  }

  stats(): EngineStats {
    return { encodeMs: this.encodeMs, peakGpuBytes: this.model.weights.gpuBytes + this.rt.memory().peakBytes };
  }

  /**
   * Gives back every GPU buffer the model owned (weights, constants, KV cache)
   * and destroys the pool's free ones, so GPU bytes held fall back to what
   * they were before the load.
   */
  async dispose(): Promise<void> {
    this.rt.discardStep();
    this.cache.release();
    this.model.release();
    this.rt.trim();
  }
}
