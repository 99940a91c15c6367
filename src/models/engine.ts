/**
 * What the pipeline needs from an engine: prefill a prompt (ids with image
 * tokens already expanded, plus one pixel_values per image) and decode one
 * token at a time, both returning the logits of the last position. Both the
 * native WGSL engine and the ONNX engine implement it, so they can be compared
 * on the same prompts.
 */
/** 'transformers': @huggingface/transformers' own model classes (a ChatModel, not a VlmEngine). */
export type EngineKind = 'native' | 'onnx' | 'transformers';

export interface EngineStats {
  /** Milliseconds of the last prefill spent encoding images. */
  encodeMs: number;
  /** GPU bytes this engine allocated (weights and activations), at most, so far. */
  peakGpuBytes: number;
}

export interface VlmEngine {
  readonly kind: Exclude<EngineKind, 'transformers'>;
  /** Context positions the engine can hold. */
  readonly contextLength: number;
  /**
   * Logits [V] of the last prompt position. Positions already in the cache with
   * the same ids and images are reused (multi-turn chat), so only the new tail runs.
   * An aborted `signal` ends it between images or layers with a PrefillCancelled.
   */
  prefill(ids: Int32Array, images: readonly ImageInput[], signal?: AbortSignal): Promise<Float32Array>;
  /** Logits [V] after appending one token. */
  decode(id: number): Promise<Float32Array>;
  /** decode() for greedy search where the engine can take the argmax itself: the next id, without the logits read back. */
  decodeGreedy?(id: number): Promise<number>;
  /** How many prompt positions the last prefill reused from the cache. */
  readonly reusedPositions: number;
  stats(): EngineStats;
  dispose(): Promise<void>;
}

/** A Stop during prefill: the prompt was left half-read, the KV cache keeps only what came before it. */
export class PrefillCancelled extends Error {
  override readonly name = 'PrefillCancelled';
  constructor() {
    super('Stopped while reading the prompt.');
  }
}

export function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new PrefillCancelled();
}

export interface ImageInput {
  /** pixel_values [3, S, S]. */
  pixels: Float32Array;
  /** Identifies the image across turns (a digest of its bytes), so the cache can be reused. */
  key: string;
}

/** FNV-1a over the bytes of the pixels: equal images, equal keys. */
export function imageKey(pixels: Float32Array): string {
  const bytes = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i] as number;
    h = Math.imul(h, 0x01000193);
  }
  return `${(h >>> 0).toString(16)}-${bytes.length}`;
}
