import { describe, expect, it } from 'vitest';
import { PromptCache } from '../../src/models/prompt-cache';

const IMG = 9;

describe('PromptCache', () => {
  it('keeps the common prefix but never the last position', () => {
    const cache = new PromptCache(IMG);
    cache.filled(Int32Array.of(1, 2, 3), []);
    cache.appended(4);
    expect(cache.length).toBe(4);
    expect(cache.reusable(Int32Array.of(1, 2, 3, 4, 5, 6), [])).toBe(4);
    expect(cache.reusable(Int32Array.of(1, 2, 3, 4), [])).toBe(3);
    expect(cache.reusable(Int32Array.of(1, 7, 3, 4, 5), [])).toBe(1);
  });

  it('backs up to the start of an image whose key changed, and counts the images already encoded', () => {
    const cache = new PromptCache(IMG);
    const ids = Int32Array.of(1, IMG, IMG, IMG, 2, IMG, IMG, IMG, 3);
    cache.filled(ids, ['a', 'b']);
    expect(cache.reusable(Int32Array.of(...ids, 4), ['a', 'b'])).toBe(ids.length);
    expect(cache.reusable(Int32Array.of(...ids, 4), ['a', 'c'])).toBe(5);
    const short = new PromptCache(IMG);
    short.filled(Int32Array.of(1, IMG, IMG), ['a']);
    expect(short.reusable(Int32Array.of(1, IMG, IMG, IMG, 2), ['a'])).toBe(1);
    expect(cache.imagesBefore(ids, 5)).toBe(1);
    expect(cache.imagesBefore(ids, 6)).toBe(2);
    expect(cache.imagesBefore(ids, 0)).toBe(0);
  });
});
