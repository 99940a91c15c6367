/**
 * What an engine's KV cache holds, in prompt terms: the ids it was filled
 * with and the keys of the images among them. Both engines keep one, so a
 * follow-up turn that repeats the conversation runs only its new tail.
 */

/** Is position i the first token of an image's run of image tokens? */
function startsImage(ids: ArrayLike<number>, i: number, imageToken: number): boolean {
  return ids[i] === imageToken && (i === 0 || ids[i - 1] !== imageToken);
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
    if (startsImage(ids, n, imageToken)) {
      if (cachedImages[imageIndex] !== images[imageIndex]) break;
      imageIndex++;
    }
    n++;
  }
  // A cut inside an image's token run would split its features: back up to its start.
  while (n > 0 && n < ids.length && ids[n] === imageToken && ids[n - 1] === imageToken) n--;
  return n;
}

export class PromptCache {
  private ids: number[] = [];
  private images: string[] = [];

  constructor(private readonly imageToken: number) {}

  /** Positions the cache holds (prompt and generated tokens). */
  get length(): number {
    return this.ids.length;
  }

  /** How many leading positions of `ids` (with these image keys) the cache can keep. */
  reusable(ids: Int32Array, imageKeys: readonly string[]): number {
    return reusablePrefix(this.ids, this.images, ids, imageKeys, this.imageToken);
  }

  /** Images whose token runs start before position n: those already encoded into the kept prefix. */
  imagesBefore(ids: Int32Array, n: number): number {
    let count = 0;
    for (let i = 0; i < n; i++) if (startsImage(ids, i, this.imageToken)) count++;
    return count;
  }

  /** After a prefill: the cache now holds exactly this prompt. */
  filled(ids: Int32Array, imageKeys: readonly string[]): void {
    this.ids = Array.from(ids);
    this.images = [...imageKeys];
  }

  /** After a decode step: one more position. */
  appended(id: number): void {
    this.ids.push(id);
  }
}
