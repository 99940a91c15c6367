/**
 * Continuing a conversation from transformers.js' past_key_values. generate()
 * returns them with return_dict_in_generate; passed back with the full prompt
 * ids, its prepare step feeds only the ids past the cache, and its forward
 * merges image features into that tail. So a follow-up turn can reuse every
 * cached position that still matches, as long as the images in the tail are
 * given alone (their features must match the tail's image tokens).
 *
 * What it cannot do: cut a cache held on the GPU back to a shorter prefix
 * (its tensors are GPU buffers; slicing reads CPU data), so a conversation
 * that changed inside the cached part is recomputed there.
 */
import { DynamicCache, type Tensor } from '@huggingface/transformers';
import { reusablePrefix } from '../prompt-cache';

/** What the cache holds after a turn: the ids of its positions and one image key per image-token run among them. */
export interface HeldCache {
  ids: number[];
  runKeys: string[];
  pkv: DynamicCache;
}

export interface ReusePlan {
  /** Prompt positions taken from the cache (0: the whole prompt runs). */
  reused: number;
  /** The cache to continue from, cut to `reused` positions; null when nothing is reused. */
  pkv: DynamicCache | null;
  /** Indices of the images whose tokens lie in the part that runs. */
  tailImages: number[];
  /** Set when a cache existed but could not be used: why. */
  reason?: string;
}

/** Each image's span in `ids`: from its first image-token run's start to its last run's end. */
export function imageSpans(ids: readonly number[], imageTokenId: number, imageRuns: readonly number[]): { start: number; end: number }[] {
  const runs: { start: number; end: number }[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] !== imageTokenId) continue;
    const start = i;
    while (i + 1 < ids.length && ids[i + 1] === imageTokenId) i++;
    runs.push({ start, end: i + 1 });
  }
  const spans: { start: number; end: number }[] = [];
  let r = 0;
  for (const count of imageRuns) {
    const first = runs[r];
    const last = runs[r + count - 1];
    if (!first || !last) throw new Error(`the prompt has ${runs.length} image-token runs, fewer than its images need`);
    spans.push({ start: first.start, end: last.end });
    r += count;
  }
  return spans;
}

export function runKeysOf(imageRuns: readonly number[], keys: readonly string[]): string[] {
  return imageRuns.flatMap((n, i) => Array.from({ length: n }, () => keys[i] ?? ''));
}

function onCpu(pkv: DynamicCache): boolean {
  return Object.values(pkv as Record<string, Tensor>).every((t) => t.location === 'cpu');
}

/** The first `n` positions of a CPU cache (dims [B, heads, positions, head_dim]). */
function cropCache(pkv: DynamicCache, n: number): DynamicCache {
  const entries: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(pkv as Record<string, Tensor>)) entries[name] = t.slice(null, null, [0, n], null);
  return new DynamicCache(entries);
}

/**
 * How much of `held` a prompt can reuse: the common prefix of ids with the
 * same images, never the whole prompt, and never splitting an image's runs.
 */
export async function planReuse(held: HeldCache | null, ids: readonly number[], keys: readonly string[], imageTokenId: number | null, imageRuns: readonly number[]): Promise<ReusePlan> {
  const all = imageRuns.map((_, i) => i);
  if (!held) return { reused: 0, pkv: null, tailImages: all };
  const token = imageTokenId ?? -1;
  let n = reusablePrefix(held.ids, held.runKeys, Int32Array.from(ids), runKeysOf(imageRuns, keys), token);
  const spans = imageTokenId === null ? [] : imageSpans(ids, imageTokenId, imageRuns);
  for (const s of spans) if (s.start < n && n < s.end) n = s.start;
  if (n === 0) {
    await held.pkv.dispose();
    return { reused: 0, pkv: null, tailImages: all, reason: 'the conversation changed before anything the cache held' };
  }
  let pkv = held.pkv;
  if (n < held.ids.length) {
    if (!onCpu(pkv)) {
      await pkv.dispose();
      return { reused: 0, pkv: null, tailImages: all, reason: 'the conversation changed inside the cached part, and a cache held on the GPU cannot be cut back' };
    }
    pkv = cropCache(pkv, n);
  }
  return { reused: n, pkv, tailImages: spans.flatMap((s, i) => (s.start >= n ? [i] : [])) };
}
