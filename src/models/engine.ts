/**
 * What the pipeline needs from an engine: prefill a prompt (ids with image
 * tokens already expanded, plus one pixel_values per image) and decode one
 * token at a time, both returning the logits of the last position. Both the
 * native WGSL engine and the ONNX engine implement it, so they can be compared
 * on the same prompts.
 */
export type EngineKind = 'native' | 'onnx';

export interface EngineStats {
  /** Milliseconds of the last prefill spent encoding images. */
  encodeMs: number;
  /** GPU bytes this engine allocated (weights and activations), at most, so far. */
  peakGpuBytes: number;
}

export interface VlmEngine {
  readonly kind: EngineKind;
  /** Context positions the engine can hold. */
  readonly contextLength: number;
  /**
   * Logits [V] of the last prompt position. Positions already in the cache with
   * the same ids and images are reused (multi-turn chat), so only the new tail runs.
   */
  prefill(ids: Int32Array, images: readonly ImageInput[]): Promise<Float32Array>;
  /** Logits [V] after appending one token. */
  decode(id: number): Promise<Float32Array>;
  /** How many prompt positions the last prefill reused from the cache. */
  readonly reusedPositions: number;
  stats(): EngineStats;
  dispose(): Promise<void>;
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

/**
 * Positions of a new prompt that a cache holding `cachedIds` (with the image
 * keys of its image-token runs) can keep: the common prefix, cut back to the
 * start of any image whose key differs, and never the whole prompt (the last
 * position must run to produce logits).
 */
export function reusablePrefix(
  cachedIds: readonly number[],
  cachedImages: readonly string[],
  ids: Int32Array,
  images: readonly string[],
  imageToken: number,
): number {
  let n = 0;
  let imageIndex = 0;
  const limit = Math.min(cachedIds.length, ids.length - 1);
  while (n < limit && cachedIds[n] === ids[n]) {
    if (ids[n] === imageToken && (n === 0 || ids[n - 1] !== imageToken)) {
      if (cachedImages[imageIndex] !== images[imageIndex]) break;
      imageIndex++;
    }
    n++;
  }
  // A cut inside an image's token run would split its features: back up to its start.
  while (n > 0 && n < ids.length && ids[n] === imageToken && ids[n - 1] === imageToken) n--;
  return n;
}
