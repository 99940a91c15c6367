/**
 * PEFT's tensor names for an adapter on a Llama decoder and a projector:
 *   base_model.model.<decoder prefix>.model.layers.<i>.<self_attn|mlp>.<target>.lora_A.weight
 *   base_model.model.<projector module path>.weight / .bias (modules_to_save)
 */
import type { LoraTarget } from './types';

export const PEFT_PREFIX = 'base_model.model.';

/** HF module path of a target inside decoder layer i (without the decoder's prefix). */
export function targetModulePath(i: number, target: LoraTarget): string {
  const block = target === 'gate_proj' || target === 'up_proj' || target === 'down_proj' ? 'mlp' : 'self_attn';
  return `model.layers.${i}.${block}.${target}`;
}

export function loraTensorName(decoderPrefix: string, layer: number, target: LoraTarget, which: 'A' | 'B'): string {
  return `${PEFT_PREFIX}${decoderPrefix}.${targetModulePath(layer, target)}.lora_${which}.weight`;
}

export function moduleTensorName(path: string, which: 'weight' | 'bias'): string {
  return `${PEFT_PREFIX}${path}.${which}`;
}
