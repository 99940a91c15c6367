import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { testRuntime } from '../helpers/gpu';
import { tinyLoraCase } from './lora-tiny';

// The trainer-facing side of LoraTrainable: gradient norms, one AdamW step
// with a clipping factor, zeroed gradients, and the adapter and optimizer
// state out and back in.

let rt: GpuRuntime;

beforeAll(async () => {
  rt = await testRuntime();
});

describe('LoraTrainable on a tiny decoder', () => {
  it('gradient norms, an AdamW step with gradScale, zeroed gradients, state out and in', async () => {
    const c = await tinyLoraCase(rt);
    try {
      await c.trainable.accumulate(c.example, 0.5);
      const grads = await c.grads();
      const norms = await c.trainable.gradNorms();
      for (const [name, g] of grads) {
        const want = Math.sqrt(g.reduce((a, v) => a + v * v, 0));
        expect(Math.abs((norms[name] ?? NaN) - want) / want, name).toBeLessThanOrEqual(1e-5);
      }
      const before = await c.trainable.exportAdapter();
      const s = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 1, gradScale: 0.25 };
      c.trainable.optimizerStep(s);
      const after = await c.trainable.exportAdapter();
      for (const t of before.tensors) {
        const g = grads.get(t.name) as Float32Array;
        const got = after.tensors.find((x) => x.name === t.name)?.data as Float32Array;
        t.data.forEach((p0, i) => {
          // PyTorch's AdamW at step 1 on gradScale * g.
          const gs = s.gradScale * (g[i] as number);
          const m = (1 - s.beta1) * gs;
          const v = (1 - s.beta2) * gs * gs;
          const want = p0 * (1 - s.lr * s.weightDecay) - (s.lr / (1 - s.beta1)) * (m / (Math.sqrt(v) / Math.sqrt(1 - s.beta2) + s.eps));
          expect(Math.abs((got[i] as number) - want), `${t.name}[${i}]`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(want));
        });
      }
      expect(Object.values(await c.trainable.gradNorms()).every((n) => n === 0)).toBe(true);

      const optimizer = await c.trainable.exportOptimizer();
      expect(optimizer.step).toBe(1);
      expect(optimizer.tensors).toHaveLength(2 * c.trainable.parameters.length);
      const other = await tinyLoraCase(rt);
      try {
        other.trainable.importAdapter(after);
        other.trainable.importOptimizer(optimizer);
        const back = await other.trainable.exportAdapter();
        const backOpt = await other.trainable.exportOptimizer();
        expect(back.tensors.map((t) => Array.from(t.data))).toEqual(after.tensors.map((t) => Array.from(t.data)));
        expect(backOpt).toEqual(optimizer);
        // Same state, same next loss.
        expect((await other.trainable.evaluate(c.example)).lossSum).toBeCloseTo((await c.trainable.evaluate(c.example)).lossSum, 5);
      } finally {
        other.release();
      }
    } finally {
      c.release();
    }
  });
});
