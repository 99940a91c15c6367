/**
 * PEFT's tensor names for an adapter on a Llama decoder and a projector:
 *   base_model.model.<LlamaModel path>.layers.<i>.<self_attn|mlp>.<target>.lora_A.weight
 * (the LlamaModel path is language_model.model in LLaVA, model.text_model in Idefics3)
 *   base_model.model.<projector module path>.weight / .bias (modules_to_save)
 */
import type { LoraTarget } from './types';

export const PEFT_PREFIX = 'base_model.model.';

/** HF module path of a target inside decoder layer i, under the LlamaModel path. */
export function targetModulePath(i: number, target: LoraTarget): string {
  const block = target === 'gate_proj' || target === 'up_proj' || target === 'down_proj' ? 'mlp' : 'self_attn';
  return `layers.${i}.${block}.${target}`;
}

export function loraTensorName(modelPath: string, layer: number, target: LoraTarget, which: 'A' | 'B'): string {
  return `${PEFT_PREFIX}${modelPath}.${targetModulePath(layer, target)}.lora_${which}.weight`;
}

export function moduleTensorName(path: string, which: 'weight' | 'bias'): string {
  return `${PEFT_PREFIX}${path}.${which}`;
}
