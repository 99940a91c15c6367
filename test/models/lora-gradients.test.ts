import { beforeAll, describe, expect, it } from 'vitest';
import { NativeLlava } from '../../src/models/native/llava';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { goldenExamples, loraGradientCheck, type GoldenLora } from '../../src/worker/jobs/lora-gradient-check';
import { testRuntime } from '../helpers/gpu';
import { bundledLlava, readJson } from './golden';
import { DROPOUT_SEED, tinyLoraCase } from './lora-tiny';

// LoRA forward and backward through the native decoder against PyTorch
// (golden.json's lora block) and against finite differences.

let rt: GpuRuntime;
const golden = readJson<{ image: string; lora: GoldenLora }>('golden.json');
const { config, file, pixels } = bundledLlava();

beforeAll(async () => {
  rt = await testRuntime();
});

describe('LoRA gradients on the native decoder', () => {
  it("golden batch: the loss and all 32 gradient norms within 1e-3 relative of PyTorch's", async () => {
    const model = new NativeLlava(rt, config, file);
    const t0 = performance.now();
    const check = await loraGradientCheck(model, { lora: golden.lora, pixels });
    const seconds = (performance.now() - t0) / 1000;
    const tokens = goldenExamples(golden.lora, pixels).reduce((a, e) => a + e.ids.length, 0);
    console.log(`lora golden: loss ${check.loss} (PyTorch ${check.expectedLoss}), worst relative difference ${check.maxRelative.toExponential(2)}, ${tokens} tokens in ${seconds.toFixed(2)} s`);
    expect(check.norms).toHaveLength(32);
    expect(Math.abs(check.loss - golden.lora.loss) / golden.lora.loss).toBeLessThanOrEqual(1e-3);
    for (const n of check.norms) expect(Math.abs(n.got - n.expected) / n.expected, n.name).toBeLessThanOrEqual(1e-3);
    expect(check.maxRelative).toBeLessThanOrEqual(1e-3);
    model.release();
  }, 300_000);

  it.each([
    { dropout: 0, projector: false, probes: 7, transposed: undefined },
    // The gradient kernel's own dX (what real GPUs use) rather than the forward matmul on transposes.
    { dropout: 0.3, projector: false, probes: 4, transposed: false },
    { dropout: 0, projector: true, probes: 6, transposed: undefined },
  ])('tiny random decoder, dropout $dropout, projector trained $projector, transposed frozen weights $transposed: gradients agree with central differences', async ({ dropout, projector, probes: count, transposed }) => {
    const c = await tinyLoraCase(rt, dropout, projector, transposed);
    try {
      await c.trainable.accumulate(c.example, 1, { dropoutSeed: DROPOUT_SEED });
      const analytic = await c.grads();
      const probes = await c.probes();
      for (const probe of probes.slice(0, count)) {
        const numeric = await c.numericGradient(probe.name, probe.index, 1e-2);
        const exact = analytic.get(probe.name)?.[probe.index] ?? Number.NaN;
        expect(Math.abs(exact - numeric), `${probe.name}[${probe.index}]: analytic ${exact}, numeric ${numeric}`).toBeLessThanOrEqual(2e-3 + 2e-2 * Math.abs(numeric));
      }
    } finally {
      c.release();
    }
  }, 300_000);
});
