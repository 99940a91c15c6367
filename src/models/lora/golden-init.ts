/**
 * The engine-independent LoRA init of golden.json's lora block (tools/train
 * golden.py lora_init): Knuth's multiplicative hash of each element's index,
 *   value[e] = scale * (((k * 2654435761) mod 2^32) / 2^32 - 0.5),
 *   k = m * 65536 + e + 1 (e row-major),
 * m = 2 * (targets * layer + target) for A (scale 0.2), m + 1 for B (scale 0.05).
 * Exact in f64, so PyTorch and JS start from the same bits.
 */
import { loraTensorName, visionLoraTensorName } from './names';
import type { LoraAdapterData, LoraConfig, NamedTensor } from './types';

export function hashInit(matrixIndex: number, rows: number, cols: number, scale: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let e = 0; e < out.length; e++) {
    const k = matrixIndex * 65536 + e + 1;
    out[e] = scale * (((k * 2654435761) % 4294967296) / 4294967296 - 0.5);
  }
  return out;
}

/** Shapes of each target's weight, [out, in], for decoder layer i. */
export type TargetShape = (layer: number, target: LoraConfig['targetModules'][number]) => [number, number];

/** The golden init as a PEFT adapter for a decoder whose LlamaModel sits at `modelPath` (e.g. language_model.model). */
export function goldenAdapter(config: LoraConfig, layers: number, modelPath: string, shape: TargetShape): LoraAdapterData {
  const tensors: NamedTensor[] = [];
  let m = 0;
  for (let i = 0; i < layers; i++) {
    for (const target of config.targetModules) {
      const [out, inF] = shape(i, target);
      tensors.push({ name: loraTensorName(modelPath, i, target, 'A'), shape: [config.rank, inF], data: hashInit(m, config.rank, inF, 0.2) });
      tensors.push({ name: loraTensorName(modelPath, i, target, 'B'), shape: [out, config.rank], data: hashInit(m + 1, out, config.rank, 0.05) });
      m += 2;
    }
  }
  return { config, tensors };
}

/**
 * The golden init of vision LoRA matrices, continuing the matrix count after
 * the decoder's (`firstMatrix` = 2 * decoder modules): layers in order, then
 * targets in order; shape(layer, target) is the wrapped linear's [out, in].
 */
export function goldenVisionTensors(config: LoraConfig, encoderPath: string, layers: readonly number[], targets: readonly string[], firstMatrix: number, shape: (layer: number, target: string) => [number, number]): NamedTensor[] {
  const tensors: NamedTensor[] = [];
  let m = firstMatrix;
  for (const i of layers) {
    for (const target of targets) {
      const [out, inF] = shape(i, target);
      tensors.push({ name: visionLoraTensorName(encoderPath, i, target, 'A'), shape: [config.rank, inF], data: hashInit(m, config.rank, inF, 0.2) });
      tensors.push({ name: visionLoraTensorName(encoderPath, i, target, 'B'), shape: [out, config.rank], data: hashInit(m + 1, out, config.rank, 0.05) });
      m += 2;
    }
  }
  return tensors;
}
