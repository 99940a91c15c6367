/**
 * matmul-grad as LoRA training drives it: the low-rank chain h = x A^T,
 * y = h B^T (rank 8-16 inner dims), and gradients that accumulate into
 * existing buffers across the sequences of a step and the paths into one input.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { matmulGradInput, matmulGradWeight, type MatmulGradParams } from '../../src/webgpu/kernels/matmul-grad';
import { matmulBackwardRef, matmulRef } from '../../src/webgpu/reference/matmul';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import type { Tensor } from '../../src/webgpu/tensor';
import { testRuntime } from '../helpers/gpu';
import { expectGradientsMatch } from '../helpers/grad-check';
import { expectClose, runKernel } from '../helpers/kernel-run';
import { MATMUL_TOLERANCE } from '../helpers/matmul';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

const VARIANTS: MatmulGradParams['variant'][] = ['blocked', 'tiled'];

function add(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: a.length }, (_, i) => (a[i] as number) + (b[i] as number));
}

/** LoRA's forward: y = (x A^T) B^T, x [T, K], A [r, K], B [N, r]. */
function loraForward(x: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>, t: number, k: number, r: number, n: number) {
  const h = matmulRef(x, a, { m: t, k, n: r });
  return { h, y: matmulRef(h, b, { m: t, k: r, n }) };
}

/** The four LoRA gradients from the two matmul backwards, chained through dh. */
function loraBackwardRef(x: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>, dy: ArrayLike<number>, t: number, k: number, r: number, n: number) {
  const { h } = loraForward(x, a, b, t, k, r, n);
  const outer = matmulBackwardRef(dy, h, b, { m: t, k: r, n });
  const inner = matmulBackwardRef(outer.dx, x, a, { m: t, k, n: r });
  return { dB: outer.dw, dh: outer.dx, dA: inner.dw, dx: inner.dx };
}

describe('LoRA chain reference', () => {
  it('dA, dB and dx through h = x A^T match finite differences of y = (x A^T) B^T', () => {
    const [t, k, r, n] = [3, 5, 2, 4];
    const rng = new Rng(81);
    const [x, a, b, dy] = [rng.floats(t * k), rng.floats(r * k), rng.floats(n * r), rng.floats(t * n)];
    const g = loraBackwardRef(x, a, b, dy, t, k, r, n);
    const forward = ([xs, as, bs]: Float64Array[]) => loraForward(xs as Float64Array, as as Float64Array, bs as Float64Array, t, k, r, n).y;
    const inputs = [Float64Array.from(x), Float64Array.from(a), Float64Array.from(b)];
    expectGradientsMatch(forward, inputs, dy, { 0: g.dx, 1: g.dA, 2: g.dB }, 'lora chain');
  });
});

describe('matmul-grad on LoRA shapes', () => {
  // T = 37 rows (not a multiple of the 32 tile); K = 192 (the bundled decoder's width);
  // N = 64 (its k/v projections) and 192 (q/o); rank 8 and 16.
  const SHAPES: [number, number, number, number][] = [
    [37, 192, 8, 64],
    [37, 192, 16, 192],
  ];
  for (const variant of VARIANTS) {
    for (const [t, k, r, n] of SHAPES) {
      it(`${variant}: dB, dh, dA and dx (+= onto the base path's dx), T=${t} K=${k} r=${r} N=${n}`, async () => {
        const rng = new Rng(t * 7 + k + r * 31 + n);
        const [x, a, b, dy] = [rng.floats(t * k), rng.floats(r * k), rng.floats(n * r), rng.floats(t * n)];
        const baseDx = rng.floats(t * k);
        const h = Float32Array.from(loraForward(x, a, b, t, k, r, n).h);
        const want = loraBackwardRef(x, a, b, dy, t, k, r, n);
        const outer = { variant, m: t, k: r, n };
        const inner = { variant, m: t, k, n: r };
        const dyIn = { data: dy, shape: [t, n] };
        const [dB] = await runKernel(rt, matmulGradWeight, [dyIn, { data: h, shape: [t, r] }], [{ shape: [n, r] }], outer);
        const [dh] = await runKernel(rt, matmulGradInput, [dyIn, { data: b, shape: [n, r] }], [{ shape: [t, r] }], outer);
        if (!dB || !dh) throw new Error('no output');
        expectClose(dB, want.dB, MATMUL_TOLERANCE.f32(t), `${variant} dB`);
        expectClose(dh, want.dh, MATMUL_TOLERANCE.f32(n), `${variant} dh`);
        const dhIn = { data: dh, shape: [t, r] };
        const [dA] = await runKernel(rt, matmulGradWeight, [dhIn, { data: x, shape: [t, k] }], [{ shape: [r, k] }], inner);
        const accumulate = { ...inner, accumulate: true };
        const [dx] = await runKernel(rt, matmulGradInput, [dhIn, { data: a, shape: [r, k] }], [{ shape: [t, k], initial: baseDx }], accumulate);
        if (!dA || !dx) throw new Error('no output');
        // Each kernel against the reference on the inputs it was given (the GPU's dh).
        const fromDh = matmulBackwardRef(dh, x, a, { m: t, k, n: r });
        expectClose(dA, fromDh.dw, MATMUL_TOLERANCE.f32(t), `${variant} dA`);
        expectClose(dx, add(baseDx, fromDh.dx), MATMUL_TOLERANCE.f32(r), `${variant} dx += dh A`);
        // And the chain as a whole against the f64 one, dh's f32 rounding carried through the next sums.
        expectClose(dA, want.dA, MATMUL_TOLERANCE.f32(t * n), `${variant} dA through the chain`);
      });
    }
  }
});

describe('matmul-grad accumulate', () => {
  for (const variant of VARIANTS) {
    it(`${variant}: dW sums over the sequences of a step onto what the buffer held`, async () => {
      const [m, k, n] = [13, 24, 8];
      const rng = new Rng(90);
      const start = rng.floats(n * k);
      const seqs = [0, 1, 2].map(() => ({ dy: rng.floats(m * n), x: rng.floats(m * k) }));
      const dw = rt.upload(start, [n, k], 'test.dw');
      const inputs: Tensor[] = [];
      let want: Float64Array = Float64Array.from(start);
      for (const s of seqs) {
        const dy = rt.upload(s.dy, [m, n], 'test.dy');
        const x = rt.upload(s.x, [m, k], 'test.x');
        inputs.push(dy, x);
        rt.run(matmulGradWeight, [dy, x], [dw], { variant, m, k, n, accumulate: true });
        want = add(want, matmulBackwardRef(s.dy, s.x, new Float32Array(n * k), { m, k, n }).dw);
      }
      const got = await rt.readF32(dw);
      for (const t of [dw, ...inputs]) rt.release(t);
      expectClose(got, want, MATMUL_TOLERANCE.f32(3 * m), `${variant} dW over 3 sequences`);
      // Without accumulate the same buffer holds only the last sequence.
      const last = seqs[2];
      if (!last) throw new Error('no sequence');
      const [over] = await runKernel(
        rt,
        matmulGradWeight,
        [{ data: last.dy, shape: [m, n] }, { data: last.x, shape: [m, k] }],
        [{ shape: [n, k], initial: start }],
        { variant, m, k, n },
      );
      expectClose(over ?? [], matmulBackwardRef(last.dy, last.x, new Float32Array(n * k), { m, k, n }).dw, MATMUL_TOLERANCE.f32(m), 'overwrite');
    });
  }

  it('batched dW with a shared W accumulates the batch sum; per-item dW accumulates per item', async () => {
    const [m, k, n, batch] = [5, 9, 6, 3];
    const rng = new Rng(91);
    const [dy, x, w] = [rng.floats(batch * m * n), rng.floats(batch * m * k), rng.floats(batch * n * k)];
    const shared = rng.floats(n * k);
    const perItem = rng.floats(batch * n * k);
    const p = { variant: 'blocked' as const, m, k, n, batch, accumulate: true };
    const ins = [{ data: dy, shape: [batch, m, n] }, { data: x, shape: [batch, m, k] }];
    const [sum] = await runKernel(rt, matmulGradWeight, ins, [{ shape: [n, k], initial: shared }], p);
    const [each] = await runKernel(rt, matmulGradWeight, ins, [{ shape: [batch, n, k], initial: perItem }], { ...p, wBatched: true });
    expectClose(sum ?? [], add(shared, matmulBackwardRef(dy, x, w.subarray(0, n * k), { m, k, n, batch }).dw), MATMUL_TOLERANCE.f32(batch * m), 'shared');
    const wantEach = matmulBackwardRef(dy, x, w, { m, k, n, batch, wBatched: true }).dw;
    expectClose(each ?? [], add(perItem, wantEach), MATMUL_TOLERANCE.f32(m), 'per item');
  });

  it('uses a separate pipeline from the overwriting kernel', () => {
    const ctx = rt.ctx;
    const p: MatmulGradParams = { variant: 'tiled', m: 1, k: 1, n: 1 };
    expect(matmulGradWeight.pipelineKey({ ...p, accumulate: true }, ctx)).not.toBe(matmulGradWeight.pipelineKey(p, ctx));
  });
});
