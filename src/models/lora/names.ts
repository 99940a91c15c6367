/**
 * PEFT's tensor names for an adapter on a Llama decoder and a projector:
 *   base_model.model.<LlamaModel path>.layers.<i>.<self_attn|mlp>.<target>.lora_A.weight
 * (the LlamaModel path is language_model.model in LLaVA, model.text_model in Idefics3)
 *   base_model.model.<projector module path>.weight / .bias (modules_to_save)
 *   base_model.model.<vision encoder path>.layers.<i>.<self_attn|mlp>.<target>.lora_A.weight
 *   base_model.model.<embed_tokens | lm_head path>.token_adapter.trainable_tokens_delta
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

/** HF module path of a vision target inside encoder layer i, under the encoder path. */
export function visionTargetPath(i: number, target: string): string {
  return `layers.${i}.${target.startsWith('fc') ? 'mlp' : 'self_attn'}.${target}`;
}

export function visionLoraTensorName(encoderPath: string, layer: number, target: string, which: 'A' | 'B'): string {
  return `${PEFT_PREFIX}${encoderPath}.${visionTargetPath(layer, target)}.lora_${which}.weight`;
}

/** PEFT's TrainableTokensLayer tensor of an embedding or output layer: the trained rows themselves. */
export const TOKEN_ROWS_SUFFIX = '.token_adapter.trainable_tokens_delta';

export function tokenRowsName(modulePath: string): string {
  return `${PEFT_PREFIX}${modulePath}${TOKEN_ROWS_SUFFIX}`;
}
