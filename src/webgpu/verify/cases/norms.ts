/** Check cases of the row-wise kernels: RMSNorm, LayerNorm and softmax, forward and backward, and RoPE. */
import type { NormParams } from '../../kernels/norm-params';
import { layerNormBackwardRef, layerNormRef, layerNormStatsRef } from '../../reference/layer-norm';
import { rmsNormBackwardRef, rmsNormRef, rmsNormRstdRef } from '../../reference/rms-norm';
import { ropeBackwardRef, ropeRef } from '../../reference/rope';
import { softmaxBackwardRef, softmaxRef } from '../../reference/softmax';
import { input, kernelCase, type CheckCase } from '../check-case';
import type { SeededRandom } from '../random';
import { tolerance } from '../tolerance';

// Past one 64-wide workgroup and not a multiple of 4.
const NORM: NormParams = { rows: 5, cols: 130, eps: 1e-5 };
const LABEL = `N=${NORM.rows} C=${NORM.cols}`;
const rowsShape = [NORM.rows, NORM.cols];
const colsShape = [NORM.cols];
// Sums over C in f32 against an f64 reference.
const SUMS = tolerance('f32Reduction');

const x = (rng: SeededRandom) => ({ data: rng.floats(NORM.rows * NORM.cols, -2, 2), shape: rowsShape });
const weight = (rng: SeededRandom) => ({ data: rng.floats(NORM.cols, -1.5, 1.5), shape: colsShape });
const dy = (rng: SeededRandom) => ({ data: rng.floats(NORM.rows * NORM.cols, -1, 1), shape: rowsShape });
const ones = new Float32Array(NORM.cols).fill(1);

type NormKernel = 'rmsNorm' | 'rmsNormBackward' | 'rmsNormWeightGrad' | 'layerNorm' | 'layerNormBackward' | 'layerNormParamGrad';

const normCase = (
  kernel: NormKernel,
  seed: number,
  build: (rng: SeededRandom) => { data: Float32Array; shape: number[] }[],
  outputs: number[][],
  reference: (ins: Float32Array[]) => ArrayLike<number>[],
): CheckCase =>
  kernelCase<NormKernel>({
    kernel,
    label: LABEL,
    tolerance: SUMS,
    seed,
    params: NORM,
    build: (rng) => ({ inputs: build(rng), outputs: outputs.map((shape) => ({ shape })) }),
    reference: (ins) => reference(ins as Float32Array[]),
  });

const { rows, cols, eps } = NORM;
const at = (ins: Float32Array[], i: number) => input(ins, i) as Float32Array;

export const NORM_CASES = {
  rmsNorm: [normCase('rmsNorm', 630, (r) => [x(r), weight(r)], [rowsShape], (ins) => [rmsNormRef(at(ins, 0), at(ins, 1), rows, cols, eps)])],
  rmsNormBackward: [
    normCase('rmsNormBackward', 730, (r) => [x(r), weight(r), dy(r)], [rowsShape, [rows]], (ins) => {
      const want = rmsNormBackwardRef(at(ins, 0), at(ins, 1), at(ins, 2), rows, cols, eps);
      return [want.dx, rmsNormRstdRef(at(ins, 0), rows, cols, eps)];
    }),
  ],
  rmsNormWeightGrad: [
    normCase(
      'rmsNormWeightGrad',
      830,
      (r) => {
        const [xs, dys] = [x(r), dy(r)];
        return [xs, dys, { data: Float32Array.from(rmsNormRstdRef(xs.data, rows, cols, eps)), shape: [rows] }];
      },
      [colsShape],
      (ins) => [rmsNormBackwardRef(at(ins, 0), ones, at(ins, 1), rows, cols, eps).dweight],
    ),
  ],
  layerNorm: [
    normCase('layerNorm', 631, (r) => [x(r), weight(r), { data: r.floats(cols, -0.5, 0.5), shape: colsShape }], [rowsShape], (ins) => [
      layerNormRef(at(ins, 0), at(ins, 1), at(ins, 2), rows, cols, eps),
    ]),
  ],
  layerNormBackward: [
    normCase('layerNormBackward', 731, (r) => [x(r), weight(r), dy(r)], [rowsShape, [rows, 2]], (ins) => [
      layerNormBackwardRef(at(ins, 0), at(ins, 1), at(ins, 2), rows, cols, eps).dx,
      layerNormStatsRef(at(ins, 0), rows, cols, eps),
    ]),
  ],
  layerNormParamGrad: [
    normCase(
      'layerNormParamGrad',
      831,
      (r) => {
        const [xs, dys] = [x(r), dy(r)];
        return [xs, dys, { data: Float32Array.from(layerNormStatsRef(xs.data, rows, cols, eps)), shape: [rows, 2] }];
      },
      [colsShape, colsShape],
      (ins) => {
        // dweight and dbias do not depend on the weight itself.
        const want = layerNormBackwardRef(at(ins, 0), ones, at(ins, 1), rows, cols, eps);
        return [want.dweight, want.dbias];
      },
    ),
  ],
  softmax: [
    kernelCase({
      kernel: 'softmax',
      label: LABEL,
      tolerance: SUMS,
      seed: 100 * rows + cols,
      params: { rows, cols },
      build: (rng) => ({ inputs: [{ data: rng.floats(rows * cols, -4, 4), shape: rowsShape }], outputs: [{ shape: rowsShape }] }),
      reference: (ins) => [softmaxRef(input(ins, 0), rows, cols)],
    }),
  ],
  softmaxBackward: [
    kernelCase({
      kernel: 'softmaxBackward',
      label: `${LABEL}, from the forward's y`,
      tolerance: SUMS,
      seed: 100 * rows + cols + 1,
      params: { rows, cols },
      build: (rng) => ({
        inputs: [{ data: Float32Array.from(softmaxRef(rng.floats(rows * cols, -4, 4), rows, cols)), shape: rowsShape }, dy(rng)],
        outputs: [{ shape: rowsShape }],
      }),
      reference: (ins) => [softmaxBackwardRef(input(ins, 0), input(ins, 1), rows, cols)],
    }),
  ],
  ...ropeCases(),
} satisfies Record<string, CheckCase[]>;

/** [B, T, H, D] = [2, 5, 3, 6]: D/2 odd, positions below 128 (see f32Rope). */
function ropeCases() {
  const p = { batch: 2, seq: 5, heads: 3, headDim: 6, theta: 10_000 };
  const shape = [p.batch, p.seq, p.heads, p.headDim];
  const build = (rng: SeededRandom) => ({
    inputs: [
      { data: rng.floats(shape.reduce((a, b) => a * b, 1), -2, 2), shape },
      { data: Int32Array.from({ length: p.batch * p.seq }, () => rng.int(0, 100)), shape: [p.batch, p.seq] },
    ],
    outputs: [{ shape }],
  });
  const common = { label: `[B,T,H,D]=[${shape.join(',')}]`, tolerance: tolerance('f32Rope'), params: p, build };
  return {
    rope: [
      kernelCase({ kernel: 'rope', seed: 41, ...common, reference: (ins) => [ropeRef(input(ins, 0), input(ins, 1), p)] }),
      kernelCase({
        kernel: 'rope',
        seed: 43,
        ...common,
        label: `${common.label}, inverse`,
        params: { ...p, inverse: true },
        reference: (ins, q) => [ropeRef(input(ins, 0), input(ins, 1), q)],
      }),
    ],
    ropeBackward: [kernelCase({ kernel: 'ropeBackward', seed: 42, ...common, reference: (ins) => [ropeBackwardRef(input(ins, 0), input(ins, 1), p)] })],
  };
}
