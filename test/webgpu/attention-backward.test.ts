import { beforeAll, describe, it } from 'vitest';
import { Rng } from '../../src/data/random';
import { resolveAttention, type AttentionParams } from '../../src/webgpu/kernels/attention';
import { attentionBackwardKv, attentionBackwardQ } from '../../src/webgpu/kernels/attention-backward';
import { attentionBackwardRef, attentionRef, type AttentionShape } from '../../src/webgpu/reference/attention';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { expectGradientsMatch } from '../helpers/grad-check';
import { TOLERANCE } from '../helpers/compare';
import { testRuntime } from '../helpers/gpu';
import { expectClose } from '../helpers/kernel-run';

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

interface Case extends AttentionParams {
  name: string;
  maskDrop?: number;
}

const CASES: Case[] = [
  { name: 'causal', batch: 1, tLen: 5, sLen: 5, heads: 2, kvHeads: 2, headDim: 3, causal: true, hasMask: false },
  { name: 'bidirectional GQA 4:2', batch: 2, tLen: 6, sLen: 6, heads: 4, kvHeads: 2, headDim: 8, causal: false, hasMask: false },
  { name: 'causal masked GQA 3:1', batch: 2, tLen: 7, sLen: 7, heads: 3, kvHeads: 1, headDim: 5, causal: true, hasMask: true, maskDrop: 0.3 },
  { name: 'queries after a prefix', batch: 1, tLen: 2, sLen: 6, sCap: 9, heads: 2, kvHeads: 1, headDim: 4, causal: true, hasMask: false },
];

function inputs(c: Case, seed: number) {
  const p = resolveAttention(c);
  const rng = new Rng(seed);
  const qn = p.batch * p.tLen * p.heads * p.headDim;
  const kn = p.batch * p.sCap * p.kvHeads * p.headDim;
  return {
    p,
    q: rng.floats(qn),
    k: rng.floats(kn),
    v: rng.floats(kn),
    dout: rng.floats(qn),
    mask: new Int32Array(p.batch * p.sCap).map(() => (rng.next() < (c.maskDrop ?? 0) ? 0 : 1)),
  };
}

describe('attention backward', () => {
  for (const [i, c] of CASES.entries()) {
    it(`reference matches finite differences: ${c.name}`, () => {
      const { p, q, k, v, dout, mask } = inputs(c, 300 + i);
      const m = c.hasMask ? mask : null;
      const shape: AttentionShape = p;
      const g = attentionBackwardRef(q, k, v, m, dout, shape);
      // Rows past sLen in k/v are never read, so their gradient is zero on both sides.
      expectGradientsMatch(
        ([q2, k2, v2]) => attentionRef(q2 as Float64Array, k2 as Float64Array, v2 as Float64Array, m, shape),
        [Float64Array.from(q), Float64Array.from(k), Float64Array.from(v)],
        dout,
        { 0: g.dq, 1: g.dk, 2: g.dv },
        c.name,
      );
    });

    it(`GPU matches the reference: ${c.name}`, async () => {
      const { p, q, k, v, dout, mask } = inputs(c, 300 + i);
      const qShape = [p.batch, p.tLen, p.heads, p.headDim];
      const kShape = [p.batch, p.sCap, p.kvHeads, p.headDim];
      const tq = rt.upload(q, qShape, 'q');
      const tk = rt.upload(k, kShape, 'k');
      const tv = rt.upload(v, kShape, 'v');
      const tm = rt.upload(mask, [p.batch, p.sCap], 'mask');
      const td = rt.upload(dout, qShape, 'dout');
      const outs = [
        rt.empty(qShape, 'f32', 'dq'),
        rt.empty([p.batch, p.tLen, p.heads, 2], 'f32', 'stats'),
        rt.empty(kShape, 'f32', 'dk'),
        rt.empty(kShape, 'f32', 'dv'),
      ] as const;
      for (const t of outs) rt.write(t, new Float32Array(t.shape.reduce((a, b) => a * b, 1)).fill(Number.NaN));
      rt.run(attentionBackwardQ, [tq, tk, tv, tm, td], [outs[0], outs[1]], c);
      rt.run(attentionBackwardKv, [tq, tk, tv, tm, td, outs[1]], [outs[2], outs[3]], c);
      const [dq, , dk, dv] = await Promise.all(outs.map((t) => rt.readF32(t)));
      const want = attentionBackwardRef(q, k, v, c.hasMask ? mask : null, dout, p);
      expectClose(dq as Float32Array, want.dq, TOLERANCE.f32AttentionGrad, `${c.name} dq`);
      expectClose(dk as Float32Array, want.dk, TOLERANCE.f32AttentionGrad, `${c.name} dk`);
      expectClose(dv as Float32Array, want.dv, TOLERANCE.f32AttentionGrad, `${c.name} dv`);
      for (const t of [tq, tk, tv, tm, td, ...outs]) rt.release(t);
    });
  }
});
