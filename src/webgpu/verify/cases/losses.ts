/** Check cases of the kernels at the model's head: argmax and top-k sampling, cross-entropy, the gradient norm and the AdamW step. */
import type { AdamwParams } from '../../kernels/adamw';
import { countTargets, IGNORE_INDEX } from '../../kernels/cross-entropy';
import { SUM_SQUARES_WORKGROUP } from '../../kernels/sum-squares';
import { adamwRef } from '../../reference/adamw';
import { argmaxRef } from '../../reference/argmax';
import { crossEntropyBackwardRef, crossEntropyRef } from '../../reference/cross-entropy';
import { sumSquaresIntoRef } from '../../reference/sum-squares';
import { topKRef } from '../../reference/top-k';
import { input, kernelCase, type CheckCase, type Expected } from '../check-case';
import type { SeededRandom } from '../random';
import type { HostArray } from '../run-kernel';
import { sumSquaresTolerance, tolerance } from '../tolerance';

/** Logits in [-6, 6], every third row shifted by +90 so a naive exp would overflow f32. */
export function shiftedLogits(rng: SeededRandom, n: number, v: number): Float32Array {
  const x = rng.floats(n * v, -6, 6);
  for (let r = 0; r < n; r += 3) for (let j = 0; j < v; j++) x[r * v + j] = (x[r * v + j] as number) + 90;
  return x;
}

/** Random targets with every fourth row (from the second) ignored. */
export function someIgnoredTargets(rng: SeededRandom, n: number, v: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (i % 4 === 1 ? IGNORE_INDEX : rng.int(0, v - 1)));
}

const CE = { rows: 6, vocab: 65 };
const ceInputs = (rng: SeededRandom) => [
  { data: shiftedLogits(rng, CE.rows, CE.vocab), shape: [CE.rows, CE.vocab] },
  { data: someIgnoredTargets(rng, CE.rows, CE.vocab), shape: [CE.rows] },
];

// The scale of a mean loss: one over the rows that are not ignored (4 of 6 here).
const CE_SCALE = 1 / 4;

/** Loss or gradient on the same logits and targets; sums of V exps and a log, in f32. */
function ceCase(
  kernel: 'crossEntropy' | 'crossEntropyBackward',
  what: string,
  seedOffset: number,
  out: number[],
  reference: (logits: HostArray, targets: HostArray) => Expected,
): CheckCase {
  return kernelCase<'crossEntropy' | 'crossEntropyBackward'>({
    kernel,
    label: `N=${CE.rows} V=${CE.vocab}, ${what}`,
    tolerance: tolerance('f32Reduction'),
    seed: CE.rows * 131 + CE.vocab + seedOffset,
    params: { ...CE, scale: CE_SCALE },
    build: (rng) => {
      const inputs = ceInputs(rng);
      if (countTargets(inputs[1]?.data ?? []) * CE_SCALE !== 1) throw new Error('cross-entropy case: the scale no longer matches the counted rows');
      return { inputs, outputs: [{ shape: out }] };
    },
    reference: (ins) => [reference(input(ins, 0), input(ins, 1))],
  });
}

const ADAMW: AdamwParams = { shape: [7, 5], lr: 0.05, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.1, step: 40, gradScale: 0.7 };

export const LOSS_CASES = {
  argmax: [
    kernelCase({
      kernel: 'argmax',
      label: 'N=4 V=2000',
      tolerance: tolerance('exact'),
      seed: 4 * 1000 + 2000,
      params: { rows: 4, vocab: 2000 },
      build: (rng, p) => ({ inputs: [{ data: rng.floats(p.rows * p.vocab, -5, 5), shape: [p.rows, p.vocab] }], outputs: [{ shape: [p.rows], dtype: 'i32' }] }),
      reference: (ins, p) => [argmaxRef(input(ins, 0), p.vocab)],
    }),
  ],
  topK: [
    kernelCase({
      kernel: 'topK',
      label: 'N=2 V=65 k=5',
      // Indices must match and values are copies of inputs: both exact.
      tolerance: tolerance('exact'),
      seed: 2 * 1000 + 65 + 5,
      params: { rows: 2, vocab: 65, k: 5 },
      build: (rng, p) => ({
        inputs: [{ data: rng.floats(p.rows * p.vocab, -5, 5), shape: [p.rows, p.vocab] }],
        outputs: [{ shape: [p.rows, p.k] }, { shape: [p.rows, p.k], dtype: 'i32' }],
      }),
      reference: (ins, p) => {
        const want = topKRef(input(ins, 0), p.vocab, p.k);
        return [want.values, want.indices];
      },
    }),
  ],
  crossEntropy: [ceCase('crossEntropy', 'shifted and ignored rows', 0, [CE.rows], (logits, targets) => crossEntropyRef(logits, targets, CE.vocab))],
  crossEntropyBackward: [
    ceCase('crossEntropyBackward', 'mean over counted rows', 1, [CE.rows, CE.vocab], (logits, targets) => crossEntropyBackwardRef(logits, targets, CE.vocab, CE_SCALE)),
  ],
  adamw: [
    kernelCase({
      kernel: 'adamw',
      label: 'shape [7,5], large lr and decay, clipped gradient (gradScale 0.7), resumed at step 40',
      // One f32 update step against an f64 reference that never rounds.
      tolerance: tolerance('f32Reduction'),
      seed: 35 * 17 + 40,
      params: ADAMW,
      build: (rng, p) => {
        const n = 35;
        const state = [rng.floats(n, -1, 1), rng.floats(n, -0.1, 0.1), rng.floats(n, 1e-6, 1e-2)];
        return { inputs: [{ data: rng.floats(n, -2, 2), shape: p.shape }], outputs: state.map((initial) => ({ shape: p.shape, initial })) };
      },
      reference: (ins, p, outs) => {
        const [param, m, v] = outs.map((o) => o.initial ?? []);
        const next = adamwRef(input(ins, 0), { param: param ?? [], m: m ?? [], v: v ?? [] }, p);
        return [next.param, next.m, next.v];
      },
    }),
  ],
  sumSquares: [
    kernelCase({
      kernel: 'sumSquares',
      label: 'n=1000 [8,125] added into slot 1 of 3',
      tolerance: sumSquaresTolerance(1000, SUM_SQUARES_WORKGROUP),
      seed: 1000,
      params: { n: 1000, slots: 3, slot: 1, accumulate: true },
      build: (rng) => ({
        inputs: [{ data: rng.floats(1000, -2, 2), shape: [8, 125] }],
        outputs: [{ shape: [3], initial: rng.floats(3, 0, 10) }],
      }),
      reference: (ins, p, outs) => [sumSquaresIntoRef(input(ins, 0), outs[0]?.initial ?? [], p.slot ?? 0, true)],
    }),
  ],
} satisfies Record<string, CheckCase[]>;
