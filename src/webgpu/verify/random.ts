/**
 * What seeded input builders draw from. The caller passes a generator in
 * (src/data's Rng is one) so that this layer imports nothing above it and
 * every check sees the same numbers in Node and in every browser.
 */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number;
  /** n floats uniform in [lo, hi) with no exact zeros. */
  floats(n: number, lo?: number, hi?: number): Float32Array;
}

export type RandomSource = (seed: number) => SeededRandom;
