/**
 * CPU twins of kernels/cross-entropy.wgsl in f64: per-row loss and the
 * gradient (softmax - onehot) * scale. Ignored rows (target -100) give 0;
 * other out-of-range targets give NaN, as on the GPU.
 */
import { IGNORE_INDEX } from '../kernels/cross-entropy';

function validTarget(t: number, vocab: number): boolean {
  return Number.isInteger(t) && t >= 0 && t < vocab;
}

/** Max and log-sum-exp of one row, shifted by the max so nothing overflows. */
function rowLogSumExp(logits: ArrayLike<number>, base: number, vocab: number): number {
  let m = -Infinity;
  for (let j = 0; j < vocab; j++) m = Math.max(m, logits[base + j] as number);
  let s = 0;
  for (let j = 0; j < vocab; j++) s += Math.exp((logits[base + j] as number) - m);
  return m + Math.log(s);
}

/** loss [N] from logits [N, V] and targets [N]. */
export function crossEntropyRef(logits: ArrayLike<number>, targets: ArrayLike<number>, vocab: number): Float64Array {
  const loss = new Float64Array(targets.length);
  for (let n = 0; n < targets.length; n++) {
    const t = targets[n] as number;
    if (t === IGNORE_INDEX) continue;
    if (!validTarget(t, vocab)) {
      loss[n] = NaN;
      continue;
    }
    loss[n] = rowLogSumExp(logits, n * vocab, vocab) - (logits[n * vocab + t] as number);
  }
  return loss;
}

/** dlogits [N, V] = (softmax(logits) - onehot(targets)) * scale. */
export function crossEntropyBackwardRef(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  vocab: number,
  scale: number,
): Float64Array {
  const grad = new Float64Array(targets.length * vocab);
  for (let n = 0; n < targets.length; n++) {
    const t = targets[n] as number;
    const base = n * vocab;
    if (t === IGNORE_INDEX) continue;
    if (!validTarget(t, vocab)) {
      grad.fill(NaN, base, base + vocab);
      continue;
    }
    const lse = rowLogSumExp(logits, base, vocab);
    for (let j = 0; j < vocab; j++) {
      const p = Math.exp((logits[base + j] as number) - lse);
      grad[base + j] = (p - (j === t ? 1 : 0)) * scale;
    }
  }
  return grad;
}
