import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodePngRaster } from '../../src/data/png';
import { parseLlavaConfig } from '../../src/models/config';
import { parsePreprocessorConfig, preprocessImage } from '../../src/models/image-processing';
import { goldenAdapter, goldenVisionTensors } from '../../src/models/lora/golden-init';
import { PEFT_PREFIX } from '../../src/models/lora/names';
import { VISION_FIELD } from '../../src/models/lora/names';
import { supervisedRows } from '../../src/models/lora/sequence';
import { createLoraTrainable, type NativeLoraTrainable } from '../../src/models/lora/trainable';
import type { LoraConfig, LoraTarget, NamedTensor, TrainExample, VisionTarget } from '../../src/models/lora/types';
import { TARGET_FIELD } from '../../src/models/native/llama-decoder';
import { NativeLlava } from '../../src/models/native/llava';
import { SafetensorsFile } from '../../src/models/safetensors';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { testRuntime } from '../helpers/gpu';
import { MODEL_DIR, readJson } from './golden';
import { tinyVisionCase } from './lora-vision-tiny';

// LoRA on the vision tower's last layers and trained token rows (the recipe
// that teaches new words) against PyTorch (tools/train/lora_vision_golden.py)
// and against finite differences.

interface VisionGolden {
  rank: number;
  alpha: number;
  dropout: number;
  targets: LoraTarget[];
  vision_layers: number[];
  vision_targets: VisionTarget[];
  token_ids: number[];
  batch: { input_ids: number[][]; attention_mask: number[][]; labels: number[][] };
  loss: number;
  grad_norms: Record<string, number>;
}

let rt: GpuRuntime;
const golden = JSON.parse(readFileSync(join(__dirname, '../fixtures/lora/vision-tokens-golden.json'), 'utf8')) as VisionGolden;
const config = parseLlavaConfig(readJson('config.json'));
const file = new SafetensorsFile(new Uint8Array(readFileSync(join(MODEL_DIR, 'model.safetensors'))).buffer, 'model.safetensors');
const pre = parsePreprocessorConfig(readJson('preprocessor_config.json'), config.vision.imageSize);
const raster = decodePngRaster(new Uint8Array(readFileSync(join(MODEL_DIR, readJson<{ image: string }>('golden.json').image))));
const pixels = preprocessImage({ ...raster, channels: 3 }, pre).pixels;

beforeAll(async () => {
  rt = await testRuntime();
});

function examples(): TrainExample[] {
  return golden.batch.input_ids.map((ids, b) => {
    const len = (golden.batch.attention_mask[b] ?? []).reduce((a, v) => a + v, 0);
    return { id: `golden-${b}`, ids: Int32Array.from(ids.slice(0, len)), labels: Int32Array.from((golden.batch.labels[b] ?? []).slice(0, len)), pixels: [pixels] };
  });
}

describe('vision LoRA and token rows', () => {
  it("golden batch: the loss and every gradient norm (decoder, vision layers, token rows) within 1e-3 relative of PyTorch's", async () => {
    const model = new NativeLlava(rt, config, file);
    const lora: LoraConfig = {
      rank: golden.rank,
      alpha: golden.alpha,
      dropout: golden.dropout,
      targetModules: golden.targets,
      trainProjector: false,
      baseModel: 'golden',
      visionLayers: golden.vision_layers,
      visionTargets: golden.vision_targets,
      tokenIds: golden.token_ids,
    };
    const dec = model.decoder;
    const init = goldenAdapter(lora, dec.layers.length, dec.modelPath, (i, t) => {
      const lin = (dec.layers[i] as (typeof dec.layers)[number])[TARGET_FIELD[t]];
      return [lin.n, lin.k];
    });
    const vision: NamedTensor[] = goldenVisionTensors(lora, 'vision_tower.vision_model.encoder', golden.vision_layers, golden.vision_targets, init.tensors.length, (i, t) => {
      const lin = model.vision.encoder.layers[i]?.[VISION_FIELD[t as VisionTarget]];
      if (!lin) throw new Error(`no vision layer ${i}`);
      return [lin.n, lin.k];
    });
    const trainable = (await createLoraTrainable(model, lora, { config: lora, tensors: [...init.tensors, ...vision] })) as NativeLoraTrainable;
    try {
      const batch = examples();
      const total = batch.reduce((a, e) => a + supervisedRows(e.labels).rows.length, 0);
      const t0 = performance.now();
      let lossSum = 0;
      for (const e of batch) lossSum += (await trainable.accumulate(e, 1 / total)).lossSum;
      const seconds = (performance.now() - t0) / 1000;
      const loss = lossSum / total;
      const got = await trainable.gradNorms();
      const names = Object.keys(golden.grad_norms);
      expect(Object.keys(got)).toHaveLength(names.length);
      let worst = Math.abs(loss - golden.loss) / golden.loss;
      for (const name of names) {
        const expected = golden.grad_norms[name] as number;
        const rel = Math.abs((got[`${PEFT_PREFIX}${name}`] ?? Number.NaN) - expected) / expected;
        worst = Math.max(worst, rel);
        expect(rel, `${name}: ${got[`${PEFT_PREFIX}${name}`]} vs ${expected}`).toBeLessThanOrEqual(1e-3);
      }
      console.log(`vision+tokens golden: loss ${loss} (PyTorch ${golden.loss}), ${names.length} gradient norms, worst relative difference ${worst.toExponential(2)}, 3 sequences in ${seconds.toFixed(2)} s`);
      expect(Math.abs(loss - golden.loss) / golden.loss).toBeLessThanOrEqual(1e-3);
    } finally {
      trainable.release();
      model.release();
    }
  }, 300_000);

  it.each([
    { layers: [1], dropout: 0, transposed: undefined },
    { layers: [0, 1], dropout: 0.3, transposed: false },
  ])('tiny random model, vision layers $layers, dropout $dropout, transposed frozen weights $transposed: vision LoRA and token-row gradients agree with central differences', async ({ layers, dropout, transposed }) => {
    const c = await tinyVisionCase(rt, layers, [9, 21], dropout, transposed);
    const trainable = c.trainable as NativeLoraTrainable;
    try {
      await trainable.accumulate(c.example, 1, { dropoutSeed: 17 });
      const analytic = await trainable.gradients();
      const picks = [...analytic.keys()].filter((n) => n.includes('vision_tower') || n.includes('token_adapter'));
      const names = [
        ...picks.filter((n) => n.includes(`layers.${layers[0]}.self_attn.q_proj.lora_A`) || n.includes(`layers.${layers[0]}.self_attn.v_proj.lora_B`)),
        ...picks.filter((n) => n.includes('mlp.fc1.lora_A') || n.includes('out_proj.lora_B')).slice(0, 2),
        ...picks.filter((n) => n.includes('token_adapter')),
      ];
      expect(names.length).toBeGreaterThanOrEqual(5);
      for (const name of names) {
        const g = analytic.get(name) as Float32Array;
        let index = 0;
        g.forEach((x, i) => {
          if (Math.abs(x) > Math.abs(g[index] ?? 0)) index = i;
        });
        const h = 1e-2;
        const at = async (delta: number) => {
          const tensors = c.adapter.tensors.map((t) => (t.name === name ? { ...t, data: t.data.slice() } : t));
          const t = tensors.find((x) => x.name === name) as NamedTensor;
          t.data[index] = (t.data[index] as number) + delta;
          trainable.importAdapter({ config: c.config, tensors });
          return (dropout > 0 ? await trainable.accumulate(c.example, 0, { dropoutSeed: 17 }) : await trainable.evaluate(c.example)).lossSum;
        };
        const numeric = ((await at(h)) - (await at(-h))) / (2 * h);
        trainable.importAdapter(c.adapter);
        const exact = g[index] as number;
        expect(Math.abs(exact) > 1e-4, `${name} has a gradient`).toBe(true);
        expect(Math.abs(exact - numeric), `${name}[${index}]: analytic ${exact}, numeric ${numeric}`).toBeLessThanOrEqual(2e-3 + 2e-2 * Math.abs(numeric));
      }
    } finally {
      c.release();
    }
  }, 300_000);

  it('tiny random model: AdamW moves the token rows at their own rate, and a checkpoint (adapter and optimizer) restores the run exactly', async () => {
    const c = await tinyVisionCase(rt, [1], [9, 21]);
    const d = await tinyVisionCase(rt, [1], [9, 21]);
    const adamw = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, gradScale: 1 };
    try {
      await c.trainable.accumulate(c.example, 1);
      c.trainable.optimizerStep({ ...adamw, step: 1, tokenLr: 0 });
      const after = new Map((await c.trainable.exportAdapter()).tensors.map((t) => [t.name, t.data]));
      for (const t of c.adapter.tensors) {
        const moved = (after.get(t.name) as Float32Array).some((v, i) => v !== t.data[i]);
        // Every LoRA matrix (decoder and vision) moves; the token rows, at rate 0, do not.
        expect(moved, t.name).toBe(!t.name.includes('token_adapter'));
      }
      // d resumes from c's checkpoint; one more step on each must agree bit for bit.
      d.trainable.importAdapter(await c.trainable.exportAdapter());
      d.trainable.importOptimizer(await c.trainable.exportOptimizer());
      for (const t of [c.trainable, d.trainable]) {
        await t.accumulate(c.example, 1);
        t.optimizerStep({ ...adamw, step: 2, tokenLr: 5e-2 });
      }
      const [x, y] = [await c.trainable.exportAdapter(), await d.trainable.exportAdapter()];
      expect(x.tensors.map((t) => t.name)).toEqual(y.tensors.map((t) => t.name));
      x.tensors.forEach((t, i) => expect(t.data, t.name).toEqual(y.tensors[i]?.data));
      const rows = x.tensors.find((t) => t.name.includes('embed_tokens.token_adapter'));
      expect(rows?.data.some((v, i) => v !== after.get(rows.name)?.[i])).toBe(true);
    } finally {
      c.release();
      d.release();
    }
  }, 300_000);
});
