/**
 * Seeded pseudo-random numbers (mulberry32). Same seed, same sequence, in Node
 * and in every browser: the data generator, the evals and the tests all draw
 * from this so their outputs are reproducible byte for byte.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** n floats uniform in [lo, hi), with no exact zeros so a kernel that ignores an input cannot pass by luck. */
  floats(n: number, lo = -1, hi = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let v = this.uniform(lo, hi);
      if (v === 0) v = (hi - lo) / 1024;
      out[i] = v;
    }
    return out;
  }
}
