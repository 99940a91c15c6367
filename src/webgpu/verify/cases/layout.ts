/** Check cases of the kernels that move values without arithmetic, and of embedding lookup. */
import { concatShape } from '../../kernels/concat';
import { im2colShape } from '../../kernels/im2col';
import { swapped } from '../../kernels/transpose';
import { avgPoolRef } from '../../reference/avg-pool';
import { concatRef } from '../../reference/concat';
import { embeddingBackwardRef, embeddingRef } from '../../reference/embedding';
import { im2colRef } from '../../reference/im2col';
import { kvAppendRef } from '../../reference/kv-append';
import { transposeRef } from '../../reference/transpose';
import { numel } from '../../tensor';
import type { EmbeddingParams } from '../../kernels/embedding';
import { input, kernelCase, type CheckCase, type Expected } from '../check-case';
import type { SeededRandom } from '../random';
import type { HostArray } from '../run-kernel';
import { tolerance, type NamedTolerance } from '../tolerance';

function randomIds(rng: SeededRandom, n: number, vocab: number): Int32Array {
  return Int32Array.from({ length: n }, () => rng.int(0, vocab - 1));
}

/** Ids [N] and a table [V, C] forward, or ids and dout [N, C] backward. */
function embeddingCase(
  kernel: 'embedding' | 'embeddingBackward',
  p: EmbeddingParams,
  note: string,
  bound: NamedTolerance,
  reference: (ids: HostArray, values: HostArray, p: EmbeddingParams) => Expected,
): CheckCase {
  const forward = kernel === 'embedding';
  const [valueRows, outRows] = forward ? [p.vocab, p.rows] : [p.rows, p.vocab];
  return kernelCase<'embedding' | 'embeddingBackward'>({
    kernel,
    label: `N=${p.rows} V=${p.vocab} C=${p.channels}${note}`,
    tolerance: bound,
    seed: (forward ? 100 : 200) + p.rows * 7 + p.vocab,
    params: p,
    build: (rng) => ({
      inputs: [
        { data: randomIds(rng, p.rows, p.vocab), shape: [p.rows] },
        { data: rng.floats(valueRows * p.channels, forward ? -2 : -1, forward ? 2 : 1), shape: [valueRows, p.channels] },
      ],
      outputs: [{ shape: [outRows, p.channels] }],
    }),
    reference: (ins) => [reference(input(ins, 0), input(ins, 1), p)],
  });
}

// Pure copies: every element must come through bit for bit, hence f32Exact.
export const LAYOUT_CASES = {
  concat: [
    kernelCase({
      kernel: 'concat',
      label: '[2,3,6] + [2,5,6] on axis 1',
      tolerance: tolerance('f32Exact'),
      seed: 36 * 31 + 60,
      params: { shapeA: [2, 3, 6], shapeB: [2, 5, 6], axis: 1 },
      build: (rng, p) => ({
        inputs: [
          { data: rng.floats(numel(p.shapeA), -3, 3), shape: p.shapeA },
          { data: rng.floats(numel(p.shapeB), 5, 9), shape: p.shapeB },
        ],
        outputs: [{ shape: concatShape(p) }],
      }),
      reference: (ins, p) => [concatRef(input(ins, 0), p.shapeA, input(ins, 1), p.shapeB, p.axis)],
    }),
  ],
  transpose: [
    kernelCase({
      kernel: 'transpose',
      label: '[2,3,5,7] swap axes 1 and 2',
      tolerance: tolerance('f32Exact'),
      seed: 213,
      params: { shape: [2, 3, 5, 7] },
      build: (rng, p) => ({ inputs: [{ data: rng.floats(numel(p.shape), -3, 3), shape: p.shape }], outputs: [{ shape: swapped(p.shape) }] }),
      reference: (ins, p) => [transposeRef(input(ins, 0), p.shape)],
    }),
  ],
  im2col: [
    kernelCase({
      kernel: 'im2col',
      label: 'B=2 Cin=3 10x9 P=3',
      tolerance: tolerance('f32Exact'),
      seed: 99,
      params: { batch: 2, channels: 3, height: 10, width: 9, patch: 3 },
      build: (rng, p) => ({
        inputs: [{ data: rng.floats(p.batch * p.channels * p.height * p.width), shape: [p.batch, p.channels, p.height, p.width] }],
        outputs: [{ shape: im2colShape(p) }],
      }),
      reference: (ins, p) => [im2colRef(input(ins, 0), p)],
    }),
  ],
  kvAppend: [
    kernelCase({
      kernel: 'kvAppend',
      label: '3 rows at 2 of a [2,6,3,7] cache',
      tolerance: tolerance('f32Exact'),
      seed: 202,
      params: { batch: 2, tNew: 3, kvHeads: 3, headDim: 7, sCap: 6, pos: 2 },
      build: (rng, p) => {
        const width = p.kvHeads * p.headDim;
        // The earlier contents must survive, so the cache starts random, not poisoned.
        const before = rng.floats(p.batch * p.sCap * width);
        return {
          inputs: [{ data: rng.floats(p.batch * p.tNew * width), shape: [p.batch, p.tNew, p.kvHeads, p.headDim] }],
          outputs: [{ shape: [p.batch, p.sCap, p.kvHeads, p.headDim], initial: before }],
        };
      },
      reference: (ins, p, outs) => [kvAppendRef(Float32Array.from(outs[0]?.initial ?? []), input(ins, 0), p.batch, p.tNew, p.kvHeads * p.headDim, p.sCap, p.pos)],
    }),
  ],
  avgPool: [
    kernelCase({
      kernel: 'avgPool',
      label: '[2,6,9,5] k=3',
      // A mean of k^2 f32 values: one rounding per add.
      tolerance: tolerance('f32Reduction'),
      seed: 65,
      params: { batch: 2, gridH: 6, gridW: 9, channels: 5, k: 3 },
      build: (rng, p) => ({
        inputs: [{ data: rng.floats(p.batch * p.gridH * p.gridW * p.channels), shape: [p.batch, p.gridH, p.gridW, p.channels] }],
        outputs: [{ shape: [p.batch, p.gridH / p.k, p.gridW / p.k, p.channels] }],
      }),
      reference: (ins, p) => [avgPoolRef(input(ins, 0), p.batch, p.gridH, p.gridW, p.channels, p.k)],
    }),
  ],
  embedding: [
    embeddingCase('embedding', { rows: 17, vocab: 130, channels: 64 }, '', tolerance('f32Exact'), (ids, weight, p) => embeddingRef(ids, weight, p.vocab, p.channels)),
  ],
  embeddingBackward: [
    // Up to ~25 ids land on one row here; the f32 sum rounds at each add.
    embeddingCase('embeddingBackward', { rows: 50, vocab: 3, channels: 13 }, ' (many ids per row)', tolerance('f32Reduction'), (ids, dout, p) =>
      embeddingBackwardRef(ids, dout, p.vocab, p.channels),
    ),
  ],
} satisfies Record<string, CheckCase[]>;
