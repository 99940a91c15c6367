/**
 * Named tolerances for |got - want| / (1 + |want|), per dtype and kind of
 * computation. Every comparison of a kernel with its CPU twin (the tests, the
 * GPU check view) names one of these, so a loosened bound shows in one place.
 */
export const TOLERANCE = {
  /** Indices (argmax, top-k): any difference is a wrong answer, not rounding. */
  exact: 0,
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
  /** Attention forward: f32 dot products over D plus an exp/normalise, a few ulps times D. */
  f32Attention: 2e-5,
  /** Attention backward: gradients sum many f32 products over S and the head group. */
  f32AttentionGrad: 5e-5,
} as const;

export type ToleranceName = keyof typeof TOLERANCE;

const F32_UNIT_ROUNDOFF = 2 ** -24;

/**
 * Tolerances for matmuls with inputs uniform in [-1, 1].
 *
 * f32(K): a sum of K products in f32 is off by at most gamma_K * sum|x_k w_k|
 * <= K^2 u (Higham, Accuracy and Stability, eq. 3.5), for any summation
 * order, so vec4 dots and tiles are covered too. That worst case assumes every
 * rounding goes the same way; independent roundings grow like sqrt(K) instead
 * (Higham 3.4 rule of thumb), giving K^1.5 u, which still sits above the
 * errors seen here. The floor covers the epilogue: the bias or residual add
 * rounds once more and WGSL's exp/tanh are allowed a few ulps.
 *
 * f16Output: the f16 kernels accumulate in f32 (products of two f16 values are
 * exact in f32) and round Y once to f16, a relative error of 2^-11.
 */
export const MATMUL_TOLERANCE = {
  f32: (k: number): number => Math.max(4e-6, k ** 1.5 * F32_UNIT_ROUNDOFF),
  f16Output: 2 ** -11,
} as const;

/** A bound with the name a report prints beside it. */
export interface NamedTolerance {
  name: string;
  value: number;
}

export function tolerance(name: ToleranceName): NamedTolerance {
  return { name, value: TOLERANCE[name] };
}

/** An f32 sum of `terms` products (matmul forward and backward). */
export function sumTolerance(terms: number): NamedTolerance {
  return { name: `f32 sum of ${terms}`, value: MATMUL_TOLERANCE.f32(terms) };
}

/**
 * sum-squares over n values: every term is >= 0, so nothing cancels and the
 * error is relative to the total. Each square rounds once, each invocation's
 * chain of ceil(n / width) adds rounds once per add, and the tree adds
 * log2(width) more, one more for an accumulate: (chain + depth + 2) u bounds
 * it (Higham 4.2 on positive terms), far below the K^1.5 u of a signed sum.
 */
export function sumSquaresTolerance(n: number, width: number): NamedTolerance {
  const value = (Math.ceil(n / width) + Math.log2(width) + 2) * F32_UNIT_ROUNDOFF;
  return { name: `f32 sum of ${n} squares`, value };
}
