import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { embedding, embeddingBackward, type EmbeddingParams } from '../../src/webgpu/kernels/embedding';
import { embeddingBackwardRef, embeddingRef } from '../../src/webgpu/reference/embedding';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectGradientsMatch } from '../helpers/grad-check';
import { expectClose, runKernel } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

interface Case {
  n: number;
  v: number;
  c: number;
}

// 1-sized, non-multiple-of-4, many ids per row (small V), more rows than ids, a wide table.
const CASES: Case[] = [
  { n: 1, v: 1, c: 1 },
  { n: 3, v: 5, c: 7 },
  { n: 50, v: 3, c: 13 },
  { n: 17, v: 130, c: 64 },
  { n: 9, v: 2000, c: 3 },
];

async function forward(ids: Int32Array, weight: Float32Array, p: EmbeddingParams): Promise<Float32Array> {
  const inputs = [
    { data: ids, shape: [p.rows] },
    { data: weight, shape: [p.vocab, p.channels] },
  ];
  const [out] = await runKernel(rt, embedding, inputs, [{ shape: [p.rows, p.channels] }], p);
  return out ?? new Float32Array();
}

async function backward(ids: Int32Array, dout: Float32Array, p: EmbeddingParams): Promise<Float32Array> {
  const inputs = [
    { data: ids, shape: [p.rows] },
    { data: dout, shape: [p.rows, p.channels] },
  ];
  const [dweight] = await runKernel(rt, embeddingBackward, inputs, [{ shape: [p.vocab, p.channels] }], p);
  return dweight ?? new Float32Array();
}

function randomIds(rng: Rng, n: number, vocab: number): Int32Array {
  return Int32Array.from({ length: n }, () => rng.int(0, vocab - 1));
}

describe('embedding kernel', () => {
  for (const { n, v, c } of CASES) {
    it(`forward N=${n} V=${v} C=${c} gathers the table rows`, async () => {
      const rng = new Rng(100 + n * 7 + v);
      const ids = randomIds(rng, n, v);
      const weight = rng.floats(v * c, -2, 2);
      const got = await forward(ids, weight, { rows: n, vocab: v, channels: c });
      expectClose(got, embeddingRef(ids, weight, v, c), TOLERANCE.f32Exact, `forward N=${n} V=${v} C=${c}`);
    });

    it(`backward N=${n} V=${v} C=${c} sums dout rows by id`, async () => {
      const rng = new Rng(200 + n * 7 + v);
      const ids = randomIds(rng, n, v);
      const dout = rng.floats(n * c, -1, 1);
      const got = await backward(ids, dout, { rows: n, vocab: v, channels: c });
      // Up to ~25 ids land on one row here; the f32 sum rounds at each add.
      expectClose(got, embeddingBackwardRef(ids, dout, v, c), TOLERANCE.f32Reduction, `backward N=${n} V=${v} C=${c}`);
    });
  }

  it('gives out-of-range ids a zero row and no gradient', async () => {
    const [v, c] = [4, 5];
    const ids = Int32Array.from([2, -1, 4, -100, 0, 2147483647, 3]);
    const n = ids.length;
    const rng = new Rng(31);
    const weight = rng.floats(v * c, -2, 2);
    const dout = rng.floats(n * c, -1, 1);
    const p = { rows: n, vocab: v, channels: c };
    const fwd = await forward(ids, weight, p);
    const want = embeddingRef(ids, weight, v, c);
    expect(Array.from(want.subarray(c, 2 * c))).toEqual(new Array<number>(c).fill(0));
    expectClose(fwd, want, TOLERANCE.f32Exact, 'forward with bad ids');
    const bwd = await backward(ids, dout, p);
    expectClose(bwd, embeddingBackwardRef(ids, dout, v, c), TOLERANCE.f32Reduction, 'backward with bad ids');
  });

  it('backward reference matches finite differences of the forward reference', () => {
    const [v, c] = [4, 3];
    const ids = Int32Array.from([1, 3, 1, -1, 0, 1, 4]);
    const rng = new Rng(41);
    const weight = Float64Array.from(rng.floats(v * c, -2, 2));
    const dout = rng.floats(ids.length * c, -1, 1);
    expectGradientsMatch(
      ([w]) => embeddingRef(ids, w ?? [], v, c),
      [weight],
      dout,
      { 0: embeddingBackwardRef(ids, dout, v, c) },
      'embedding',
    );
  });

  it('rejects a wrong shape or dtype before dispatch, naming the kernel and shapes', () => {
    const p = { rows: 3, vocab: 5, channels: 2 };
    const ids = rt.upload(new Int32Array(3), [3], 'ids');
    const idsF32 = rt.empty([3], 'f32', 'ids.f32');
    const weight = rt.empty([5, 2], 'f32', 'weight');
    const out = rt.empty([3, 2], 'f32', 'out');
    const badOut = rt.empty([2, 3], 'f32', 'out.bad');
    expect(() => rt.run(embedding, [ids, weight], [badOut], p)).toThrow(KernelInputError);
    expect(() => rt.run(embedding, [ids, weight], [badOut], p)).toThrow(/embedding: out must be \[3,2\].*\[3\] \[5,2\] \[2,3\]/);
    expect(() => rt.run(embedding, [idsF32, weight], [out], p)).toThrow(/embedding: ids must be i32, got dtype f32/);
    expect(() => rt.run(embeddingBackward, [ids, out], [out], p)).toThrow(/embedding-backward: dweight must be \[5,2\]/);
  });
});
