/** Element-wise comparison of a result with its reference that reports the worst element. */

export interface Worst {
  /** Index of the worst element; -1 for a length mismatch. */
  index: number;
  got: number;
  want: number;
  /** Its error in the chosen measure (relative to 1 + |want| unless asked for absolute). */
  absError: number;
}

/**
 * relative: |got - want| / (1 + |want|), which reads as an absolute error for
 * values below 1 and a relative one above; absolute: |got - want|.
 */
export type ErrorMeasure = 'relative' | 'absolute';

/** The worst element; NaN (a poisoned element never written) or a length mismatch counts as infinite. */
export function worstElement(got: ArrayLike<number>, want: ArrayLike<number>, measure: ErrorMeasure = 'relative'): Worst {
  if (got.length !== want.length) return { index: -1, got: NaN, want: NaN, absError: Infinity };
  let worst: Worst = { index: -1, got: 0, want: 0, absError: 0 };
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as number;
    const w = want[i] as number;
    const e = measure === 'relative' ? Math.abs(g - w) / (1 + Math.abs(w)) : Math.abs(g - w);
    // NaN > x is false, so NaN must be mapped before the comparison.
    const err = Number.isNaN(e) ? Infinity : e;
    if (err > worst.absError || worst.index < 0) worst = { index: i, got: g, want: w, absError: err };
  }
  return worst;
}

/** The worse of several comparisons (a kernel with several outputs). */
export function worstOf(worsts: readonly Worst[]): Worst {
  return worsts.reduce((a, b) => (b.absError > a.absError ? b : a), { index: -1, got: 0, want: 0, absError: 0 });
}

export function describeWorst(label: string, w: Worst): string {
  return `${label}: worst element ${w.index} got ${w.got} want ${w.want} (error ${w.absError.toExponential(2)})`;
}
