/**
 * LoRA at inference on native LLaVA-NeXT: its engine attaches an adapter to
 * the LLaVA parts (NativeLlava's setAdapter) and drops its cached prompt.
 * Attached, an adapter on q_proj and v_proj moves the logits as merging it
 * does; detached, the base logits come back bit for bit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseLlavaConfig } from '../../src/models/config';
import { loraTensorName } from '../../src/models/lora/names';
import type { LoraAdapterData, LoraTarget, NamedTensor } from '../../src/models/lora/types';
import { NativeLlavaNextEngine } from '../../src/models/native/llava-next-engine';
import { SafetensorsFile } from '../../src/models/safetensors';
import type { GpuRuntime } from '../../src/webgpu/runtime';
import { logitsRelError } from '../../src/webgpu/verify/golden';
import { HUB_DIR } from '../helpers/family-golden';
import { testRuntime } from '../helpers/gpu';

const dir = join(HUB_DIR, 'llava-hf-tiny-llava-next');
const config = parseLlavaConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
const file = () => new SafetensorsFile(new Uint8Array(readFileSync(join(dir, 'model.safetensors'))).buffer, 'model.safetensors');
const TARGETS: LoraTarget[] = ['q_proj', 'v_proj'];
const RANK = 2;

function adapter(): LoraAdapterData {
  const t = config.text;
  let s = 7;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.5;
  const tensors: NamedTensor[] = [];
  for (let layer = 0; layer < t.numLayers; layer++) {
    for (const target of TARGETS) {
      const out = (target === 'q_proj' ? t.numHeads : t.numKvHeads) * t.headDim;
      tensors.push({ name: loraTensorName('language_model.model', layer, target, 'A'), shape: [RANK, t.hiddenSize], data: Float32Array.from({ length: RANK * t.hiddenSize }, next) });
      tensors.push({ name: loraTensorName('language_model.model', layer, target, 'B'), shape: [out, RANK], data: Float32Array.from({ length: out * RANK }, next) });
    }
  }
  return { config: { rank: RANK, alpha: 4, dropout: 0, targetModules: TARGETS, trainProjector: false, baseModel: 'tiny-llava-next' }, tensors };
}

let rt: GpuRuntime;
beforeAll(async () => {
  rt = await testRuntime();
});

describe('LoRA on native LLaVA-NeXT', () => {
  it('attached: the logits a merged adapter gives (within 1e-5); detached: the base logits exactly; the cached prompt is dropped on each change', async () => {
    const ids = Int32Array.from({ length: 12 }, (_, i) => 3 + ((i * 7) % 40));
    const engine = new NativeLlavaNextEngine(rt, config, file(), {}, 64);
    const merged = new NativeLlavaNextEngine(rt, config, file(), {}, 64);
    try {
      const base = await engine.prefill(ids, []);
      engine.setAdapter(adapter());
      const attached = await engine.prefill(ids, []);
      expect(engine.reusedPositions).toBe(0);
      engine.setAdapter(null);
      const restored = await engine.prefill(ids, []);
      expect(engine.reusedPositions).toBe(0);
      await merged.mergeAdapter(adapter());
      const folded = await merged.prefill(ids, []);
      const moved = logitsRelError(attached, Array.from(base));
      const rel = logitsRelError(attached, Array.from(folded));
      console.log(`native LLaVA-NeXT LoRA (rank ${RANK} on ${TARGETS.join(', ')}): moves the logits by ${moved.toExponential(2)} of the max; attached vs merged ${rel.toExponential(2)}`);
      expect(moved).toBeGreaterThan(1e-2);
      expect(rel).toBeLessThanOrEqual(1e-5);
      expect(restored).toEqual(base);
    } finally {
      await engine.dispose();
      await merged.dispose();
    }
  });
});
