/**
 * The golden comparison: an engine's first-step logits and greedy ids against
 * the PyTorch reference's golden.json, the same arithmetic wherever it runs
 * (vitest in Node, goldenCheck in the worker).
 */

/**
 * f32 engines agree with PyTorch to ~1e-6 of the largest logit; 1e-3 leaves
 * room for a different summation order and still catches a wrong layer.
 */
export const GOLDEN_LOGITS_REL_TOL = 1e-3;

export interface GoldenComparison {
  /** max |ours - torch| / max |torch| over golden.json's logits slice. */
  logitsRelError: number;
  greedyIds: number[];
  goldenIds: number[];
  /** The same greedy ids, all of them. */
  match: boolean;
}

/** max |got - want| / max |want| over want's elements (got may be longer: a full row against a slice). */
export function logitsRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs((got[i] as number) - (want[i] as number));
    num = Number.isNaN(d) ? Infinity : Math.max(num, d);
    den = Math.max(den, Math.abs(want[i] as number));
  }
  return num / den;
}

export function compareGolden(
  got: { logits: ArrayLike<number>; ids: readonly number[] },
  golden: { logits: readonly number[]; ids: readonly number[] },
): GoldenComparison {
  const greedyIds = Array.from(got.ids);
  const goldenIds = Array.from(golden.ids);
  return {
    logitsRelError: logitsRelError(got.logits, golden.logits),
    greedyIds,
    goldenIds,
    match: greedyIds.length === goldenIds.length && greedyIds.every((g, i) => g === goldenIds[i]),
  };
}
