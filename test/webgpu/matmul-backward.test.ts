import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { KernelInputError } from '../../src/webgpu/errors';
import { matmulBiasGrad } from '../../src/webgpu/kernels/matmul-bias-grad';
import { matmulGradInput, matmulGradWeight, type MatmulGradParams } from '../../src/webgpu/kernels/matmul-grad';
import { matmulBackwardRef, matmulRef, type MatmulDims } from '../../src/webgpu/reference/matmul';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { testRuntime } from '../helpers/gpu';
import { expectGradientsMatch } from '../helpers/grad-check';
import { expectClose, runKernel } from '../helpers/kernel-run';
import { MATMUL_TOLERANCE } from '../helpers/matmul';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

const MS = [1, 3, 17];
const KS = [1, 5, 64, 130];
const NS = [1, 7, 33];
const VARIANTS: MatmulGradParams['variant'][] = ['blocked', 'tiled'];

interface Operands {
  x: Float32Array;
  w: Float32Array;
  dy: Float32Array;
}

function operands(d: MatmulDims, seed: number): Operands {
  const bt = d.batch ?? 1;
  const rng = new Rng(seed + d.m * 31 + d.k * 977 + d.n * 7907 + bt);
  return {
    x: rng.floats(bt * d.m * d.k),
    w: rng.floats((d.wBatched ? bt : 1) * d.n * d.k),
    dy: rng.floats(bt * d.m * d.n),
  };
}

function label(d: MatmulDims): string {
  return `M=${d.m} K=${d.k} N=${d.n} Bt=${d.batch ?? 1}${d.wBatched ? ' W batched' : ''}`;
}

/** Run dX, dW and db on the GPU and compare each with the f64 reference. */
async function checkGrads(variant: MatmulGradParams['variant'], d: MatmulDims): Promise<void> {
  const bt = d.batch ?? 1;
  const o = operands(d, 11);
  const want = matmulBackwardRef(o.dy, o.x, o.w, d);
  const p: MatmulGradParams = { variant, ...d };
  const dyHost = { data: o.dy, shape: [bt, d.m, d.n] };
  const wShape = d.wBatched ? [bt, d.n, d.k] : [d.n, d.k];
  const [dx] = await runKernel(rt, matmulGradInput, [dyHost, { data: o.w, shape: wShape }], [{ shape: [bt, d.m, d.k] }], p);
  const [dw] = await runKernel(rt, matmulGradWeight, [dyHost, { data: o.x, shape: [bt, d.m, d.k] }], [{ shape: wShape }], p);
  if (!dx || !dw) throw new Error('no output');
  // dX sums N products per element; dW sums one per row it reduces over.
  const wRows = d.wBatched ? d.m : bt * d.m;
  expectClose(dx, want.dx, MATMUL_TOLERANCE.f32(d.n), `${variant} dX ${label(d)}`);
  expectClose(dw, want.dw, MATMUL_TOLERANCE.f32(wRows), `${variant} dW ${label(d)}`);
}

describe('matmul backward reference', () => {
  const cases: MatmulDims[] = [
    { m: 3, k: 5, n: 4 },
    { m: 2, k: 3, n: 4, batch: 3 },
    { m: 2, k: 4, n: 3, batch: 2, wBatched: true },
  ];
  for (const d of cases) {
    it(`dX, dW and db match f64 finite differences (${label(d)})`, () => {
      const o = operands(d, 3);
      const bias = new Rng(9).floats(d.n);
      const forward = ([x, w, b]: Float64Array[]) => matmulRef(x as Float64Array, w as Float64Array, { ...d, bias: b });
      const g = matmulBackwardRef(o.dy, o.x, o.w, d);
      const inputs = [Float64Array.from(o.x), Float64Array.from(o.w), Float64Array.from(bias)];
      expectGradientsMatch(forward, inputs, o.dy, { 0: g.dx, 1: g.dw, 2: g.db }, `matmul ${label(d)}`);
    });
  }
});

describe('matmul backward kernels', () => {
  for (const variant of VARIANTS) {
    for (const m of MS) {
      for (const k of KS) {
        it(`${variant} dX and dW, M=${m} K=${k}, N in ${NS.join('/')}`, async () => {
          for (const n of NS) await checkGrads(variant, { m, k, n });
        });
      }
    }
    it(`${variant}: batched X with shared W sums dW over the batch; batched W keeps it per item`, async () => {
      await checkGrads(variant, { m: 5, k: 9, n: 6, batch: 3 });
      await checkGrads(variant, { m: 3, k: 7, n: 34, batch: 2, wBatched: true });
    });
  }

  it('one tall dW reduction over 600 rows (several tiled slabs, many register steps)', async () => {
    await checkGrads('tiled', { m: 200, k: 12, n: 10, batch: 3 });
    await checkGrads('blocked', { m: 200, k: 12, n: 10, batch: 3 });
  });

  for (const [m, n, batch] of [
    [1, 1, 1],
    [3, 7, 1],
    [17, 33, 2],
    [5, 130, 3],
  ] as const) {
    it(`db sums dY over every row: M=${m} N=${n} Bt=${batch}`, async () => {
      const dy = new Rng(m * 100 + n).floats(batch * m * n);
      const [db] = await runKernel(rt, matmulBiasGrad, [{ data: dy, shape: [batch, m, n] }], [{ shape: [n] }], { m, n, batch });
      const want = matmulBackwardRef(dy, new Float32Array(batch * m), new Float32Array(n), { m, k: 1, n, batch }).db;
      expectClose(db ?? [], want, MATMUL_TOLERANCE.f32(batch * m), `db M=${m} N=${n} Bt=${batch}`);
    });
  }
});

describe('matmul backward validation', () => {
  const f32 = (shape: number[]) => rt.empty(shape, 'f32', 'test.operand');
  const p: MatmulGradParams = { variant: 'blocked', m: 3, k: 8, n: 5 };

  it('dX rejects a W whose K does not match dX, naming the kernel and shapes', () => {
    const run = () => rt.run(matmulGradInput, [f32([3, 5]), f32([5, 9])], [f32([3, 8])], p);
    expect(run).toThrow(KernelInputError);
    expect(run).toThrow(/^matmul-grad-input: w must be \[5,8\], got \[5,9\].*\[3,5\] \[5,9\] \[3,8\]/);
  });

  it('dW rejects an X with the wrong row count and a non-f32 dY', () => {
    expect(() => rt.run(matmulGradWeight, [f32([3, 5]), f32([4, 8])], [f32([5, 8])], p)).toThrow(/x must be \[3,8\]/);
    const dy = rt.upload(new Uint32Array(15), [3, 5], 'test.dy');
    expect(() => rt.run(matmulGradWeight, [dy, f32([3, 8])], [f32([5, 8])], p)).toThrow(/dy must be f32, got dtype u32/);
  });

  it('db rejects a column count that differs from dY', () => {
    expect(() => rt.run(matmulBiasGrad, [f32([3, 5])], [f32([6])], { m: 3, n: 5 })).toThrow(/^matmul-bias-grad: db must be \[5\]/);
  });
});
