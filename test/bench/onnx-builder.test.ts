import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-web';
import { Rng } from '../../src/data/random';
import { buildOneNodeModel } from '../../src/bench/onnx-builder';
import { attentionRef } from '../../src/webgpu/reference/attention';
import { expectClose } from '../helpers/kernel-run';

// onnxruntime-web's wasm backend in Node: an independent check that the
// models we write mean what we think they mean.
ort.env.wasm.numThreads = 1;

describe('one-node ONNX models', () => {
  it('MatMul with a weight initializer computes X W', async () => {
    const [m, k, n] = [3, 5, 4];
    const rng = new Rng(3);
    const x = rng.floats(m * k);
    const w = rng.floats(k * n);
    const model = buildOneNodeModel({
      opType: 'MatMul',
      inputs: [{ name: 'x', type: 'float', shape: [m, k] }],
      initializers: [{ name: 'w', type: 'float', shape: [k, n], data: w }],
      outputs: [{ name: 'y', type: 'float', shape: [m, n] }],
    });
    const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    const { y } = await session.run({ x: new ort.Tensor('float32', x, [m, k]) });
    const want = new Float64Array(m * n);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += (x[i * k + p] as number) * (w[p * n + j] as number);
        want[i * n + j] = s;
      }
    expect(y?.dims).toEqual([m, n]);
    expectClose(y?.data as Float32Array, want, 1e-6, 'MatMul');
  });

  it('MultiHeadAttention (com.microsoft) computes bidirectional attention in our layout', async () => {
    const [t, s, h, d] = [6, 6, 2, 4];
    const rng = new Rng(4);
    const q = rng.floats(t * h * d);
    const kk = rng.floats(s * h * d);
    const v = rng.floats(s * h * d);
    const model = buildOneNodeModel({
      opType: 'MultiHeadAttention',
      domain: 'com.microsoft',
      inputs: [
        { name: 'query', type: 'float', shape: [1, t, h * d] },
        { name: 'key', type: 'float', shape: [1, s, h * d] },
        { name: 'value', type: 'float', shape: [1, s, h * d] },
      ],
      outputs: [{ name: 'output', type: 'float', shape: [1, t, h * d] }],
      attributes: { num_heads: h },
    });
    const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    const out = await session.run({
      query: new ort.Tensor('float32', q, [1, t, h * d]),
      key: new ort.Tensor('float32', kk, [1, s, h * d]),
      value: new ort.Tensor('float32', v, [1, s, h * d]),
    });
    const want = attentionRef(q, kk, v, null, { batch: 1, tLen: t, sLen: s, sCap: s, heads: h, kvHeads: h, headDim: d, qOffset: 0, causal: false, scale: 1 / Math.sqrt(d) });
    expectClose(out.output?.data as Float32Array, want, 1e-5, 'MultiHeadAttention');
  });
});
