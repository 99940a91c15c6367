/**
 * LoRA at inference on native SmolVLM (Idefics3): an adapter with known A and
 * B on q_proj and v_proj of every text layer, attached unmerged, must change
 * the logits as a checkpoint whose weights were merged on the CPU
 * (W + alpha / r B A, in f64) does; merged on the GPU it must give that
 * checkpoint's logits exactly; detached, the base logits come back bit for bit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loraTensorName, targetModulePath } from '../../src/models/lora/names';
import type { LoraAdapterData, LoraTarget, NamedTensor } from '../../src/models/lora/types';
import { NativeIdefics3 } from '../../src/models/native/idefics3';
import { NativeIdefics3Engine } from '../../src/models/native/idefics3-engine';
import { SafetensorsFile, writeSafetensors } from '../../src/models/safetensors';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { logitsRelError } from '../../src/webgpu/verify/golden';
import { testRuntime } from '../helpers/gpu';
import { readSmolGolden } from '../helpers/smolvlm-golden';
import { alongGolden, caseTiles, smolConfig, smolFile } from '../helpers/smolvlm-native';

const golden = readSmolGolden();
const MODEL = 'model.text_model';
const TARGETS: LoraTarget[] = ['q_proj', 'v_proj'];
const RANK = 4;
const ALPHA = 8;
// Steps of PyTorch's greedy path to compare (prefill and a few decode steps: the adapter acts on both).
const STEPS = 4;

/** Seeded values in [-0.25, 0.25): a stand-in for a trained adapter, large enough to move the logits. */
function seeded(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 / 2 - 0.25;
  });
}

function adapterFor(): LoraAdapterData {
  const t = smolConfig.text;
  const tensors: NamedTensor[] = [];
  for (let layer = 0; layer < t.numLayers; layer++) {
    for (const [j, target] of TARGETS.entries()) {
      const out = (target === 'q_proj' ? t.numHeads : t.numKvHeads) * t.headDim;
      const seed = 100 * layer + 10 * j;
      tensors.push({ name: loraTensorName(MODEL, layer, target, 'A'), shape: [RANK, t.hiddenSize], data: seeded(RANK * t.hiddenSize, seed + 1) });
      tensors.push({ name: loraTensorName(MODEL, layer, target, 'B'), shape: [out, RANK], data: seeded(out * RANK, seed + 2) });
    }
  }
  return { config: { rank: RANK, alpha: ALPHA, dropout: 0, targetModules: TARGETS, trainProjector: false, baseModel: 'tiny-smolvlm' }, tensors };
}

/** The fixture's checkpoint with every wrapped weight replaced by W + alpha / r B A, summed in f64 on the host. */
function mergedOnHost(adapter: LoraAdapterData): SafetensorsFile {
  const byName = new Map(adapter.tensors.map((x) => [x.name, x.data]));
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, info] of smolFile.tensors) out[name] = { shape: [...info.shape], data: smolFile.float32(name) };
  for (let layer = 0; layer < smolConfig.text.numLayers; layer++) {
    for (const target of TARGETS) {
      const w = out[`${MODEL}.${targetModulePath(layer, target)}.weight`] as { shape: number[]; data: Float32Array };
      const [n, k] = w.shape as [number, number];
      const a = byName.get(loraTensorName(MODEL, layer, target, 'A')) as Float32Array;
      const b = byName.get(loraTensorName(MODEL, layer, target, 'B')) as Float32Array;
      const merged = new Float32Array(n * k);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < k; j++) {
          let s = 0;
          for (let r = 0; r < RANK; r++) s += (b[i * RANK + r] as number) * (a[r * k + j] as number);
          merged[i * k + j] = (w.data[i * k + j] as number) + (ALPHA / RANK) * s;
        }
      }
      w.data = merged;
    }
  }
  return new SafetensorsFile(writeSafetensors(out).slice().buffer, 'model.safetensors');
}

const worstRel = (a: Float32Array[], b: Float32Array[]): number => Math.max(...a.map((l, i) => logitsRelError(l, Array.from(b[i] as Float32Array))));

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

describe('LoRA on native SmolVLM', () => {
  // Unmerged, the adapter's B (A x) is a separate f32 sum added to W x: only the order of the sums differs.
  const UNMERGED_TOL = 1e-5;
  const want = { ...golden, greedy_ids: golden.greedy_ids.slice(0, STEPS) };
  const tiles = caseTiles(golden);

  it(`attached: within ${UNMERGED_TOL} of a CPU-merged checkpoint; detached: the base logits exactly; merged on the GPU: the CPU-merged logits exactly`, async () => {
    const adapter = adapterFor();
    const model = new NativeIdefics3(rt, smolConfig, smolFile);
    const reference = new NativeIdefics3(rt, smolConfig, mergedOnHost(adapter));
    try {
      const base = await alongGolden(model, want, tiles);
      const cpuMerged = await alongGolden(reference, want, tiles);
      const moved = worstRel(cpuMerged, base);
      model.setAdapter(adapter);
      expect(model.hasAdapter).toBe(true);
      const attached = await alongGolden(model, want, tiles);
      model.setAdapter(null);
      expect(model.hasAdapter).toBe(false);
      const restored = await alongGolden(model, want, tiles);
      await model.mergeAdapter(adapter);
      const gpuMerged = await alongGolden(model, want, tiles);
      console.log(
        `native SmolVLM LoRA (rank ${RANK} on ${TARGETS.join(', ')}, ${STEPS} steps): the adapter moves the logits by ${moved.toExponential(2)} of the max; ` +
          `attached vs CPU-merged ${worstRel(attached, cpuMerged).toExponential(2)}; detached vs base ${worstRel(restored, base).toExponential(2)}; GPU-merged vs CPU-merged ${worstRel(gpuMerged, cpuMerged).toExponential(2)}`,
      );
      expect(moved).toBeGreaterThan(1e-2);
      expect(worstRel(attached, cpuMerged)).toBeLessThanOrEqual(UNMERGED_TOL);
      restored.forEach((l, i) => expect(l).toEqual(base[i]));
      gpuMerged.forEach((l, i) => expect(l).toEqual(cpuMerged[i]));
    } finally {
      model.release();
      reference.release();
    }
  });

  it('refuses an adapter of the wrong rank naming the tensor, and one that trains a projector; the engine drops its cached prompt on a change', async () => {
    const engine = new NativeIdefics3Engine(rt, smolConfig, smolFile, {}, 512);
    try {
      const adapter = adapterFor();
      const bad = { ...adapter, config: { ...adapter.config, rank: 2 } };
      expect(() => engine.setAdapter(bad)).toThrow(/adapter tensor base_model\.model\.model\.text_model\.layers\.0\.self_attn\.q_proj\.lora_A\.weight is \[4,\d+\] but this model needs \[2,\d+\]/);
      expect(() => engine.setAdapter({ ...adapter, config: { ...adapter.config, trainProjector: true } })).toThrow(/trains a LLaVA projector/);
      expect(engine.model.hasAdapter).toBe(false);
      const ids = Int32Array.from(golden.input_ids);
      const images = tiles.map((pixels, i) => ({ key: `tile${i}`, pixels }));
      await engine.prefill(ids, images);
      await engine.prefill(ids, images);
      expect(engine.reusedPositions).toBe(ids.length - 1);
      engine.setAdapter(adapter);
      await engine.prefill(ids, images);
      expect(engine.reusedPositions).toBe(0);
    } finally {
      await engine.dispose();
    }
  });
});
