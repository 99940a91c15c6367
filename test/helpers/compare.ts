/** Named tolerances per dtype and an element-wise comparison that reports the worst element. */
export const TOLERANCE = {
  /** Elementwise f32 ops round once on both sides. */
  f32Exact: 1e-6,
  /**
   * Sums of up to ~1e4 f32 terms, log-sum-exp, or a few chained f32 update
   * steps: each add or exp/log rounds, so the error grows with the term count
   * while the f64 reference does not round at all.
   */
  f32Reduction: 1e-5,
  /**
   * Pointwise ops built from a few exp builtins and polynomial approximations
   * (sigmoid, GELU's erfc at 1.2e-7): several roundings, each builtin a few
   * ulp. Worst seen on SwiftShader is 1.2e-7; WGSL lets exp be looser still.
   */
  f32Transcendental: 1e-6,
  /**
   * Relative error of a value like e^-k for k up to ~40, read as got / want - 1:
   * rounding k to f32 moves the result by k * 6e-8 relative (~2.4e-6 at k = 40),
   * and an absolute bound could not see this at all.
   */
  f32TailRatio: 2e-5,
  /**
   * RoPE at positions below 128 against exact angles: the kernel, like HF,
   * forms the angle in f32, which rounds it by up to |angle| * 6e-8 (7.6e-6 rad
   * at 128); that times |x| <= 2 dominates the ~1e-7 of its own sin/cos.
   */
  f32Rope: 2e-5,
  /**
   * RoPE at positions up to 131071: the same f32 angle rounding reaches
   * 7.8e-3 rad there, in HF too, so this only guards indexing and the
   * reduction of huge angles; inverse-frequency accuracy has its own ulp test.
   */
  f32RopeLongContext: 1e-2,
} as const;

export interface Worst {
  index: number;
  got: number;
  want: number;
  absError: number;
}

/** Worst |got - want| / (1 + |want|); NaN or a length mismatch counts as infinite. */
export function worstElement(got: ArrayLike<number>, want: ArrayLike<number>): Worst {
  if (got.length !== want.length) return { index: -1, got: NaN, want: NaN, absError: Infinity };
  let worst: Worst = { index: -1, got: 0, want: 0, absError: 0 };
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as number;
    const w = want[i] as number;
    const e = Math.abs(g - w) / (1 + Math.abs(w));
    const err = Number.isNaN(e) ? Infinity : e;
    if (err > worst.absError || worst.index < 0) worst = { index: i, got: g, want: w, absError: err };
  }
  return worst;
}

export function describeWorst(label: string, w: Worst): string {
  return `${label}: worst element ${w.index} got ${w.got} want ${w.want} (error ${w.absError.toExponential(2)})`;
}
